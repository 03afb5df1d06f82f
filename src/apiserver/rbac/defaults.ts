// The ClusterRoles and ClusterRoleBindings every cluster starts with: Kubernetes' defaults
// (cluster-admin, admin, edit, view and their aggregate-to-* parts, system:basic-user,
// system:discovery, system:public-info-viewer), and Trireme's component roles, which grant
// exactly what the fixed rule table of ../auth.ts granted those groups (read-only, dashboard,
// dns, the two bootstrappers), and the least-privilege roles of the in-process components
// (COMPONENT_USERS: controller manager, scheduler, DNS add-on, client balancer, alert
// evaluator), each bound to that component's user alone. Every object carries
// `rbac.authorization.kubernetes.io/autoupdate: "true"` and the `kubernetes.io/bootstrapping:
// rbac-defaults` label; reconcile.ts restores them. Guarantees: pure data. Does not: hold the
// node's or system:masters' grants (the node authorizer, rbac/node-authorizer.ts, and the fixed
// authorizer ahead of RBAC hold those, as in Kubernetes).
import { DISCOVERY_RESOURCES, REVIEW_RESOURCES } from '../../api/resources.js';
import type { KubeObject } from '../../api/object.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const RBAC = 'rbac.authorization.k8s.io';
const AGG = `${RBAC}/aggregate-to-`;

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

interface Rule { verbs: string[]; apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }

const res = (verbs: string[], apiGroups: string[], resources: string[]): Rule => ({ verbs, apiGroups, resources });
const urls = (verbs: string[], nonResourceURLs: string[]): Rule => ({ verbs, nonResourceURLs });

function clusterRole(name: string, rules: Rule[], opts: { labels?: Record<string, string>; aggregateFrom?: string } = {}): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRole',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults', ...opts.labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    ...(opts.aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [`${AGG}${opts.aggregateFrom}`]: 'true' } }] } } : {}),
    rules: opts.aggregateFrom ? [] : rules,
  } as KubeObject;
}

