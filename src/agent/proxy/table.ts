// The proxy's listener table (pure): from the Services and Endpoints the API holds, this node's
// name and IP, which listeners the node proxy wants and which backends each one balances over.
// Guarantees: one listener per (protocol, address, port): each ClusterIP (`spec.clusterIPs`, else
// `spec.clusterIP`) × Service port of a ClusterIP/NodePort/LoadBalancer Service, and nodeIP ×
// nodePort for NodePort/LoadBalancer Services; headless (`clusterIP: None`) and ExternalName
// Services get none. Backends are the Ready addresses (`subsets[].addresses`, never
// `notReadyAddresses`) × the endpoints port whose name (and protocol) is the Service port's name,
// as kube-proxy matches them; `internalTrafficPolicy: Local` keeps only this node's endpoints for
// ClusterIP listeners, `externalTrafficPolicy: Local` for NodePort listeners. Output is sorted
// (listeners by key, backends by address) so equal inputs give equal tables on every node.
// Does not: externalIPs, load-balancer ingress addresses, IPv6, SCTP; an address without
// `nodeName` never counts as local.
import type { EndpointAddress, Endpoints, Service, ServicePort } from 'kubernetes-types/core/v1.js';

export type ProxyProtocol = 'TCP' | 'UDP';

export interface Backend {
  ip: string;
  port: number;
  nodeName?: string;
  /** `ip:port`: the identity used by round-robin, failure marks and affinity. */
  key: string;
}

export interface Affinity {
  /** How long a client's choice is kept after its last use. */
  timeoutMs: number;
}

export interface ListenerSpec {
  /** `TCP/127.10.0.5:80`. */
  key: string;
  protocol: ProxyProtocol;
  ip: string;
  port: number;
  /** `namespace/name` of the Service, and its port name ('' when unnamed): for logs. */
  service: string;
  portName: string;
  /** `cluster`: a ClusterIP:port (shared by every agent of this machine); `node`: nodeIP:nodePort. */
  scope: 'cluster' | 'node';
  backends: Backend[];
  affinity?: Affinity;
}

export interface TableInput {
  services: readonly Service[];
  endpoints: readonly Endpoints[];
  nodeName: string;
  nodeIp: string;
}

/** Kubernetes' default `sessionAffinityConfig.clientIP.timeoutSeconds` (3 h). */
export const DEFAULT_AFFINITY_SECONDS = 10_800;

const PROXIED_TYPES = new Set(['ClusterIP', 'NodePort', 'LoadBalancer']);

export function listenerKey(protocol: ProxyProtocol, ip: string, port: number): string {
  return `${protocol}/${ip}:${port}`;
}

function protocolOf(p: { protocol?: string }): ProxyProtocol | undefined {
  const proto = p.protocol ?? 'TCP';
  return proto === 'TCP' || proto === 'UDP' ? proto : undefined;
}

function isIpv4(ip: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(ip);
}

function clusterIps(svc: Service): string[] {
  const spec = svc.spec ?? {};
  const all = spec.clusterIPs?.length ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return all.filter(isIpv4);
}

/** Every Ready backend of one Service port, sorted by key (duplicates dropped). */
export function backendsFor(ep: Endpoints | undefined, sp: ServicePort): Backend[] {
  const name = sp.name ?? '';
  const proto = protocolOf(sp);
  const byKey = new Map<string, Backend>();
  for (const subset of ep?.subsets ?? []) {
    const port = (subset.ports ?? []).find((p) => (p.name ?? '') === name && protocolOf(p) === proto);
    if (port === undefined || !Number.isInteger(port.port) || port.port <= 0) continue;
    for (const a of subset.addresses ?? []) {
      const b = backendOf(a, port.port);
      if (b) byKey.set(b.key, b);
    }
  }
  return [...byKey.values()].sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
}

function backendOf(a: EndpointAddress, port: number): Backend | undefined {
  if (!isIpv4(a.ip)) return undefined;
  return { ip: a.ip, port, key: `${a.ip}:${port}`, ...(a.nodeName ? { nodeName: a.nodeName } : {}) };
}

function affinityOf(svc: Service): Affinity | undefined {
  if (svc.spec?.sessionAffinity !== 'ClientIP') return undefined;
  const s = svc.spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS;
  return { timeoutMs: s * 1000 };
}

/** The listeners this node's proxy wants, sorted by key. */
export function listenerTable(input: TableInput): ListenerSpec[] {
  const eps = new Map<string, Endpoints>();
  for (const e of input.endpoints) eps.set(`${e.metadata?.namespace ?? ''}/${e.metadata?.name ?? ''}`, e);
  const out = new Map<string, ListenerSpec>();
  const local = (bs: Backend[]): Backend[] => bs.filter((b) => b.nodeName === input.nodeName);
  const services = [...input.services].sort((a, b) => serviceOrder(a) - serviceOrder(b) || nameOf(a).localeCompare(nameOf(b)));
  for (const svc of services) {
    const spec = svc.spec;
    if (!spec || !PROXIED_TYPES.has(spec.type ?? 'ClusterIP')) continue;
    const id = nameOf(svc);
    const affinity = affinityOf(svc);
    for (const sp of spec.ports ?? []) {
      const protocol = protocolOf(sp);
      if (!protocol) continue;
      const all = backendsFor(eps.get(id), sp);
      const add = (ip: string, port: number, scope: ListenerSpec['scope'], backends: Backend[]): void => {
        const key = listenerKey(protocol, ip, port);
        // Two Services on one address:port cannot both be served; the oldest keeps it (the API
        // refuses such duplicates for ClusterIPs and NodePorts, so this is only a guard).
        if (out.has(key)) return;
        out.set(key, { key, protocol, ip, port, service: id, portName: sp.name ?? '', scope, backends, ...(affinity ? { affinity } : {}) });
      };
      const internal = spec.internalTrafficPolicy === 'Local' ? local(all) : all;
      for (const ip of clusterIps(svc)) add(ip, sp.port, 'cluster', internal);
      if ((spec.type === 'NodePort' || spec.type === 'LoadBalancer') && sp.nodePort) {
        add(input.nodeIp, sp.nodePort, 'node', spec.externalTrafficPolicy === 'Local' ? local(all) : all);
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function nameOf(o: Service | Endpoints): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

function serviceOrder(s: Service): number {
  const t = Date.parse(s.metadata?.creationTimestamp ?? '');
  return Number.isNaN(t) ? 0 : t;
}
