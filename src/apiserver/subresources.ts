// Subresources: status (get/update/patch of .status only), scale (autoscaling/v1 Scale view of
// spec.replicas), pods/binding, pods/eviction, namespaces/finalize, and pods/log|exec (which
// need the pod's node agent). Guarantees: a subresource write changes only what it owns.
import type { KubeObject } from '../api/object.js';
import { labelSelectorFromObject, selectorToString } from '../api/selectors.js';
import { TriremeError } from '../errors.js';
import { readBody, sendJson } from './http-util.js';
import { dryRun } from './list-query.js';
import { negotiate } from './negotiate.js';
import { decodeChecked, respondObject, writeOptions, type RequestContext } from './request-context.js';
import { kubeTime } from '../api/time.js';

export async function handleSubresource(ctx: RequestContext): Promise<void> {
  const { ri, info } = ctx;
  const sub = ri.subresource!;
  if (!(info.subresources as string[]).includes(sub) || ri.name === undefined) {
    throw new TriremeError('NotFound', 'the server could not find the requested resource');
  }
  switch (sub) {
    case 'status': return statusSub(ctx);
    case 'scale': return scaleSub(ctx);
    case 'binding': return bindingSub(ctx);
    case 'eviction': return evictionSub(ctx);
    case 'finalize': return finalizeSub(ctx);
    case 'log':
    case 'exec':
      return agentSub(ctx);
    default:
      throw new TriremeError('NotFound', 'the server could not find the requested resource');
  }
}

function notAllowed(ctx: RequestContext): never {
  throw new TriremeError('MethodNotAllowed', `the server does not allow this method on the requested resource (${ctx.ri.verb} ${ctx.info.resource}/${ctx.ri.subresource})`);
}

async function statusSub(ctx: RequestContext): Promise<void> {
  const { ri, registry, info } = ctx;
  const rep = negotiate(ctx.req.headers.accept);
  const opts = { ...writeOptions(ctx, dryRun(ctx.query)), subresource: 'status' as const };
  switch (ri.verb) {
    case 'get':
      return respondObject(ctx, 200, await registry.get(info, ri.namespace, ri.name!), rep);
    case 'update':
      return respondObject(ctx, 200, await registry.update(info, ri.namespace, ri.name!, await decodeChecked(ctx), opts), rep);
    case 'patch': {
      const body = (await readBody(ctx.req)).toString('utf8');
      return respondObject(ctx, 200, await registry.patchChecked(info, ri.namespace, ri.name!, ctx.req.headers['content-type'] ?? '', body, opts), rep);
    }
    default:
      return notAllowed(ctx);
  }
}

interface Scalable { spec?: { replicas?: number; selector?: unknown }; status?: { replicas?: number } }

function toScale(obj: KubeObject): KubeObject {
  const o = obj as KubeObject & Scalable;
  const m = obj.metadata!;
  let selector = '';
  if (o.spec?.selector && typeof o.spec.selector === 'object') selector = selectorToString(labelSelectorFromObject(o.spec.selector as Record<string, unknown>));
  return {
    apiVersion: 'autoscaling/v1', kind: 'Scale',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector },
  };
}

async function scaleSub(ctx: RequestContext): Promise<void> {
  const { ri, registry, info } = ctx;
  const rep = negotiate(ctx.req.headers.accept);
  const respond = (obj: KubeObject) => sendJson(ctx.res, 200, toScale(obj));
  if (rep.as !== 'json' && rep.as !== 'yaml') throw new TriremeError('NotAcceptable', 'scale is served as JSON only');
  const write = (desired: KubeObject) => registry.readModifyWrite(info, ri.namespace, ri.name!, { dryRun: dryRun(ctx.query), fence: ctx.fence }, (current) => {
    const rv = desired.metadata?.resourceVersion;
    if (rv && rv !== current.metadata?.resourceVersion) {
      throw new TriremeError('Conflict', `Operation cannot be fulfilled on ${info.resource}.${info.group} "${ri.name}": the object has been modified; please apply your changes to the latest version and try again`);
    }
    const replicas = (desired.spec as { replicas?: unknown } | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw new TriremeError('Invalid', `Scale.autoscaling "${ri.name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0`, {
        causes: [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }],
      });
    }
    return { ...current, spec: { ...(current.spec as object), replicas } };
  });
  switch (ri.verb) {
    case 'get':
      return respond(await registry.get(info, ri.namespace, ri.name!));
    case 'update':
      return respond(await write(await decodeChecked(ctx)));
    case 'patch': {
      const body = (await readBody(ctx.req)).toString('utf8');
      const ct = ctx.req.headers['content-type'] ?? '';
      const { applyPatch } = await import('../api/patch/apply-patch.js');
      const current = await registry.get(info, ri.namespace, ri.name!);
      const patched = applyPatch(ct, toScale(current), body, 'Scale');
      // The patch applies to the Scale view; only a resourceVersion it names is a precondition.
      const named = (patched.metadata?.resourceVersion !== current.metadata?.resourceVersion) ? patched.metadata?.resourceVersion : undefined;
      return respond(await write({ ...patched, metadata: { ...patched.metadata, resourceVersion: named } }));
    }
    default:
      return notAllowed(ctx);
  }
}