function clusterBinding(name: string, role: string, subjects: { kind: 'Group' | 'User'; name: string }[]): KubeObject {
  return {
    apiVersion: `${RBAC}/v1`, kind: 'ClusterRoleBinding',
    metadata: { name, labels: { 'kubernetes.io/bootstrapping': 'rbac-defaults' }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: subjects.map((s) => ({ apiGroup: RBAC, ...s })),
  } as KubeObject;
}

// The fixed table's "reads of everything but secrets and the subresources that reach into
// workloads", spelled out over the served resources (RBAC has no exceptions).
const NOT_READABLE = new Set(['secrets', 'pods/exec', 'pods/attach', 'pods/portforward', 'pods/proxy', 'services/proxy', 'nodes/proxy']);
function readNotSecrets(): Rule[] {
  const byGroup = new Map<string, string[]>();
  for (const r of DISCOVERY_RESOURCES) {
    if (REVIEW_RESOURCES.includes(r)) continue;
    const names = [r.resource, ...r.subresources.map((s) => `${r.resource}/${s}`)].filter((n) => !NOT_READABLE.has(n));
    const list = byGroup.get(r.group) ?? [];
    for (const n of names) if (!list.includes(n)) list.push(n);
    byGroup.set(r.group, list);
  }
  return [...byGroup].map(([g, names]) => res(READ, [g], names));
}

/** The users the in-process components run as (src/cli/server.ts issues their certificates). */
export const COMPONENT_USERS = {
  controllerManager: 'system:kube-controller-manager',
  scheduler: 'system:kube-scheduler',
  dnsAddon: 'system:trireme-addons',
  balancer: 'system:trireme-balancer',
  alerts: 'system:trireme-alerts',
} as const;

const named = (verbs: string[], apiGroups: string[], resources: string[], resourceNames: string[]): Rule => ({ verbs, apiGroups, resources, resourceNames });
const EVENTS = [res(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events'])];
/** Leader election: its own Lease (the namespace is kube-system; a ClusterRole cannot say so). */
const ownLease = (name: string): Rule[] => [res(['create'], ['coordination.k8s.io'], ['leases']), named(['get', 'update', 'patch'], ['coordination.k8s.io'], ['leases'], [name])];

/**
 * The controller manager: the controllers of src/controllers/manager.ts. The garbage collector
 * deletes and updates (finalizers, ownerReferences) any kind it follows, Secrets and ConfigMaps
 * included, as Kubernetes' generic garbage collector may; the ClusterRole aggregation controller
 * writes aggregated ClusterRoles, so it holds `escalate` on them.
 */
function controllerManagerRules(): Rule[] {
  return [
    res([...READ, 'update', 'patch', 'delete'], [''], ['pods', 'configmaps', 'secrets', 'services', 'endpoints', 'nodes']),
    res([...READ, 'update', 'patch', 'delete'], ['apps'], ['deployments', 'replicasets', 'daemonsets', 'statefulsets']),
    res([...READ, 'update', 'patch', 'delete'], ['discovery.k8s.io'], ['endpointslices']),
    res([...READ, 'update', 'patch', 'delete'], ['coordination.k8s.io'], ['leases']),
    res(['create'], [''], ['pods', 'endpoints']),
    res(['create'], ['apps'], ['replicasets']),
    res(['create'], ['discovery.k8s.io'], ['endpointslices']),
    res(['get', 'update', 'patch'], [''], ['pods/status', 'nodes/status']),
    res(['get', 'update', 'patch'], ['apps'], ['deployments/status', 'replicasets/status', 'daemonsets/status', 'statefulsets/status']),
    res(READ, [''], ['namespaces']),
    res([...READ, 'update', 'patch', 'escalate'], [RBAC], ['clusterroles']),
    ...EVENTS,
    ...ownLease('kube-controller-manager'),
  ];
}

/** Kubernetes' system:kube-scheduler, cut to what src/scheduler reads and writes. */
function schedulerRules(): Rule[] {
  return [
    res(READ, [''], ['pods', 'nodes', 'namespaces', 'services']),
    res(['create'], [''], ['pods/binding']),
    res(['update', 'patch'], [''], ['pods/status']),
    ...EVENTS,
    ...ownLease('kube-scheduler'),
  ];
}

/**
 * The DNS add-on's reconciler (src/dns/addon/reconciler.ts): it keeps kube-system's coredns
 * Deployment, kube-dns Service and the replicas' kubeconfig Secret, counts nodes and reads the
 * API servers' Endpoints. (A ClusterRole cannot limit it to kube-system.)
 */
function dnsAddonRules(): Rule[] {
  return [
    res(['list'], [''], ['nodes']),
    named(['get'], [''], ['endpoints'], ['kubernetes']),
    res(['get', 'create', 'update', 'delete'], [''], ['services', 'secrets']),
    res(['get', 'create', 'update', 'delete'], ['apps'], ['deployments']),
  ];
}

const PUBLIC_INFO = ['/healthz', '/livez', '/readyz', '/version', '/version/', '/cacerts'];
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';

export function defaultClusterRoles(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [res(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], { aggregateFrom: 'admin' }),
    clusterRole('edit', [], { aggregateFrom: 'edit', labels: { [`${AGG}admin`]: 'true' } }),
    clusterRole('view', [], { aggregateFrom: 'view', labels: { [`${AGG}edit`]: 'true' } }),
    clusterRole('system:aggregate-to-admin', [
      res(['create'], ['authorization.k8s.io'], ['localsubjectaccessreviews']),
      res([...READ, ...WRITE], [RBAC], ['rolebindings', 'roles']),
    ], { labels: { [`${AGG}admin`]: 'true' } }),
    clusterRole('system:aggregate-to-edit', [
      res(READ, [''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy']),
      res(['impersonate'], [''], ['serviceaccounts']),
      res(WRITE, [''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy']),
      res(['create'], [''], ['pods/eviction']),
      res(WRITE, [''], ['configmaps', 'endpoints', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy']),
      res(['create'], [''], ['serviceaccounts/token']),
      res(WRITE, ['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale']),
      res(WRITE, ['autoscaling'], ['horizontalpodautoscalers']),
      res(WRITE, ['batch'], ['cronjobs', 'jobs']),
      res(WRITE, ['policy'], ['poddisruptionbudgets']),
      res(WRITE, ['networking.k8s.io'], ['ingresses', 'networkpolicies']),
      res(WRITE, ['coordination.k8s.io'], ['leases']),
      res(WRITE, ['discovery.k8s.io'], ['endpointslices']),
    ], { labels: { [`${AGG}edit`]: 'true' } }),
    clusterRole('system:aggregate-to-view', [
      res(READ, [''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status']),
      res(READ, [''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status']),
      res(READ, [''], ['namespaces']),
      res(READ, ['discovery.k8s.io'], ['endpointslices']),
      res(READ, ['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status']),
      res(READ, ['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
      res(READ, ['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status']),
      res(READ, ['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
      res(READ, ['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies']),
      res(READ, ['coordination.k8s.io'], ['leases']),
      res(READ, ['events.k8s.io'], ['events']),
    ], { labels: { [`${AGG}view`]: 'true' } }),
    clusterRole('system:basic-user', [
      res(['create'], ['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      res(['create'], ['authentication.k8s.io'], ['selfsubjectreviews']),
    ]),
    clusterRole('system:discovery', [urls(['get'], ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/', '/cacerts'])]),
    clusterRole('system:public-info-viewer', [urls(['get'], PUBLIC_INFO)]),
    clusterRole('trireme:read-only', readNotSecrets()),
    clusterRole('trireme:dashboard', [...readNotSecrets(), urls(['get'], ['/trireme/v1/cluster', '/trireme/v1/cluster/doctor'])]),
    clusterRole('trireme:dns', [res(READ, [''], ['endpoints', 'pods', 'services'])]),
    clusterRole('system:node-bootstrapper', [urls(['post'], ['/trireme/v1/node-credentials'])]),
    clusterRole('trireme:server-bootstrapper', [urls(['post'], ['/trireme/v1/server-join'])]),
    clusterRole(COMPONENT_USERS.controllerManager, controllerManagerRules()),
    clusterRole(COMPONENT_USERS.scheduler, schedulerRules()),
    clusterRole(COMPONENT_USERS.dnsAddon, dnsAddonRules()),
    // The client balancer (src/client/balancer.ts) learns the servers from default/kubernetes.
    clusterRole(COMPONENT_USERS.balancer, [named(['get'], [''], ['endpoints'], ['kubernetes'])]),
    // The alert evaluator scrapes every server's /metrics.
    clusterRole(COMPONENT_USERS.alerts, [urls(['get'], ['/metrics'])]),
  ];
}

export function defaultClusterRoleBindings(): KubeObject[] {
  return [
    clusterBinding('cluster-admin', 'cluster-admin', [{ kind: 'Group', name: 'system:masters' }]),
    clusterBinding('system:basic-user', 'system:basic-user', [{ kind: 'Group', name: AUTHENTICATED }]),
    clusterBinding('system:discovery', 'system:discovery', [{ kind: 'Group', name: AUTHENTICATED }]),
    clusterBinding('system:public-info-viewer', 'system:public-info-viewer', [{ kind: 'Group', name: AUTHENTICATED }, { kind: 'Group', name: UNAUTHENTICATED }]),
    clusterBinding('trireme:read-only', 'trireme:read-only', [{ kind: 'Group', name: 'trireme:read-only' }]),
    clusterBinding('trireme:dashboard', 'trireme:dashboard', [{ kind: 'Group', name: 'trireme:dashboard' }]),
    clusterBinding('trireme:dns', 'trireme:dns', [{ kind: 'Group', name: 'trireme:dns' }]),
    clusterBinding('system:node-bootstrapper', 'system:node-bootstrapper', [{ kind: 'Group', name: 'system:bootstrappers' }]),
    clusterBinding('trireme:server-bootstrapper', 'trireme:server-bootstrapper', [{ kind: 'Group', name: 'system:bootstrappers' }]),
    ...Object.values(COMPONENT_USERS).map((user) => clusterBinding(user, user, [{ kind: 'User', name: user }])),
  ];
}
