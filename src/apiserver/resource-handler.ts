// HTTP verbs on resources: turns a parsed ResourceRequest into registry calls and encodes the
// answer (JSON, YAML, Table or metadata). Guarantees: every failure is answered with a Status;
// a request rejected here has changed nothing.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { stringify as toYaml } from 'yaml';
import type { KubeObject } from '../api/object.js';
import { findResource, groupVersion, type ResourceInfo } from '../api/resources.js';
import { buildTable } from '../api/tables/index.js';
import { TriremeError } from '../errors.js';
import { decodeBody } from './decode-body.js';
import { readBody, sendJson } from './http-util.js';
import { dryRun, fieldValidation, intParam, objectFilter } from './list-query.js';
import { negotiate, type Representation } from './negotiate.js';
import { unknownFields } from './openapi/index.js';
import { pruneFields } from './prune-fields.js';
import type { DeleteOptions, Registry } from './registry.js';
import type { PodProxy } from './pod-proxy.js';
import type { ResourceRequest } from './request-info.js';
import { statusSuccess } from './status.js';
import { handleSubresource } from './subresources.js';
import { serveWatch } from './watch-handler.js';

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  info: ResourceInfo;
  ri: ResourceRequest;
  registry: Registry;
  proxyToNode: PodProxy;
}

export function resolveResource(ri: ResourceRequest): ResourceInfo {
  const info = findResource(ri.group, ri.version, ri.resource);
  if (!info) throw new TriremeError('NotFound', 'the server could not find the requested resource', { context: { kind: ri.resource, group: ri.group } });
  if (info.namespaced !== (ri.namespace !== undefined) && ri.verb !== 'list' && ri.verb !== 'watch' && ri.verb !== 'deletecollection') {
    throw new TriremeError('NotFound', 'the server could not find the requested resource', { context: { kind: ri.resource, group: ri.group } });
  }
  if (!info.namespaced && ri.namespace !== undefined) throw new TriremeError('NotFound', 'the server could not find the requested resource');
  return info;
}

