// What a Service's Endpoints should hold (pure): Kubernetes' endpoints controller, on the
// process runtime's ports (pod-ports.ts).
// Guarantees:
// - Only for Services with a selector; the pods are those it selects that
//   shouldPodBeInEndpoints admits (terminating pods only with publishNotReadyAddresses).
// - Each pod is an address {ip, nodeName, targetRef, hostname when its subdomain is the
//   Service}; Ready pods (or all, with publishNotReadyAddresses) in `addresses`, the others in
//   `notReadyAddresses`; each Service port contributes {name, port: the pod's port, protocol,
//   appProtocol} and a pod whose named targetPort it lacks is left out of that port.
// - Subsets are repacked as Kubernetes' RepackSubsets: addresses (keyed by ip + pod uid, since
//   pods of one node share its IP) with the same port set share a subset. Order is
//   deterministic: addresses by ip then uid, ports by name then number, subsets by their first
//   address. A headless Service without ports lists the addresses without ports; a non-headless
//   one without ports gets no subsets.
// - More than 1000 addresses: truncated (ready ones kept first) with the annotation
//   `endpoints.kubernetes.io/over-capacity: truncated`, as Kubernetes.
// - Labels: the Service's, plus `service.kubernetes.io/headless` for headless Services and
//   `endpoints.kubernetes.io/managed-by: endpoint-controller`. The annotation
//   `endpoints.kubernetes.io/last-change-trigger-time` is set to the given trigger time on write.
// - No write when subsets, labels and the capacity annotation already match.
// Does not: write anything; handle Services without selectors (their Endpoints are the user's).
import type { EndpointAddress, EndpointPort, EndpointSubset, Endpoints, Pod, Service } from 'kubernetes-types/core/v1.js';
import { kubeTime } from '../../api/time.js';
import { jsonEqualish } from '../common/equal.js';
import { isPodReady } from '../common/pods.js';
import type { PodObj } from '../common/types.js';
import { endpointHostname, podIP, podTargetPort, selects, serviceSelector, shouldPodBeInEndpoints } from './pod-ports.js';

export const MANAGED_BY_LABEL = 'endpoints.kubernetes.io/managed-by';
export const ENDPOINT_CONTROLLER_NAME = 'endpoint-controller';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
export const MAX_ENDPOINT_ADDRESSES = 1000;

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** The labels controller-made endpoint objects carry: the Service's, headless marked. */
export function serviceDerivedLabels(svc: Service): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata?.labels ?? {}) };
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/** Whether an Endpoints object was written by this controller (so it may be deleted with its Service). */
export function isControllerManaged(ep: Endpoints): boolean {
  return ep.metadata?.labels?.[MANAGED_BY_LABEL] === ENDPOINT_CONTROLLER_NAME;
}

export function endpointAddress(pod: Pod, svc: Service): EndpointAddress {
  const hostname = endpointHostname(pod, svc);
  return {
    ip: podIP(pod),
    ...(hostname ? { hostname } : {}),
    ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata?.namespace ?? '', name: pod.metadata?.name ?? '', uid: pod.metadata?.uid ?? '' },
  };
}

interface Entry {
  address: EndpointAddress;
  ready: boolean;
  ports: EndpointPort[];
}

const portKey = (p: EndpointPort): string => `${p.name ?? ''}\u0000${p.port}\u0000${p.protocol ?? 'TCP'}\u0000${p.appProtocol ?? ''}`;
const byPort = (a: EndpointPort, b: EndpointPort): number => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || (a.protocol ?? '').localeCompare(b.protocol ?? '');
const byAddress = (a: EndpointAddress, b: EndpointAddress): number => a.ip.localeCompare(b.ip) || (a.targetRef?.uid ?? '').localeCompare(b.targetRef?.uid ?? '');

