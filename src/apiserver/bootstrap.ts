// What every cluster has from its first start: the system namespaces and the `default/kubernetes`
// Service (with Endpoints naming this API server, from which agents learn the servers).
// Idempotent: run on every start by every server; existing objects are left alone except that
// this server's address is added to the `kubernetes` Endpoints.
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
      const subsets = (cur.subsets as { addresses?: { ip: string }[]; ports?: unknown[] }[] | undefined) ?? [];
      const addrs = subsets[0]?.addresses ?? [];
      if (addrs.some((a) => a.ip === server.ip)) return cur;
      return { ...cur, subsets: [{ addresses: [...addrs, address], ports: [port] }] };
    });
  } catch (e) {
    if (!isTriremeError(e, 'NotFound')) throw e;
    await ensure(registry, 'Endpoints', 'default', { metadata: { name: 'kubernetes' }, subsets: [{ addresses: [address], ports: [port] }] });
  }
}

async function ensure(registry: Registry, kind: string, namespace: string | undefined, obj: KubeObject): Promise<void> {
  try {
    await registry.create(byKind(kind), namespace, obj);
  } catch (e) {
    if (!isTriremeError(e, 'AlreadyExists')) throw e;
  }
}
