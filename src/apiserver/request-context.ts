// The pieces every resource request shares, in one leaf module that the resource, subresource
// and watch handlers import (and that imports none of them): the request context, resolving
// the addressed resource, the checked body decode (unknown fields: Strict 400, Warn/Ignore
// pruned, Warn as Warning headers), and the object / PartialObjectMetadata / Table / YAML
// encoders. Guarantees: a body rejected here has changed nothing. Does not: route, or call the
// registry beyond reading its clock.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import type { KubeObject } from '../api/object.js';
import { findResource, groupVersion, type ResourceInfo } from '../api/resources.js';
import { buildTable } from '../api/tables/index.js';
import { TriremeError } from '../errors.js';
import { decodeBody } from './decode-body.js';
import { readBody, sendJson } from './http-util.js';
import { fieldValidation } from './list-query.js';
import type { Representation } from './negotiate.js';
import type { OpenWatches } from './open-watches.js';
import { unknownFields } from './openapi/index.js';
import type { PodProxy } from './pod-proxy.js';
import { pruneFields } from './prune-fields.js';
import type { Registry, WriteFence } from './registry.js';
import type { ResourceRequest } from './request-info.js';

/** One resource request, with the parts of its server that the handlers may use. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  info: ResourceInfo;
  ri: ResourceRequest;
  registry: Registry;
  proxyToNode: PodProxy;
  /** This server's open watch streams (ended when the server stops). */
  watches: OpenWatches;
  /** The request's fence (a mutating request with X-Trireme-Fence): every registry write must carry it. */
  fence?: WriteFence;
  /** Admission of the object a create, update or patch is about to write (RBAC escalation checks); throws to refuse. */
  admit?: (obj: KubeObject) => void;
  /** Admission of the object a write stores, with the current one for an update (NodeRestriction); the registry calls it. */
  admitWrite?: (next: KubeObject, current: KubeObject | undefined) => void;
}

/** The registry's write options of a request: dry run, its fence, its write admission. */
export function writeOptions(ctx: RequestContext, dry: boolean): { dryRun: boolean; fence?: WriteFence; admit?: (next: KubeObject, current: KubeObject | undefined) => void } {
  return { dryRun: dry, fence: ctx.fence, ...(ctx.admitWrite ? { admit: ctx.admitWrite } : {}) };
}

/** The served resource a request names; 404 for an unknown one or a wrong scope. */
export function resolveResource(ri: ResourceRequest): ResourceInfo {
  const info = findResource(ri.group, ri.version, ri.resource);
  if (!info) throw new TriremeError('NotFound', 'the server could not find the requested resource', { context: { kind: ri.resource, group: ri.group } });
  if (info.namespaced !== (ri.namespace !== undefined) && ri.verb !== 'list' && ri.verb !== 'watch' && ri.verb !== 'deletecollection') {
    throw new TriremeError('NotFound', 'the server could not find the requested resource', { context: { kind: ri.resource, group: ri.group } });
  }
  if (!info.namespaced && ri.namespace !== undefined) throw new TriremeError('NotFound', 'the server could not find the requested resource');
  return info;
}

/** Reads, decodes and field-validates a body; Strict turns unknown fields into a 400. */
export async function decodeChecked(ctx: RequestContext): Promise<KubeObject> {
  const decoded = decodeBody(ctx.req.headers['content-type'], await readBody(ctx.req));
  const { obj, warnings } = checkUnknownFields(decoded, fieldValidation(ctx.query), ctx.info);
  addWarnings(ctx.res, warnings);
  return obj;
}

/**
 * Unknown fields: Strict rejects them (400); Warn and Ignore drop them, as Kubernetes does for
 * built-in types, and Warn says so in Warning headers.
 */
export function checkUnknownFields(obj: KubeObject, mode: 'Strict' | 'Warn' | 'Ignore', info: ResourceInfo): { obj: KubeObject; warnings: string[] } {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : groupVersion(info);
  const kind = typeof obj.kind === 'string' ? obj.kind : info.kind;
  const unknown = unknownFields(apiVersion, kind, obj);
  if (unknown.length === 0) return { obj, warnings: [] };
  const messages = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') throw new TriremeError('BadRequest', `strict decoding error: ${messages.join(', ')}`);
  return { obj: pruneFields(obj, unknown), warnings: mode === 'Warn' ? messages : [] };
}

export function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  // A header value carries only printable ASCII: anything else (a field name in another script,
  // say) is written as a JSON \u escape, so a warning never makes the response itself fail.
  res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`));
}

/** `?includeObject=` of a Table request (Metadata unless None or Object is asked for). */
export function includeObject(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject');
  if (v === 'None' || v === 'Object') return v;
  return 'Metadata';
}

/** The PartialObjectMetadata view of an object (meta.k8s.io/<version>). */
export function partial(obj: KubeObject, version: string): unknown {
  return { apiVersion: `meta.k8s.io/${version}`, kind: 'PartialObjectMetadata', metadata: obj.metadata };
}

/** Answers one object in the negotiated representation. */
export function respondObject(ctx: RequestContext, code: number, obj: KubeObject, rep: Representation): void {
  if (rep.as === 'table') {
    const kind = obj.kind ?? ctx.info.kind;
    return sendJson(ctx.res, code, buildTable(kind, obj.apiVersion ?? groupVersion(ctx.info), [obj], {
      now: ctx.registry.clock.now(), includeObject: includeObject(ctx.query), resourceVersion: obj.metadata?.resourceVersion,
    }));
  }
  if (rep.as === 'metadata') return sendJson(ctx.res, code, partial(obj, rep.version));
  sendEncoded(ctx.res, code, obj, rep);
}

/** JSON, or YAML when that was negotiated. */
export function sendEncoded(res: ServerResponse, code: number, body: unknown, rep: Representation): void {
  if (rep.as === 'yaml') {
    const data = Buffer.from(toYaml(body));
    res.writeHead(code, { 'Content-Type': 'application/yaml', 'Content-Length': data.length });
    res.end(data);
    return;
  }
  sendJson(res, code, body);
}
