// What every cluster has from its first start: the system namespaces and the `default/kubernetes`
// Service, on the first address of the service range (as in Kubernetes). Its Endpoints (the live API servers, from which agents learn the servers) are kept by
// endpoints-reconciler.ts. Idempotent: run on every start by every server; existing objects are
// left alone.
import type { KubeObject } from '../api/object.js';
import { RESOURCES } from '../api/resources.js';
import { isTriremeError } from '../errors.js';
import type { Registry } from './registry.js';
import { kubernetesServiceIp, type ServiceRange } from '../api/service-range.js';
import { DEFAULT_NAMESPACE, NODE_LEASE_NAMESPACE, PUBLIC_NAMESPACE, SYSTEM_NAMESPACE } from '../api/namespaces.js';

const byKind = (kind: string) => RESOURCES.find((r) => r.kind === kind && r.group === '')!;

export const SYSTEM_NAMESPACES = [DEFAULT_NAMESPACE, SYSTEM_NAMESPACE, PUBLIC_NAMESPACE, NODE_LEASE_NAMESPACE];

export async function bootstrapCluster(registry: Registry, server: { ip: string; port: number }, range: ServiceRange): Promise<void> {
  for (const name of SYSTEM_NAMESPACES) await ensure(registry, 'Namespace', undefined, { metadata: { name } });
  await ensure(registry, 'Service', 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: kubernetesServiceIp(range), ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: server.port }], sessionAffinity: 'None' },
  });
}

async function ensure(registry: Registry, kind: string, namespace: string | undefined, obj: KubeObject): Promise<void> {
  try {
    await registry.create(byKind(kind), namespace, obj);
  } catch (e) {
    if (!isTriremeError(e, 'AlreadyExists')) throw e;
  }
}
