// The ClusterRole aggregation controller: a ClusterRole with an `aggregationRule` gets, written
// into its `rules`, the union of the rules of every ClusterRole its clusterRoleSelectors match,
// as Kubernetes' clusterrole-aggregation controller does, so `kubectl get clusterrole admin -o
// yaml` shows what `admin` grants.
// Guarantees: one key per aggregated ClusterRole; any ClusterRole change wakes every aggregated
// one (a label added or removed anywhere can change any union); the rules written are the ones
// the authorizer resolves (`aggregateClusterRoles`, transitive, cycles cut, sorted by role name),
// and a role is written only when its stored rules differ. Does not: decide anything for the
// authorizer, which resolves aggregation itself and ignores an aggregated role's own `rules`.
import type { KubeObject } from '../api/object.js';
import type { Informer } from '../client/informer.js';
import { resource } from '../client/resources.js';
import { WorkQueue } from '../client/workqueue.js';
import { isTriremeError } from '../errors.js';
import { aggregateClusterRoles } from '../api/rbac/aggregation.js';
import { toPolicyRule, toRole, type PolicyRule } from '../api/rbac/types.js';
import type { Controller } from './common/controller.js';
import { onEveryChange } from './endpoints.js';
import type { ControllerDeps } from './replicaset.js';

export const CLUSTER_ROLES = resource('rbac.authorization.k8s.io', 'clusterroles');

type ClusterRoleObj = KubeObject & { rules?: unknown[]; aggregationRule?: unknown };

/** A rule in its wire form: empty lists left out, as the API returns them. */
export function wireRule(r: PolicyRule): Record<string, string[]> {
  const out: Record<string, string[]> = { verbs: r.verbs };
  if (r.apiGroups.length) out.apiGroups = r.apiGroups;
  if (r.resources.length) out.resources = r.resources;
  if (r.resourceNames.length) out.resourceNames = r.resourceNames;
  if (r.nonResourceURLs.length) out.nonResourceURLs = r.nonResourceURLs;
  return out;
}

/**
 * The aggregated ClusterRoles whose stored rules differ from the union their selectors give,
 * with the rules to write (pure).
 */
export function planAggregation(clusterRoles: readonly KubeObject[]): Map<string, Record<string, string[]>[]> {
  const roles = clusterRoles.map(toRole);
  const effective = aggregateClusterRoles(new Map(roles.map((r) => [r.name, r])));
  const out = new Map<string, Record<string, string[]>[]>();
  for (const role of roles) {
    if (!role.aggregationSelectors) continue;
    const want = (effective.get(role.name) ?? []).map(wireRule);
    const stored = ((clusterRoles.find((c) => c.metadata?.name === role.name) as ClusterRoleObj | undefined)?.rules ?? []).map((r) => wireRule(toPolicyRule(r)));
    if (JSON.stringify(stored) !== JSON.stringify(want)) out.set(role.name, want);
  }
  return out;
}

export class ClusterRoleAggregationController implements Controller {
  readonly name = 'clusterrole-aggregation';
  readonly queue: WorkQueue;
  private readonly inf: Informer<ClusterRoleObj>;

  constructor(private readonly deps: ControllerDeps) {
    this.queue = new WorkQueue({ clock: deps.clock });
    this.inf = deps.informers.for<ClusterRoleObj>(CLUSTER_ROLES);
    onEveryChange(this.inf, () => this.enqueueAll());
  }

  enqueueAll(): void {
    for (const r of this.inf.list()) if (r.aggregationRule) this.queue.add(r.metadata?.name ?? '');
  }

  async reconcile(name: string): Promise<void> {
    const role = this.inf.get(undefined, name);
    if (!role?.aggregationRule) return;
    const rules = planAggregation(this.inf.list()).get(name);
    if (!rules) return;
    try {
      // An update at the cached resourceVersion: a role changed since is refused (409) and comes
      // back through the informer, so the union is never written over a newer selector.
      await this.deps.client.update<ClusterRoleObj>(CLUSTER_ROLES, undefined, { ...role, rules });
    } catch (err) {
      // Deleted or changed meanwhile: the informer's event brings the key back if still needed.
      if (isTriremeError(err, 'NotFound') || isTriremeError(err, 'Conflict')) return;
      throw err;
    }
    this.deps.logger.info({ clusterRole: name, rules: rules.length }, 'aggregated ClusterRole rules written');
  }
}
