// Discovery documents built from the resource table: the legacy forms (`APIVersions`,
// `APIGroupList`, `APIGroup`, `APIResourceList`) and the aggregated `APIGroupDiscoveryList`
// (apidiscovery.k8s.io/v2 and v2beta1) that kubectl asks for first, over the stored resources and
// metrics.k8s.io (DISCOVERY_RESOURCES). Pure.
import { DISCOVERY_RESOURCES as RESOURCES, groupVersion, type ResourceInfo, type Subresource } from '../api/resources.js';

interface SubresourceShape {
  kind: string;
  group: string;
  version: string;
  verbs: string[];
}

function subresourceShape(info: ResourceInfo, sub: Subresource): SubresourceShape {
  switch (sub) {
    case 'status': return { kind: info.kind, group: info.group, version: info.version, verbs: ['get', 'patch', 'update'] };
    case 'scale': return { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
    case 'binding': return { kind: 'Binding', group: '', version: 'v1', verbs: ['create'] };
    case 'eviction': return { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] };
    case 'log': return { kind: 'Pod', group: '', version: 'v1', verbs: ['get'] };
    case 'exec': return { kind: 'PodExecOptions', group: '', version: 'v1', verbs: ['create', 'get'] };
    case 'finalize': return { kind: 'Namespace', group: '', version: 'v1', verbs: ['update'] };
  }
}

/** The groups we serve, in the order discovery lists them (core first). */
export function servedGroups(): { group: string; versions: string[] }[] {
  const out: { group: string; versions: string[] }[] = [];
  for (const r of RESOURCES) {
    let g = out.find((x) => x.group === r.group);
    if (!g) out.push((g = { group: r.group, versions: [] }));
    if (!g.versions.includes(r.version)) g.versions.push(r.version);
  }
  return out;
}

export function apiVersions(serverAddress: string): unknown {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function apiGroup(group: string, versions: string[]): unknown {
  const vs = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: servedGroups().filter((g) => g.group !== '').map((g) => apiGroup(g.group, g.versions)) };
}

export function apiGroupDoc(group: string): unknown | undefined {
  const g = servedGroups().find((x) => x.group === group && group !== '');
  return g ? { kind: 'APIGroup', apiVersion: 'v1', ...(apiGroup(g.group, g.versions) as object) } : undefined;
}

export function apiResourceList(group: string, version: string): unknown | undefined {
  const infos = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (infos.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const r of infos) {
    resources.push({
      name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs,
      ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
      ...(r.categories.length ? { categories: r.categories } : {}),
    });
    for (const sub of r.subresources) {
      const s = subresourceShape(r, sub);
      resources.push({
        name: `${r.resource}/${sub}`, singularName: '', namespaced: r.namespaced, kind: s.kind, verbs: s.verbs,
        ...(s.group !== r.group || s.version !== r.version ? { group: s.group, version: s.version } : {}),
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

/** Aggregated discovery for `/api` (legacy: the core group) or `/apis` (every named group). */
export function aggregatedDiscovery(legacy: boolean, apiVersion: 'apidiscovery.k8s.io/v2' | 'apidiscovery.k8s.io/v2beta1'): unknown {
  const groups = servedGroups().filter((g) => (g.group === '') === legacy);
  return {
    kind: 'APIGroupDiscoveryList', apiVersion, metadata: {},
    items: groups.map((g) => ({
      metadata: { name: g.group },
      versions: g.versions.map((version) => ({
        version, freshness: 'Current',
        resources: RESOURCES.filter((r) => r.group === g.group && r.version === version).map((r) => ({
          resource: r.resource,
          responseKind: { group: r.group, version: r.version, kind: r.kind },
          scope: r.namespaced ? 'Namespaced' : 'Cluster',
          singularResource: r.singular,
          verbs: r.verbs,
          ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
          ...(r.categories.length ? { categories: r.categories } : {}),
          ...(r.subresources.length ? {
            subresources: r.subresources.map((sub) => {
              const s = subresourceShape(r, sub);
              return { subresource: sub, responseKind: { group: s.group, version: s.version, kind: s.kind }, verbs: s.verbs };
            }),
          } : {}),
        })),
      })),
    })),
  };
}