/** Each selected pod with its readiness and ports, before repacking. */
function entries(svc: Service, pods: readonly PodObj[]): Entry[] {
  const selector = serviceSelector(svc);
  if (!selector) return [];
  const publishNotReady = svc.spec?.publishNotReadyAddresses === true;
  const svcPorts = svc.spec?.ports ?? [];
  const out: Entry[] = [];
  for (const pod of pods) {
    if (pod.metadata?.namespace !== svc.metadata?.namespace || !selects(selector, pod)) continue;
    if (!shouldPodBeInEndpoints(pod, publishNotReady)) continue;
    const ready = publishNotReady || isPodReady(pod);
    const address = endpointAddress(pod, svc);
    if (svcPorts.length === 0) {
      if (isHeadless(svc)) out.push({ address, ready, ports: [] });
      continue;
    }
    const ports: EndpointPort[] = [];
    for (const sp of svcPorts) {
      const port = podTargetPort(pod, sp);
      if (port === undefined) continue;
      ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
    }
    if (ports.length > 0) out.push({ address, ready, ports: ports.sort(byPort) });
  }
  return out;
}

/** Kubernetes' RepackSubsets over the entries: one subset per distinct port set. */
function repack(list: readonly Entry[]): EndpointSubset[] {
  const groups = new Map<string, { ports: EndpointPort[]; ready: EndpointAddress[]; notReady: EndpointAddress[] }>();
  for (const e of list) {
    const key = e.ports.map(portKey).join('\u0001');
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { ports: e.ports, ready: [], notReady: [] }));
    (e.ready ? g.ready : g.notReady).push(e.address);
  }
  const subsets = [...groups.values()].map((g) => {
    const ss: EndpointSubset = {};
    if (g.ready.length) ss.addresses = g.ready.sort(byAddress);
    if (g.notReady.length) ss.notReadyAddresses = g.notReady.sort(byAddress);
    if (g.ports.length) ss.ports = g.ports;
    return ss;
  });
  const first = (ss: EndpointSubset): EndpointAddress => (ss.addresses ?? ss.notReadyAddresses ?? [])[0] ?? { ip: '' };
  return subsets.sort((a, b) => byAddress(first(a), first(b)) || portKey(a.ports?.[0] ?? { port: 0 }).localeCompare(portKey(b.ports?.[0] ?? { port: 0 })));
}

/** Keeps at most MAX_ENDPOINT_ADDRESSES entries, ready ones first. */
function truncate(list: Entry[]): { kept: Entry[]; truncated: boolean } {
  if (list.length <= MAX_ENDPOINT_ADDRESSES) return { kept: list, truncated: false };
  const sorted = [...list].sort((a, b) => Number(b.ready) - Number(a.ready) || byAddress(a.address, b.address));
  return { kept: sorted.slice(0, MAX_ENDPOINT_ADDRESSES), truncated: true };
}

/** The subsets a Service's Endpoints should have, and whether they were truncated. */
export function desiredSubsets(svc: Service, pods: readonly PodObj[]): { subsets: EndpointSubset[]; truncated: boolean } {
  const { kept, truncated } = truncate(entries(svc, pods));
  return { subsets: repack(kept), truncated };
}

export type EndpointsPlan =
  | { action: 'none' }
  | { action: 'create' | 'update'; endpoints: Endpoints };

/**
 * What to do about the Endpoints of `svc` given the pods of its namespace and the current
 * Endpoints (undefined: none). `triggerTime` (ms) goes into the last-change-trigger-time
 * annotation of a write.
 */
export function planEndpoints(svc: Service, pods: readonly PodObj[], current: Endpoints | undefined, triggerTime: number): EndpointsPlan {
  if (!serviceSelector(svc)) return { action: 'none' };
  const { subsets, truncated } = desiredSubsets(svc, pods);
  const labels = { ...serviceDerivedLabels(svc), [MANAGED_BY_LABEL]: ENDPOINT_CONTROLLER_NAME };
  const annotations: Record<string, string> = { ...(current?.metadata?.annotations ?? {}) };
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const unchanged = current !== undefined
    && jsonEqualish(current.subsets ?? [], subsets)
    && jsonEqualish(current.metadata?.labels ?? {}, labels)
    && current.metadata?.annotations?.[OVER_CAPACITY_ANNOTATION] === annotations[OVER_CAPACITY_ANNOTATION];
  if (unchanged) return { action: 'none' };
  annotations[TRIGGER_TIME_ANNOTATION] = kubeTime(triggerTime);
  const metadata = {
    ...(current?.metadata ?? {}),
    name: svc.metadata?.name ?? '', namespace: svc.metadata?.namespace ?? '',
    labels, annotations,
  };
  return { action: current ? 'update' : 'create', endpoints: { apiVersion: 'v1', kind: 'Endpoints', metadata, subsets } };
}
