// Per-kind server behaviour on writes, by kind: the table the generic registry consults
// (./strategy.ts says what each hook may do). Defaults and validation live in src/api; this
// is only what the server itself owns. Guarantees: every kind gets a strategy (GENERIC when
// it has no rules of its own); the only hooks with I/O are a Service's, built around the
// allocator of the registry that asks.
import type { ServiceIpAllocator } from '../service-ips.js';
import { CONTROLLER_STATUS, GENERIC } from './generic.js';
import { NAMESPACE } from './namespace.js';
import { podStrategy, type DefaultTolerations } from './pod.js';
import { serviceStrategy } from './service.js';
import type { Strategy } from './strategy.js';

export type { AfterWrite, Strategy } from './strategy.js';
export type { DeletePlan, DeleteRequest, MarkReason } from './delete-plan.js';
export { mergeForUpdate, tracksGeneration } from './generic.js';
export {
  DEFAULT_NOT_READY_TOLERATION_SECONDS, DEFAULT_TOLERATIONS, DEFAULT_UNREACHABLE_TOLERATION_SECONDS, admitPod, podQosClass, type DefaultTolerations,
} from './pod.js';

/** The strategy of each kind, for one registry (whose allocator the Service strategy uses, and whose toleration defaults the Pod one). */
export function strategyTable(deps: { ips: ServiceIpAllocator; tolerations?: DefaultTolerations }): (kind: string) => Strategy {
  const table = new Map<string, Strategy>([
    ['Deployment', CONTROLLER_STATUS],
    ['ReplicaSet', CONTROLLER_STATUS],
    ['DaemonSet', CONTROLLER_STATUS],
    ['StatefulSet', CONTROLLER_STATUS],
    ['Pod', podStrategy(deps.tolerations)],
    ['Namespace', NAMESPACE],
    ['Service', serviceStrategy(deps.ips)],
  ]);
  return (kind) => table.get(kind) ?? GENERIC;
}
