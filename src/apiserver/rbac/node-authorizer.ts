// The node authorizer (Kubernetes' Node authorizer): what a node's credentials — user
// `system:node:<name>` in group `system:nodes` — may do, decided by a pure function of the
// graph (node-graph.ts), the user and the request. A node may:
// - get the Secrets, ConfigMaps and ServiceAccounts that pods bound to it reference;
// - read (get, list, watch) nodes, pods, services, endpoints and endpointslices;
// - create Nodes (NodeRestriction admission, node-restriction.ts, allows only its own), and
//   get, update, patch or delete its own Node and its own Node's status;
// - get, create, update, patch and delete its own Lease in kube-node-lease (a create's name is
//   checked by admission);
// - create pods (admission allows only mirror pods bound to itself), and update, patch, delete
//   or write the status of pods bound to it (admission limits updates to annotations);
// - create, update and patch Events.
// Anything else is "no opinion" (undefined): the next authorizer (RBAC) decides, so an admin may
// still grant nodes more through a binding. Guarantees: a request naming another node's object,
// or a Secret no pod of this node references, gets no grant here. Does not: authorize users not
// named `system:node:<name>` or not in `system:nodes` (no opinion), or PersistentVolumes (not
// served); the graph follows this server's watch cache, so a pod bound a moment ago on another
// server may be seen here a moment later.
import { NODE_LEASE_NAMESPACE } from '../../api/namespaces.js';
import { NODE_USER_PREFIX, NODES_GROUP, type Decision, type UserInfo } from '../auth.js';
import type { PolicyRule } from '../../api/rbac/types.js';
import type { NodeGraphView, ReferencedKind } from './node-graph.js';
import type { Attributes } from './rules.js';

const READ = new Set(['get', 'list', 'watch']);
const READABLE: ReadonlySet<string> = new Set(['/nodes', '/pods', '/services', '/endpoints', 'discovery.k8s.io/endpointslices']);
const GRAPH_KINDS: ReadonlySet<string> = new Set<ReferencedKind>(['secrets', 'configmaps', 'serviceaccounts']);
const EVENT_GROUPS = new Set(['', 'events.k8s.io']);

/** The node a user's credentials belong to; undefined for anyone but a node. */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name === '' ? undefined : name;
}

function allow(why: string): Decision {
  return { allowed: true, reason: `node authorizer: ${why}` };
}

function pods(graph: NodeGraphView, node: string, a: Attributes): Decision | undefined {
  const sub = a.subresource;
  if (sub === undefined && READ.has(a.verb)) return allow('nodes read pods');
  if (sub === undefined && a.verb === 'create') return allow('nodes create mirror pods');
  const bound = a.namespace !== undefined && a.name !== undefined && graph.nodeOfPod(a.namespace, a.name) === node;
  if (!bound) return undefined;
  if (sub === undefined && ['update', 'patch', 'delete'].includes(a.verb)) return allow(`pod ${a.namespace}/${a.name} is bound to node ${node}`);
  if (sub === 'status' && ['get', 'update', 'patch'].includes(a.verb)) return allow(`pod ${a.namespace}/${a.name} is bound to node ${node}`);
  return undefined;
}

function nodes(node: string, a: Attributes): Decision | undefined {
  if (a.subresource === undefined && READ.has(a.verb)) return allow('nodes read nodes');
  if (a.subresource === undefined && a.verb === 'create') return allow('nodes create their own Node');
  if (a.name !== node) return undefined;
  if (a.subresource === undefined && ['update', 'patch', 'delete'].includes(a.verb)) return allow('a node writes its own Node');
  if (a.subresource === 'status' && ['get', 'update', 'patch'].includes(a.verb)) return allow('a node writes its own Node status');
  return undefined;
}

function leases(node: string, a: Attributes): Decision | undefined {
  if (a.namespace !== NODE_LEASE_NAMESPACE || a.subresource !== undefined) return undefined;
  if (a.verb === 'create') return allow('nodes create their own Lease');
  if (a.name === node && ['get', 'update', 'patch', 'delete'].includes(a.verb)) return allow('a node renews its own Lease');
  return undefined;
}

/** The node authorizer's decision; undefined is "no opinion" (not a node, or not a node's request). */
export function authorizeNode(graph: NodeGraphView, user: UserInfo, a: Attributes): Decision | undefined {
  const node = nodeNameOf(user);
  if (node === undefined || a.resource === '') return undefined;
  const gr = `${a.group}/${a.resource}`;
  if (a.group === '' && GRAPH_KINDS.has(a.resource) && a.subresource === undefined) {
    if (a.verb !== 'get' || a.namespace === undefined || a.name === undefined) return undefined;
    return graph.references(node, a.resource as ReferencedKind, a.namespace, a.name)
      ? allow(`a pod bound to node ${node} references ${a.resource} ${a.namespace}/${a.name}`)
      : undefined;
  }
  if (gr === '/pods') return pods(graph, node, a);
  if (gr === '/nodes') return nodes(node, a);
  if (gr === 'coordination.k8s.io/leases') return leases(node, a);
  if (a.resource === 'events' && EVENT_GROUPS.has(a.group) && ['create', 'update', 'patch'].includes(a.verb)) return allow('nodes record events');
  if (READABLE.has(gr) && a.subresource === undefined && READ.has(a.verb)) return allow(`nodes read ${a.resource}`);
  return undefined;
}

/**
 * The node authorizer's rules for one node in RBAC's shape (SelfSubjectRulesReview): the static
 * ones, own-name rules as resourceNames. The graph's grants (Secrets, ConfigMaps,
 * ServiceAccounts, bound pods) change with the pods and are not listed: a review is incomplete.
 */
export function nodeRules(user: UserInfo, namespace: string | undefined): PolicyRule[] {
  const node = nodeNameOf(user);
  if (node === undefined) return [];
  const rule = (verbs: string[], apiGroups: string[], resources: string[], resourceNames: string[] = []): PolicyRule => ({ verbs, apiGroups, resources, resourceNames, nonResourceURLs: [] });
  return [
    rule(['get', 'list', 'watch'], [''], ['nodes', 'pods', 'services', 'endpoints']),
    rule(['get', 'list', 'watch'], ['discovery.k8s.io'], ['endpointslices']),
    rule(['create'], [''], ['nodes', 'pods']),
    rule(['get', 'update', 'patch', 'delete'], [''], ['nodes'], [node]),
    rule(['get', 'update', 'patch'], [''], ['nodes/status'], [node]),
    rule(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']),
    ...(namespace === NODE_LEASE_NAMESPACE ? [
      rule(['create'], ['coordination.k8s.io'], ['leases']),
      rule(['get', 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases'], [node]),
    ] : []),
  ];
}
