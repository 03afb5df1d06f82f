// Services: ClusterIP and NodePort allocation around the generic writes. The rules are pure
// (a new Service starts with an empty load-balancer status; an update keeps allocated values
// the client left out); the allocation itself is I/O through the registry's
// ServiceIpAllocator (../service-ips.ts), handed in when the strategy is built.
// Guarantees: what `reserve` took is released when the create is not stored and when the
// Service is removed (by a delete, or by the update that drops its last finalizer).
// Does not: change allocations on update (type or port changes keep what was allocated).
import type { KubeObject } from '../../api/object.js';
import type { ServiceIpAllocator } from '../service-ips.js';
import { GENERIC } from './generic.js';
import type { Strategy } from './strategy.js';

interface ServicePort { port?: number; nodePort?: number }
interface ServiceSpec { clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[] }

/** On update, values the client omitted stay as allocated (as Kubernetes does for PUT without them). */
export function keepAllocated(next: KubeObject, old: KubeObject): KubeObject {
  const n: ServiceSpec = { ...((next.spec ?? {}) as ServiceSpec) };
  const o = (old.spec ?? {}) as ServiceSpec;
  if (!n.clusterIP && o.clusterIP) n.clusterIP = o.clusterIP;
  if (!n.clusterIPs && o.clusterIPs) n.clusterIPs = o.clusterIPs;
  if (n.ports) {
    n.ports = n.ports.map((p) => {
      if (p.nodePort) return p;
      const same = (o.ports ?? []).find((q) => q.port === p.port);
      return same?.nodePort ? { ...p, nodePort: same.nodePort } : p;
    });
  }
  return { ...next, spec: n };
}

export function serviceStrategy(ips: ServiceIpAllocator): Strategy {
  return {
    ...GENERIC,
    prepareCreate: (obj) => ({ ...obj, status: { loadBalancer: {} } }),
    prepareUpdate: keepAllocated,
    async reserve(obj, dryRun) {
      const out = structuredClone(obj);
      await ips.allocateFor(out, dryRun);
      return out;
    },
    afterWrite: (_what, obj) => ips.release(obj),
  };
}
