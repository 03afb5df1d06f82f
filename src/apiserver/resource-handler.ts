// HTTP verbs on a resource itself (get, list, create, update, patch, delete, deletecollection):
// turns a parsed ResourceRequest into registry calls and encodes the answer (JSON, YAML, Table
// or metadata). Subresources and watches have their own handlers (handler.ts routes); the
// pieces they share live in request-context.ts. Guarantees: every failure is thrown as a
// TriremeError for the caller to answer as a Status; a request rejected here has changed nothing.
import type { KubeObject } from '../api/object.js';
import { groupVersion } from '../api/resources.js';
import { buildTable } from '../api/tables/index.js';
import { TriremeError } from '../errors.js';
import { decodeBody } from './decode-body.js';
import { readBody, sendJson } from './http-util.js';
import { dryRun, fieldValidation, intParam, objectFilter } from './list-query.js';
import { negotiate } from './negotiate.js';
import type { DeleteOptions } from './registry.js';
import { addWarnings, checkUnknownFields, decodeChecked, includeObject, partial, respondObject, sendEncoded, writeOptions, type RequestContext } from './request-context.js';

export async function handleResource(ctx: RequestContext): Promise<void> {
  const { ri, query, registry, info } = ctx;
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
      if (answer.warning) addWarnings(ctx.res, [answer.warning]);
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
    case 'create': {
      const obj = await decodeChecked(ctx);
      ctx.admit?.(obj);
      const created = await registry.create(info, ri.namespace, obj, writeOptions(ctx, dryRun(query)));
      return respondObject(ctx, 201, created, rep);
    }
    case 'update': {
      const obj = await decodeChecked(ctx);
      ctx.admit?.(obj);
      const updated = await registry.update(info, ri.namespace, ri.name!, obj, writeOptions(ctx, dryRun(query)));
      return respondObject(ctx, 200, updated, rep);
    }
    case 'patch': {
      const body = (await readBody(ctx.req)).toString('utf8');
      const ct = ctx.req.headers['content-type'];
      const opts = writeOptions(ctx, dryRun(query));
      const validation = fieldValidation(query);
      let warnings: string[] = [];
      const check = (patched: KubeObject) => {
        const checked = checkUnknownFields(patched, validation, info);
        warnings = checked.warnings;
        ctx.admit?.(checked.obj);
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
    case 'watch':
      // handler.ts sends watches to watch-handler.ts; reaching here is a routing bug.
      throw new TriremeError('Internal', 'a watch request reached the resource handler');
  }
}

async function deleteOptions(ctx: RequestContext): Promise<DeleteOptions> {
  const raw = await readBody(ctx.req);
  let body: Record<string, unknown> = {};
  if (raw.length > 0) body = decodeBody(ctx.req.headers['content-type'] ?? 'application/json', raw) as Record<string, unknown>;
  const q = ctx.query;
  const opts: DeleteOptions = { dryRun: dryRun(q) || (Array.isArray(body.dryRun) && body.dryRun.includes('All')), fence: ctx.fence };
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
