// The RBAC informer of one API server: watches Role, ClusterRole, RoleBinding and
// ClusterRoleBinding through the registry's watch caches (no store read per request) and hands
// the authorizer an indexed RbacState, rebuilt at most once per change burst (lazily, on the
// first decision after a change). Guarantees: after `start()` the state reflects the watch
// caches' contents at that moment; later changes are seen once the watch delivers them (the
// same lag as any watch of this server). Does not: wait for other servers' writes.
import type { KubeObject } from '../../api/object.js';
import { findResource, type ResourceInfo } from '../../api/resources.js';
import type { Registry } from '../registry.js';
import { buildRbacState, type RbacState } from './state.js';
import { toBinding, toRole } from '../../api/rbac/types.js';

const GROUP = 'rbac.authorization.k8s.io';
const KINDS = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;
type Kind = (typeof KINDS)[number];

export class RbacCache {
  private readonly objects = new Map<Kind, Map<string, KubeObject>>(KINDS.map((k) => [k, new Map()]));
  private readonly cancels: (() => void)[] = [];
  private state: RbacState | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly registry: Registry) {}

  start(): void {
    for (const kind of KINDS) {
      const info = findResource(GROUP, 'v1', kind) as ResourceInfo;
      const map = this.objects.get(kind)!;
      const w = this.registry.watch(info, undefined, {}, (type, obj) => {
        const key = `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;
        if (type === 'DELETED') map.delete(key);
        else map.set(key, obj);
        this.state = undefined;
        for (const l of this.listeners) l();
      });
      this.cancels.push(() => w.cancel());
    }
  }

  stop(): void {
    for (const c of this.cancels.splice(0)) c();
  }

  /** Called after every change the watch delivers (tests wait on it). */
  onChange(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  current(): RbacState {
    if (this.state) return this.state;
    const list = (k: Kind) => [...this.objects.get(k)!.values()];
    this.state = buildRbacState({
      roles: list('roles').map(toRole), clusterRoles: list('clusterroles').map(toRole),
      roleBindings: list('rolebindings').map(toBinding), clusterRoleBindings: list('clusterrolebindings').map(toBinding),
    });
    return this.state;
  }
}
