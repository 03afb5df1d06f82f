// Which port of a pod a Service port reaches, and which pods a Service's endpoints list (pure).
// Guarantees: Kubernetes' FindPort — a named targetPort matches a containerPort of that name and
// protocol (app containers and restartable init containers); a numbered one is that number —
// followed by the process runtime's twist (DESIGN.md §5): a declared containerPort listens on
// the host port its agent allocated, recorded on the pod (`trireme.io/ports` annotation or the
// `trireme.io/PortsAllocated` condition), so that port is returned; without a record the
// declared port is. A number that matches no declared port is returned as is. Pod membership is
// Kubernetes' ShouldPodBeInEndpoints: not terminal, has an IP, terminating only when asked.
// Does not: check that anything listens on the port.
import type { Container, Pod, ServicePort } from 'kubernetes-types/core/v1.js';
import { recordedPorts } from '../../agent/pods/ports-file.js';
import { declaredPorts } from '../../agent/pods/ports.js';

/** Containers whose ports a Service may target: app containers and sidecars (restartable init containers). */
function servingContainers(pod: Pod): Container[] {
  const sidecars = (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  return [...(pod.spec?.containers ?? []), ...sidecars];
}

/**
 * The port to reach `sp` on `pod`, or undefined when a named targetPort matches no declared port
 * (Kubernetes then leaves the pod out of that port's endpoints).
 */
export function podTargetPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  const protocol = sp.protocol ?? 'TCP';
  const byName = typeof target === 'string' && !/^\d+$/.test(target);
  const wanted = byName ? undefined : Number(target);
  const allocated = recordedPorts(pod) ?? {};
  const containers = new Map(servingContainers(pod).map((c) => [c.name, c]));
  for (const d of declaredPorts(pod)) {
    const declared = containers.get(d.container)?.ports?.find((p) => p.containerPort === d.containerPort && p.name === d.name);
    if (!declared || (declared.protocol ?? 'TCP') !== protocol) continue;
    if (byName ? d.name === target : d.containerPort === wanted) return allocated[d.key] ?? d.containerPort;
  }
  return byName ? undefined : wanted;
}

function isTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/** Kubernetes' ShouldPodBeInEndpoints. */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (!pod.status?.podIP && !(pod.status?.podIPs?.length)) return false;
  return includeTerminating || !pod.metadata?.deletionTimestamp;
}

/** The pod's IP address (status.podIP, else the first of podIPs). */
export function podIP(pod: Pod): string {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || '';
}

/** The hostname an endpoint carries: the pod's spec.hostname when its subdomain is this Service. */
export function endpointHostname(pod: Pod, service: { metadata?: { name?: string; namespace?: string } }): string | undefined {
  const h = pod.spec?.hostname;
  if (!h || pod.spec?.subdomain !== service.metadata?.name || pod.metadata?.namespace !== service.metadata?.namespace) return undefined;
  return h;
}

/** The Service's selector as a map, or undefined when it has none (such Services get no endpoints from the controllers). */
export function serviceSelector(svc: { spec?: { selector?: Record<string, string> } }): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  return sel && Object.keys(sel).length > 0 ? sel : undefined;
}

/** Whether a pod's labels match a Service selector (every key equal). */
export function selects(selector: Readonly<Record<string, string>>, pod: Pod): boolean {
  const labels = pod.metadata?.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}
