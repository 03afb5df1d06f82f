// EndpointSlices (discovery.k8s.io/v1), pure: which endpoints a Service's slices hold, and how
// to bring its existing slices there with few writes. Shared by the EndpointSlice controller
// (Services with a selector) and the mirroring controller (hand-made Endpoints of Services
// without one).
// Guarantees:
// - An endpoint per admitted pod (terminating pods included, as Kubernetes): addresses [podIP],
//   conditions serving = Ready (or publishNotReadyAddresses), ready = serving and not
//   terminating (or publishNotReadyAddresses), terminating = deletionTimestamp set; hostname,
//   nodeName, targetRef as in Endpoints. Ports are the pod's (allocated) ports per Service port.
// - Slices hold one address type and one port set; endpoints with different port sets (on the
//   process runtime each pod has its own host ports) go to different slices; at most
//   MAX_ENDPOINTS_PER_SLICE (100) endpoints per slice.
// - planSlices keeps every endpoint that stays in the slice it is in, fills existing slices of
//   its group before creating new ones, deletes slices left empty or of a vanished group, and
//   writes a slice only when its endpoints, ports, labels or owner differ. With no endpoint at
//   all, a Service keeps one empty placeholder slice, as in Kubernetes (mirrored sets keep none). Endpoints within a slice are
//   ordered by address then pod uid.
// Does not: write anything; set zones or topology hints; spread endpoints evenly over slices.
import type { EndpointAddress, EndpointSubset, Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { Endpoint, EndpointPort, EndpointSlice } from 'kubernetes-types/discovery/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';
import { kubeTime } from '../../api/time.js';
import { jsonEqualish } from '../common/equal.js';
import { isPodReady } from '../common/pods.js';
import type { PodObj } from '../common/types.js';
import { endpointAddress, serviceDerivedLabels, TRIGGER_TIME_ANNOTATION, HEADLESS_LABEL } from '../endpoints/plan.js';
import { podIP, podTargetPort, selects, serviceSelector, shouldPodBeInEndpoints } from '../endpoints/pod-ports.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const SLICE_MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const MIRRORING_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** Kubernetes mirrors at most this many addresses of one Endpoints. */
export const MAX_MIRRORED_ENDPOINTS = 1000;

/** One group of endpoints that can share slices: an address type and a port set. */
export interface SliceGroup {
  addressType: 'IPv4' | 'IPv6' | 'FQDN';
  ports: EndpointPort[];
  endpoints: Endpoint[];
}

/** What every slice of the set carries besides its endpoints. */
export interface SliceMeta {
  namespace: string;
  /** `<service>-`: the slices' generateName. */
  generateName: string;
  labels: Record<string, string>;
  owner: OwnerReference;
  /**
   * The address type of the placeholder slice a set without endpoints keeps (the Service's first
   * IP family); undefined: no placeholder (mirrored sets).
   */
  placeholderAddressType?: SliceGroup['addressType'];
}

export interface SlicePlan {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

const portKey = (p: EndpointPort): string => `${p.name ?? ''}\u0000${p.port ?? ''}\u0000${p.protocol ?? 'TCP'}\u0000${p.appProtocol ?? ''}`;
const groupKey = (addressType: string, ports: readonly EndpointPort[] | undefined): string =>
  `${addressType}|${(ports ?? []).map(portKey).sort().join('\u0001')}`;
const endpointId = (e: Endpoint): string => e.targetRef?.uid || `${e.addresses.join(',')}/${e.hostname ?? ''}`;
const byEndpoint = (a: Endpoint, b: Endpoint): number => (a.addresses[0] ?? '').localeCompare(b.addresses[0] ?? '') || endpointId(a).localeCompare(endpointId(b));

function addressTypeOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

function addToGroup(groups: Map<string, SliceGroup>, addressType: SliceGroup['addressType'], ports: EndpointPort[], e: Endpoint): void {
  const k = groupKey(addressType, ports);
  let g = groups.get(k);
  if (!g) groups.set(k, (g = { addressType, ports, endpoints: [] }));
  g.endpoints.push(e);
}

function fromAddress(a: EndpointAddress, ready: boolean): Endpoint {
  return {
    addresses: [a.ip],
    conditions: { ready },
    ...(a.hostname ? { hostname: a.hostname } : {}),
    ...(a.nodeName ? { nodeName: a.nodeName } : {}),
    ...(a.targetRef ? { targetRef: a.targetRef } : {}),
  };
}

/** The endpoint groups of a Service with a selector, from the pods of its namespace. */
export function serviceSliceGroups(svc: Service, pods: readonly PodObj[]): SliceGroup[] {
  const selector = serviceSelector(svc);
  if (!selector) return [];
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const families = svc.spec?.ipFamilies;
  const groups = new Map<string, SliceGroup>();
  for (const pod of pods) {
    if (pod.metadata?.namespace !== svc.metadata?.namespace || !selects(selector, pod)) continue;
    if (!shouldPodBeInEndpoints(pod, true)) continue;
    const addressType = addressTypeOf(podIP(pod));
    if (families?.length && !families.includes(addressType)) continue;
    const terminating = Boolean(pod.metadata?.deletionTimestamp);
    const serving = publishNotReady || isPodReady(pod);
    const ready = publishNotReady || (serving && !terminating);
    const e: Endpoint = { ...fromAddress(endpointAddress(pod, svc), ready), conditions: { ready, serving, terminating } };
    const ports: EndpointPort[] = [];
    for (const sp of svc.spec?.ports ?? []) {
      const port = podTargetPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    addToGroup(groups, addressType, ports, e);
  }
  return [...groups.values()];
}

/** The endpoint groups mirroring an Endpoints object's subsets (at most MAX_MIRRORED_ENDPOINTS addresses). */
export function mirroredSliceGroups(ep: Endpoints): SliceGroup[] {
  const groups = new Map<string, SliceGroup>();
  let n = 0;
  const add = (ss: EndpointSubset, a: EndpointAddress, ready: boolean): void => {
    if (n++ >= MAX_MIRRORED_ENDPOINTS) return;
    const ports = (ss.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP', ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
    addToGroup(groups, addressTypeOf(a.ip), ports, fromAddress(a, ready));
  };
  for (const ss of ep.subsets ?? []) {
    for (const a of ss.addresses ?? []) add(ss, a, true);
    for (const a of ss.notReadyAddresses ?? []) add(ss, a, false);
  }
  return [...groups.values()];
}

/** Labels of a Service's slices (Kubernetes' setEndpointSliceLabels). */
export function serviceSliceLabels(svc: Service, managedBy: string): Record<string, string> {
  return { ...serviceDerivedLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata?.name ?? '', [SLICE_MANAGED_BY_LABEL]: managedBy };
}

/** Labels of mirrored slices: the Endpoints' own, plus service name and manager. */
export function mirroredSliceLabels(ep: Endpoints): Record<string, string> {
  const labels: Record<string, string> = { ...(ep.metadata?.labels ?? {}) };
  delete labels[HEADLESS_LABEL];
  return { ...labels, [SERVICE_NAME_LABEL]: ep.metadata?.name ?? '', [SLICE_MANAGED_BY_LABEL]: MIRRORING_CONTROLLER_NAME };
}

/** Whether a hand-made Endpoints object should be mirrored (Kubernetes' shouldMirror, given its Service). */
export function shouldMirror(ep: Endpoints, svc: Service | undefined): boolean {
  if (!svc || serviceSelector(svc)) return false;
  if (ep.metadata?.labels?.[SKIP_MIRROR_LABEL] === 'true') return false;
  return ep.metadata?.annotations?.['control-plane.alpha.kubernetes.io/leader'] === undefined;
}

function sameContent(s: EndpointSlice, want: EndpointSlice): boolean {
  return jsonEqualish(s.endpoints ?? [], want.endpoints)
    && jsonEqualish(s.ports ?? [], want.ports ?? [])
    && s.addressType === want.addressType
    && jsonEqualish(s.metadata?.labels ?? {}, want.metadata?.labels ?? {})
    && jsonEqualish(s.metadata?.ownerReferences ?? [], want.metadata?.ownerReferences ?? []);
}

/**
 * Writes that turn `existing` (the slices this controller manages for one Service) into slices
 * holding `groups`. New slices get `generateName`; written ones the trigger-time annotation.
 */
export function planSlices(groups: readonly SliceGroup[], existing: readonly EndpointSlice[], meta: SliceMeta, triggerTime: number): SlicePlan {
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const anyEndpoint = groups.some((g) => g.endpoints.length > 0);
  // Without endpoints, one empty placeholder slice without ports remains, as in Kubernetes.
  const placeholderType = meta.placeholderAddressType;
  const effective: SliceGroup[] = anyEndpoint ? groups.filter((g) => g.endpoints.length > 0)
    : placeholderType ? [{ addressType: placeholderType, ports: [], endpoints: [] }] : [];
  const wanted = new Map<string, { group: SliceGroup; left: Map<string, Endpoint> }>();
  for (const g of effective) {
    const k = groupKey(g.addressType, g.ports);
    wanted.set(k, { group: g, left: new Map(g.endpoints.map((e) => [endpointId(e), e])) });
  }
  const build = (base: EndpointSlice | undefined, g: SliceGroup, endpoints: Endpoint[]): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: {
      ...(base?.metadata ?? { generateName: meta.generateName, namespace: meta.namespace }),
      labels: meta.labels,
      annotations: { ...(base?.metadata?.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: kubeTime(triggerTime) },
      ownerReferences: [meta.owner],
    },
    addressType: g.addressType,
    endpoints: [...endpoints].sort(byEndpoint),
    ports: g.ports,
  });
  // Pass 1: each existing slice keeps the endpoints it already holds that are still wanted.
  const kept: { slice: EndpointSlice; key: string; endpoints: Endpoint[] }[] = [];
  const sorted = [...existing].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const s of sorted) {
    const key = groupKey(s.addressType, s.ports);
    const w = wanted.get(key);
    if (!w) {
      plan.delete.push(s);
      continue;
    }
    const endpoints: Endpoint[] = [];
    for (const e of s.endpoints ?? []) {
      const id = endpointId(e);
      const fresh = w.left.get(id);
      if (fresh && endpoints.length < MAX_ENDPOINTS_PER_SLICE) {
        endpoints.push(fresh);
        w.left.delete(id);
      }
    }
    kept.push({ slice: s, key, endpoints });
  }
  // Pass 2: the rest fill slices of their group that have room, then new slices.
  for (const [key, w] of wanted) {
    const rest = [...w.left.values()].sort(byEndpoint);
    for (const k of kept) {
      if (k.key !== key) continue;
      while (rest.length && k.endpoints.length < MAX_ENDPOINTS_PER_SLICE) k.endpoints.push(rest.shift()!);
    }
    while (rest.length) plan.create.push(build(undefined, w.group, rest.splice(0, MAX_ENDPOINTS_PER_SLICE)));
  }
  let placeholder = false;
  for (const k of kept) {
    const w = wanted.get(k.key)!;
    if (k.endpoints.length === 0 && (anyEndpoint || placeholder)) {
      plan.delete.push(k.slice);
      continue;
    }
    if (k.endpoints.length === 0) placeholder = true;
    const want = build(k.slice, w.group, k.endpoints);
    if (!sameContent(k.slice, want)) plan.update.push(want);
  }
  if (!anyEndpoint && !placeholder && effective[0]) plan.create.push(build(undefined, effective[0], []));
  return plan;
}
