// Strategic-merge-patch metadata for the built-in kinds Trireme serves: a hand-written
// table of the published Kubernetes `patchStrategy` / `patchMergeKey` struct tags.
//
// Guarantees: every path from a served Kind down to a list with a merge strategy is
// described (Kind -> field -> type name -> field ...); a field the table does not know is
// reported with no strategy, which strategic merge treats as "replace lists, merge maps",
// exactly what Kubernetes does for untagged fields.
// Does not: describe fields that carry no patch tag and lead to no tagged field (they need
// no entry), nor custom resources (Kubernetes rejects strategic merge patches for those).

export type PatchStrategy = 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys';

export interface FieldPatchMeta {
  /** The published `patchStrategy` tag; absent means none (lists replaced, maps merged). */
  strategy?: PatchStrategy;
  /** The published `patchMergeKey`; set for lists of maps merged by key. */
  mergeKey?: string;
  /** Name of the field's type (the element type for lists) in TYPES, to recurse into. */
  type?: string;
}

type TypeTable = Readonly<Record<string, Readonly<Record<string, FieldPatchMeta>>>>;

const objectMeta = { type: 'ObjectMeta' } as const;
const mergeByType: FieldPatchMeta = { strategy: 'merge', mergeKey: 'type' };

/** `TypeName -> field -> meta`; names follow the Kubernetes Go type names. */
const TYPES: TypeTable = {
  // Any object: used for kinds without tagged fields of their own.
  Object: { metadata: objectMeta },
  ObjectMeta: {
    finalizers: { strategy: 'merge' },
    ownerReferences: { strategy: 'merge', mergeKey: 'uid' },
  },

  // core/v1
  Pod: { metadata: objectMeta, spec: { type: 'PodSpec' }, status: { type: 'PodStatus' } },
  PodTemplateSpec: { metadata: objectMeta, spec: { type: 'PodSpec' } },
  PodSpec: {
    volumes: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    initContainers: { strategy: 'merge', mergeKey: 'name', type: 'Container' },
    containers: { strategy: 'merge', mergeKey: 'name', type: 'Container' },
    // EphemeralContainerCommon carries the same tags as Container.
    ephemeralContainers: { strategy: 'merge', mergeKey: 'name', type: 'Container' },
    imagePullSecrets: { strategy: 'merge', mergeKey: 'name' },
    hostAliases: { strategy: 'merge', mergeKey: 'ip' },
    topologySpreadConstraints: { strategy: 'merge', mergeKey: 'topologyKey' },
    schedulingGates: { strategy: 'merge', mergeKey: 'name' },
    resourceClaims: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    // tolerations, readinessGates: no tag (atomic lists, replaced).
  },
  Container: {
    ports: { strategy: 'merge', mergeKey: 'containerPort' },
    env: { strategy: 'merge', mergeKey: 'name' },
    volumeMounts: { strategy: 'merge', mergeKey: 'mountPath' },
    volumeDevices: { strategy: 'merge', mergeKey: 'devicePath' },
    // args, command, envFrom, resizePolicy: no tag (replaced).
  },
  PodStatus: {
    conditions: mergeByType,
    podIPs: { strategy: 'merge', mergeKey: 'ip' },
    hostIPs: { strategy: 'merge', mergeKey: 'ip' },
    resourceClaimStatuses: { strategy: 'merge,retainKeys', mergeKey: 'name' },
    // containerStatuses and friends: no tag (replaced).
  },
  Node: { metadata: objectMeta, spec: { type: 'NodeSpec' }, status: { type: 'NodeStatus' } },
  NodeSpec: { podCIDRs: { strategy: 'merge' } /* taints: no tag */ },
  NodeStatus: { conditions: mergeByType, addresses: mergeByType },
  Service: { metadata: objectMeta, spec: { type: 'ServiceSpec' }, status: { type: 'ServiceStatus' } },
  ServiceSpec: { ports: { strategy: 'merge', mergeKey: 'port' } },
  ServiceStatus: { conditions: mergeByType },
  Namespace: { metadata: objectMeta, status: { type: 'NamespaceStatus' } },
  NamespaceStatus: { conditions: mergeByType },
  ServiceAccount: { metadata: objectMeta, secrets: { strategy: 'merge', mergeKey: 'name' } },
  PersistentVolumeClaim: { metadata: objectMeta, status: { type: 'PersistentVolumeClaimStatus' } },
  PersistentVolumeClaimStatus: { conditions: mergeByType },

  // apps/v1
  Deployment: { metadata: objectMeta, spec: { type: 'DeploymentSpec' }, status: { type: 'DeploymentStatus' } },
  DeploymentSpec: { template: { type: 'PodTemplateSpec' }, strategy: { strategy: 'retainKeys' } },
  DeploymentStatus: { conditions: mergeByType },
  ReplicaSet: { metadata: objectMeta, spec: { type: 'ReplicaSetSpec' }, status: { type: 'ReplicaSetStatus' } },
  ReplicaSetSpec: { template: { type: 'PodTemplateSpec' } },
  ReplicaSetStatus: { conditions: mergeByType },
  DaemonSet: { metadata: objectMeta, spec: { type: 'DaemonSetSpec' }, status: { type: 'DaemonSetStatus' } },
  // updateStrategy carries no patch tag in apps/v1 (only Deployment.spec.strategy is retainKeys).
  DaemonSetSpec: { template: { type: 'PodTemplateSpec' } },
  DaemonSetStatus: { conditions: mergeByType },
  StatefulSet: { metadata: objectMeta, spec: { type: 'StatefulSetSpec' }, status: { type: 'StatefulSetStatus' } },
  // volumeClaimTemplates has no tag: the list is replaced, so its element type is never consulted.
  StatefulSetSpec: { template: { type: 'PodTemplateSpec' }, volumeClaimTemplates: { type: 'PersistentVolumeClaim' } },
  StatefulSetStatus: { conditions: mergeByType },
};

/** Kinds whose root type is not simply the kind's own name (or that have no entry). */
const KIND_ROOT: Readonly<Record<string, string>> = {
  Pod: 'Pod', Node: 'Node', Service: 'Service', Namespace: 'Namespace', ServiceAccount: 'ServiceAccount',
  Deployment: 'Deployment', ReplicaSet: 'ReplicaSet', DaemonSet: 'DaemonSet', StatefulSet: 'StatefulSet',
  PersistentVolumeClaim: 'PersistentVolumeClaim', PodTemplate: 'PodTemplateSpec',
};

/** Root type name for a kind; kinds with no tagged fields beyond metadata map to `Object`. */
export function rootTypeForKind(kind: string): string {
  return KIND_ROOT[kind] ?? 'Object';
}

const NONE: FieldPatchMeta = {};

/** Patch metadata of `field` in type `typeName`; `{}` when the type or field is untagged. */
export function lookupField(typeName: string | undefined, field: string): FieldPatchMeta {
  if (typeName === undefined) return NONE;
  const t = TYPES[typeName];
  if (t === undefined || !Object.hasOwn(t, field)) return NONE;
  return t[field] ?? NONE;
}

/** True when the strategy merges lists (`merge` or `merge,retainKeys`). */
export function mergesLists(meta: FieldPatchMeta): boolean {
  return meta.strategy === 'merge' || meta.strategy === 'merge,retainKeys';
}

/** Every type name in the table (tests check the graph has no dangling references). */
export function knownTypes(): string[] {
  return Object.keys(TYPES);
}

/** The fields of a type (for tests and docs). */
export function fieldsOfType(typeName: string): Readonly<Record<string, FieldPatchMeta>> {
  return TYPES[typeName] ?? {};
}