async function bindingSub(ctx: RequestContext): Promise<void> {
  const { ri, registry, info } = ctx;
  if (ri.verb !== 'create') return notAllowed(ctx);
  const binding = await decodeChecked(ctx) as KubeObject & { target?: { name?: string; kind?: string } };
  const node = binding.target?.name;
  if (!node) {
    throw new TriremeError('Invalid', `Binding "${ri.name}" is invalid: target.name: Required value`, { causes: [{ reason: 'FieldValueRequired', field: 'target.name', message: 'Required value' }] });
  }
  await registry.readModifyWrite(info, ri.namespace, ri.name!, { dryRun: dryRun(ctx.query), subresource: 'binding', fence: ctx.fence }, (pod) => {
    const spec = (pod.spec ?? {}) as { nodeName?: string };
    if (pod.metadata?.deletionTimestamp) throw new TriremeError('Conflict', `pod ${ri.name} is being deleted, cannot be assigned to a host`);
    if (spec.nodeName) throw new TriremeError('Conflict', `pod ${ri.name} is already assigned to node "${spec.nodeName}"`, { context: { name: ri.name, kind: 'pods' } });
    const uid = binding.metadata?.uid;
    if (uid && uid !== pod.metadata?.uid) throw new TriremeError('Conflict', `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${pod.metadata?.uid}`);
    const status = { ...((pod.status ?? {}) as { conditions?: { type: string }[] }) };
    const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: kubeTime(registry.clock.now()) } as { type: string });
    return { ...pod, spec: { ...spec, nodeName: node }, status: { ...status, conditions } };
  });
  sendJson(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

async function evictionSub(ctx: RequestContext): Promise<void> {
  const { ri, registry, info } = ctx;
  if (ri.verb !== 'create') return notAllowed(ctx);
  const ev = await decodeChecked(ctx) as KubeObject & { deleteOptions?: { gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } } };
  // No PodDisruptionBudgets are served yet, so every eviction is allowed.
  await registry.delete(info, ri.namespace, ri.name!, { dryRun: dryRun(ctx.query), fence: ctx.fence, gracePeriodSeconds: ev.deleteOptions?.gracePeriodSeconds, preconditions: ev.deleteOptions?.preconditions });
  sendJson(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

async function finalizeSub(ctx: RequestContext): Promise<void> {
  const { ri, registry, info } = ctx;
  if (ri.verb !== 'update') return notAllowed(ctx);
  const incoming = await decodeChecked(ctx);
  const finalizers = (incoming.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [];
  const out = await registry.readModifyWrite(info, undefined, ri.name!, { dryRun: dryRun(ctx.query), subresource: 'finalize', fence: ctx.fence }, (ns) => ({ ...ns, spec: { ...(ns.spec as object), finalizers } }));
  respondObject(ctx, 200, out, negotiate(ctx.req.headers.accept));
}

async function agentSub(ctx: RequestContext): Promise<void> {
  const { ri } = ctx;
  // Exec arrives as a websocket upgrade (server.ts routes it); a plain request cannot carry it.
  if (ri.subresource === 'exec') throw new TriremeError('BadRequest', 'exec needs a websocket upgrade (v5.channel.k8s.io)');
  if (ri.verb !== 'get') return notAllowed(ctx);
  await ctx.proxyToNode.logs(ctx.req, ctx.res, ri.namespace!, ri.name!, ctx.query);
}
