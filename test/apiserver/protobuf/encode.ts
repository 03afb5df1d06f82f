// Test helper: builds protobuf request bodies the way a Kubernetes client does (magic prefix,
// runtime.Unknown envelope, object message), using protobufjs and our schema. Objects are given
// in their protobuf shape (Time as {seconds, nanos}, Quantity as {string}, bytes as Buffer…).
import { schemaRoot } from '../../../src/apiserver/protobuf/schema.js';

export const MAGIC = Buffer.from('k8s\0', 'latin1');

export function encodeMessage(messageName: string, fields: Record<string, unknown>): Buffer {
  const type = schemaRoot().lookupType(messageName);
  const err = type.verify(fields);
  if (err !== null) throw new Error(`bad test object for ${messageName}: ${err}`);
  return Buffer.from(type.encode(type.fromObject(fields)).finish());
}

export function envelope(apiVersion: string, kind: string, raw: Buffer, extra: Record<string, unknown> = {}): Buffer {
  const unknown = encodeMessage('k8s.io.apimachinery.pkg.runtime.Unknown', { typeMeta: { apiVersion, kind }, raw, ...extra });
  return Buffer.concat([MAGIC, unknown]);
}

export function body(apiVersion: string, kind: string, messageName: string, fields: Record<string, unknown>): Buffer {
  return envelope(apiVersion, kind, encodeMessage(messageName, fields));
}
