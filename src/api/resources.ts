// The resources Trireme serves: one table that discovery, OpenAPI, the generic registry,
// validation and tables all key on. Guarantees: each (group, version, resource) appears once;
// `kind` is unique per group. Does not hold behaviour: per-kind code lives in defaults,
// validation, tables and patch metadata, each keyed by `kind`.

export type Subresource = 'status' | 'scale' | 'binding' | 'eviction' | 'log' | 'exec' | 'finalize';

export interface ResourceInfo {
  group: string; // '' for core
  version: string;
  resource: string; // plural, lower case
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  subresources: Subresource[];
  /** Verbs on the main resource, as discovery lists them. */
  verbs: string[];
}

const allVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function r(
  group: string, version: string, resource: string, kind: string, namespaced: boolean,
  opts: { shortNames?: string[]; categories?: string[]; subresources?: Subresource[]; singular?: string; verbs?: string[] } = {},
): ResourceInfo {
  return {
    group, version, resource, kind, namespaced,
    singular: opts.singular ?? kind.toLowerCase(),
    listKind: `${kind}List`,
    shortNames: opts.shortNames ?? [],
    categories: opts.categories ?? [],
    subresources: opts.subresources ?? [],
    verbs: opts.verbs ?? allVerbs,
  };
}

export const RESOURCES: readonly ResourceInfo[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, { shortNames: ['ns'], subresources: ['status', 'finalize'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] }),
  r('', 'v1', 'pods', 'Pod', true, { shortNames: ['po'], categories: ['all'], subresources: ['status', 'binding', 'eviction', 'log', 'exec'] }),
  r('', 'v1', 'nodes', 'Node', false, { shortNames: ['no'], subresources: ['status'] }),
  r('', 'v1', 'services', 'Service', true, { shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  r('', 'v1', 'endpoints', 'Endpoints', true, { shortNames: ['ep'], singular: 'endpoints' }),
  r('', 'v1', 'configmaps', 'ConfigMap', true, { shortNames: ['cm'] }),
  r('', 'v1', 'secrets', 'Secret', true),
  r('', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { shortNames: ['sa'] }),
  r('apps', 'v1', 'deployments', 'Deployment', true, { shortNames: ['deploy'], categories: ['all'], subresources: ['status', 'scale'] }),
  r('apps', 'v1', 'replicasets', 'ReplicaSet', true, { shortNames: ['rs'], categories: ['all'], subresources: ['status', 'scale'] }),
  r('apps', 'v1', 'daemonsets', 'DaemonSet', true, { shortNames: ['ds'], categories: ['all'], subresources: ['status'] }),
  r('apps', 'v1', 'statefulsets', 'StatefulSet', true, { shortNames: ['sts'], categories: ['all'], subresources: ['status', 'scale'] }),
  r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  r('events.k8s.io', 'v1', 'events', 'Event', true, { shortNames: ['ev'] }),
  r('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  r('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
];

/**
 * The access reviews: create-only, never stored (no store, no watch cache); the API server
 * answers them from its authorizer (src/apiserver/rbac/reviews.ts), as Kubernetes does.
 */
export const REVIEW_RESOURCES: readonly ResourceInfo[] = [
  r('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: ['create'] }),
  r('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: ['create'] }),
];

/**
 * metrics.k8s.io: listed by discovery (kubectl top looks for the group there) but not stored:
 * the API server answers from the agents (src/apiserver/resource-metrics.ts), read-only, as
 * metrics-server does behind the aggregation layer. Never in RESOURCES (no store, no watch cache,
 * no OpenAPI).
 */
export const METRICS_RESOURCES: readonly ResourceInfo[] = [
  r('metrics.k8s.io', 'v1beta1', 'nodes', 'NodeMetrics', false, { verbs: ['get', 'list'] }),
  r('metrics.k8s.io', 'v1beta1', 'pods', 'PodMetrics', true, { verbs: ['get', 'list'] }),
];

/** What discovery lists: the stored resources, then metrics.k8s.io and the reviews. */
export const DISCOVERY_RESOURCES: readonly ResourceInfo[] = [...RESOURCES, ...METRICS_RESOURCES, ...REVIEW_RESOURCES];

export function groupVersion(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? info.version : `${info.group}/${info.version}`;
}

export function findResource(group: string, version: string, resource: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => x.group === group && x.version === version && x.resource === resource);
}

export function findByKind(apiVersion: string, kind: string): ResourceInfo | undefined {
  return RESOURCES.find((x) => groupVersion(x) === apiVersion && x.kind === kind);
}

/** Store key of an object: `/registry/<group-qualified resource>/<namespace>/<name>` (cluster-scoped: no namespace). */
export function storeKey(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${storePrefix(info, namespace)}${name}`;
}

/** Prefix of every key of a resource, or of one namespace of it; always ends with '/'. */
export function storePrefix(info: ResourceInfo, namespace?: string): string {
  const res = info.group === '' ? info.resource : `${info.group}/${info.resource}`;
  return info.namespaced && namespace ? `/registry/${res}/${namespace}/` : `/registry/${res}/`;
}

