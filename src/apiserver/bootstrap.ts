// What every cluster has from its first start: the system namespaces and the `default/kubernetes`
// Service (with Endpoints naming this API server, from which agents learn the servers).
// Idempotent: run on every start by every server; existing objects are left alone except that
// this server's address is added to the `kubernetes` Endpoints, in the subset of its port (one
// subset per port: servers on different ports are each named with their own).
import type { KubeObject } from '../api/object.js';
import { RESOURCES } from '../api/resources.js';
import { isTriremeError } from '../errors.js';
import type { Registry } from './registry.js';
import { DEFAULT_NAMESPACE, NODE_LEASE_NAMESPACE, PUBLIC_NAMESPACE, SYSTEM_NAMESPACE } from '../api/namespaces.js';

const byKind = (kind: string) => RESOURCES.find((r) => r.kind === kind && r.group === '')!;

export const SYSTEM_NAMESPACES = [DEFAULT_NAMESPACE, SYSTEM_NAMESPACE, PUBLIC_NAMESPACE, NODE_LEASE_NAMESPACE];

export async function bootstrapCluster(registry: Registry, server: { ip: string; port: number }): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) await ensure(registry, 'Namespace', undefined, { metadata: { name } });
  await ensure(registry, 'Service', 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: server.port }], sessionAffinity: 'None' },
  });
  const endpoints = byKind('Endpoints');
  const address = { ip: server.ip };
  const port = { name: 'https', port: server.port, protocol: 'TCP' };
  try {
    await registry.readModifyWrite(endpoints, 'default', 'kubernetes', {}, (cur) => {
      const subsets = (cur.subsets as Subset[] | undefined) ?? [];
      const next = withServer(subsets, server.ip, port);
      return next === subsets ? cur : { ...cur, subsets: next };
    });
  } catch (e) {
    if (!isTriremeError(e, 'NotFound')) throw e;
    await ensure(registry, 'Endpoints', 'default', { metadata: { name: 'kubernetes' }, subsets: [{ addresses: [address], ports: [port] }] });
  }
}

interface Subset { addresses?: { ip: string }[]; ports?: { name?: string; port: number; protocol?: string }[] }

/**
 * The subsets with this server's address in the subset of its port (a subset per port, so that
 * addresses × ports names only real servers when servers listen on different ports), and out of
 * any other subset. The same array when nothing changes.
 */
export function withServer(subsets: readonly Subset[], ip: string, port: { name: string; port: number; protocol: string }): Subset[] {
  const has = (s: Subset) => (s.addresses ?? []).some((a) => a.ip === ip);
  const ofPort = (s: Subset) => (s.ports ?? []).some((p) => p.port === port.port);
  if (subsets.some((s) => has(s) && ofPort(s)) && !subsets.some((s) => has(s) && !ofPort(s))) return subsets as Subset[];
  const out = subsets
    .map((s) => (has(s) && !ofPort(s) ? { ...s, addresses: (s.addresses ?? []).filter((a) => a.ip !== ip) } : s))
    .filter((s) => (s.addresses ?? []).length > 0);
  const i = out.findIndex(ofPort);
  if (i >= 0) {
    const s = out[i]!;
    if (!has(s)) out[i] = { ...s, addresses: [...(s.addresses ?? []), { ip }] };
  } else {
    out.push({ addresses: [{ ip }], ports: [port] });
  }
  return out;
}

async function ensure(registry: Registry, kind: string, namespace: string | undefined, obj: KubeObject): Promise<void> {
  try {
    await registry.create(byKind(kind), namespace, obj);
  } catch (e) {
    if (!isTriremeError(e, 'AlreadyExists')) throw e;
  }
}