export async function handleResource(ctx: RequestContext): Promise<void> {
  const { ri, query, registry, info } = ctx;
  if (ri.subresource !== undefined) return handleSubresource(ctx);
  const rep = negotiate(ctx.req.headers.accept);
  switch (ri.verb) {
    case 'get': {
      const obj = await registry.get(info, ri.namespace, ri.name!);
      return respondObject(ctx, 200, obj, rep);
    }
    case 'list': {
      const filter = objectFilter(info, query);
      const answer = await registry.list(info, ri.namespace, {
        filter, limit: intParam(query, 'limit'), continueToken: query.get('continue') ?? undefined,
        resourceVersion: query.get('resourceVersion') ?? undefined,
      });
      if (rep.as === 'table') {
        return sendJson(ctx.res, 200, buildTable(info.kind, groupVersion(info), answer.items, {
          now: registry.clock.now(), includeObject: includeObject(query),
          resourceVersion: String(answer.revision), continueToken: answer.continueToken, remainingItemCount: answer.remainingItemCount,
        }));
      }
      const metadata: Record<string, unknown> = { resourceVersion: String(answer.revision) };
      if (answer.continueToken) metadata.continue = answer.continueToken;
      if (answer.remainingItemCount !== undefined) metadata.remainingItemCount = answer.remainingItemCount;
      if (rep.as === 'metadata') {
        return sendJson(ctx.res, 200, { apiVersion: `meta.k8s.io/${rep.version}`, kind: 'PartialObjectMetadataList', metadata, items: answer.items.map((o) => partial(o, rep.version)) });
      }
      return sendEncoded(ctx.res, 200, { apiVersion: groupVersion(info), kind: info.listKind, metadata, items: answer.items }, rep);
    }
    case 'watch':
      return serveWatch(ctx, rep);
    case 'create': {
      const obj = await decodeChecked(ctx);
      const created = await registry.create(info, ri.namespace, obj, { dryRun: dryRun(query) });
      return respondObject(ctx, 201, created, rep);
    }
    case 'update': {
      const obj = await decodeChecked(ctx);
      const updated = await registry.update(info, ri.namespace, ri.name!, obj, { dryRun: dryRun(query) });
      return respondObject(ctx, 200, updated, rep);
    }
    case 'patch': {
      const body = (await readBody(ctx.req)).toString('utf8');
      const ct = ctx.req.headers['content-type'];
      const opts = { dryRun: dryRun(query) };
      const validation = fieldValidation(query);
      let warnings: string[] = [];
      const check = (patched: KubeObject) => {
        const checked = checkUnknownFields(patched, validation, info);
        warnings = checked.warnings;
        return checked.obj;
      };
      let out: KubeObject;
      try {
        out = await registry.patchChecked(info, ri.namespace, ri.name!, ct ?? '', body, opts, check);
      } catch (e) {
        // Server-side apply creates the object when it does not exist yet.
        if (!(e instanceof TriremeError && e.code === 'NotFound' && (ct ?? '').startsWith('application/apply-patch'))) throw e;
        const obj = check(decodeBody('application/yaml', Buffer.from(body)));
        out = await registry.create(info, ri.namespace, obj, opts);
        addWarnings(ctx.res, warnings);
        return respondObject(ctx, 201, out, rep);
      }
      addWarnings(ctx.res, warnings);
      return respondObject(ctx, 200, out, rep);
    }
    case 'delete': {
      const opts = await deleteOptions(ctx);
      const { object, deleted } = await registry.delete(info, ri.namespace, ri.name!, opts);
      return respondObject(ctx, deleted ? 200 : 202, object, rep);
    }
    case 'deletecollection': {
      const opts = await deleteOptions(ctx);
      const filter = objectFilter(info, query);
      const { items } = await registry.list(info, ri.namespace, { filter });
      const out: KubeObject[] = [];
      for (const it of items) {
        try {
          out.push((await registry.delete(info, it.metadata!.namespace, it.metadata!.name!, opts)).object);
        } catch (e) {
          if (!(e instanceof TriremeError && e.code === 'NotFound')) throw e;
        }
      }
      return sendEncoded(ctx.res, 200, { apiVersion: groupVersion(info), kind: info.listKind, metadata: {}, items: out }, rep);
    }
  }
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
function checkUnknownFields(obj: KubeObject, mode: 'Strict' | 'Warn' | 'Ignore', info: ResourceInfo): { obj: KubeObject; warnings: string[] } {
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : groupVersion(info);
  const kind = typeof obj.kind === 'string' ? obj.kind : info.kind;
  const unknown = unknownFields(apiVersion, kind, obj);
  if (unknown.length === 0) return { obj, warnings: [] };
  const messages = unknown.map((f) => `unknown field "${f}"`);
  if (mode === 'Strict') throw new TriremeError('BadRequest', `strict decoding error: ${messages.join(', ')}`);
  return { obj: pruneFields(obj, unknown), warnings: mode === 'Warn' ? messages : [] };
}

function addWarnings(res: ServerResponse, warnings: string[]): void {
  if (warnings.length === 0) return;
  res.setHeader('Warning', warnings.map((w) => `299 - ${JSON.stringify(w)}`));
}

async function deleteOptions(ctx: RequestContext): Promise<DeleteOptions> {
  const raw = await readBody(ctx.req);
  let body: Record<string, unknown> = {};
  if (raw.length > 0) body = decodeBody(ctx.req.headers['content-type'] ?? 'application/json', raw) as Record<string, unknown>;
  const q = ctx.query;
  const opts: DeleteOptions = { dryRun: dryRun(q) || (Array.isArray(body.dryRun) && body.dryRun.includes('All')) };
  const grace = intParam(q, 'gracePeriodSeconds') ?? (typeof body.gracePeriodSeconds === 'number' ? body.gracePeriodSeconds : undefined);
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const policy = q.get('propagationPolicy') ?? (typeof body.propagationPolicy === 'string' ? body.propagationPolicy : undefined);
  if (policy !== undefined && policy !== null) {
    if (policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
      throw new TriremeError('BadRequest', `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    opts.propagationPolicy = policy;
  } else if (body.orphanDependents === true) {
    opts.propagationPolicy = 'Orphan';
  }
  if (body.preconditions && typeof body.preconditions === 'object') opts.preconditions = body.preconditions as DeleteOptions['preconditions'];
  return opts;
}

function includeObject(q: URLSearchParams): 'None' | 'Metadata' | 'Object' {
  const v = q.get('includeObject');
  if (v === 'None' || v === 'Object') return v;
  return 'Metadata';
}

function partial(obj: KubeObject, version: string): unknown {
  return { apiVersion: `meta.k8s.io/${version}`, kind: 'PartialObjectMetadata', metadata: obj.metadata };
}

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

export function sendEncoded(res: ServerResponse, code: number, body: unknown, rep: Representation): void {
  if (rep.as === 'yaml') {
    const data = Buffer.from(toYaml(body));
    res.writeHead(code, { 'Content-Type': 'application/yaml', 'Content-Length': data.length });
    res.end(data);
    return;
  }
  sendJson(res, code, body);
}

export { statusSuccess };
