// Decodes a request body in the Kubernetes protobuf encoding (`application/vnd.kubernetes.protobuf`):
// the 4 bytes `k8s\0`, then a runtime.Unknown envelope {typeMeta{apiVersion, kind}, raw,
// contentEncoding, contentType} whose `raw` is the object's own message. Guarantees: the result
// is the object as Kubernetes JSON (see to-json.ts) with `apiVersion`/`kind` from the envelope;
// fields unknown to our schema are skipped. Errors: BadRequest for a missing prefix, bytes that do
// not parse or an encoded (compressed) payload; UnsupportedMediaType for a kind without schema.
// Does not encode: we always answer in JSON.
import protobuf from 'protobufjs';
import { TriremeError } from '../../errors.js';
import type { KubeObject } from '../../api/object.js';
import { messageFor, unknownType } from './schema.js';
import { messageToJson } from './to-json.js';

export const KUBE_PROTOBUF = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from('k8s\0', 'latin1');

/** True for `application/vnd.kubernetes.protobuf`, whatever its parameters or letter case. */
export function isKubeProtobuf(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  return (contentType.split(';')[0] ?? '').trim().toLowerCase() === KUBE_PROTOBUF;
}

export function decodeKubeProtobuf(body: Uint8Array): KubeObject {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.length);
  if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new TriremeError('BadRequest', 'protobuf body does not start with the Kubernetes magic prefix "k8s\\x00"');
  }
  const envelope = decodeMessage(unknownType(), buf.subarray(MAGIC.length), 'runtime.Unknown envelope');
  const typeMeta = isRecord(envelope['typeMeta']) ? envelope['typeMeta'] : {};
  const apiVersion = typeof typeMeta['apiVersion'] === 'string' ? typeMeta['apiVersion'] : '';
  const kind = typeof typeMeta['kind'] === 'string' ? typeMeta['kind'] : '';
  if (kind === '') throw new TriremeError('BadRequest', 'protobuf envelope names no kind');
  const encoding = envelope['contentEncoding'];
  if (typeof encoding === 'string' && encoding !== '') {
    throw new TriremeError('BadRequest', `protobuf envelope content encoding "${encoding}" is not supported`);
  }
  const type = messageFor(apiVersion, kind);
  if (type === undefined) {
    throw new TriremeError('UnsupportedMediaType', `no protobuf schema for kind ${kind} in ${apiVersion || 'no apiVersion'}; send it as application/json`, { context: { apiVersion, kind } });
  }
  const raw = envelope['raw'] instanceof Uint8Array ? envelope['raw'] : new Uint8Array(0);
  const msg = decodeMessage(type, raw, `${kind} object`);
  const json = messageToJson(type, msg);
  return { apiVersion, kind, ...(isRecord(json) ? json : {}) };
}

function decodeMessage(type: protobuf.Type, bytes: Uint8Array, what: string): Record<string, unknown> {
  try {
    return type.decode(bytes) as unknown as Record<string, unknown>;
  } catch (e) {
    throw new TriremeError('BadRequest', `malformed protobuf in ${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
