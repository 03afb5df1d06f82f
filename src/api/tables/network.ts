// Rows of Services, Endpoints and EndpointSlices as `kubectl get svc|ep|endpointslices` shows
// them (Kubernetes 1.32).
// Guarantees: PORT(S) as `port[:nodePort]/protocol` joined by ',' (`<none>` if no ports);
// EXTERNAL-IP by service type (`<none>`, `<pending>` for a LoadBalancer without ingress, the
// external name for ExternalName); ENDPOINTS lists at most three `ip:port` (or bare ip for
// port-less subsets) and then `+ N more...`; an EndpointSlice's PORTS and ENDPOINTS list three
// ports (number, else name, else `*`) or addresses, then `+ N more...`, `<unset>` when empty.
// Does not resolve names or consult other objects.
import type { EndpointSubset, Endpoints, LoadBalancerStatus, Service } from 'kubernetes-types/core/v1.js';
import type { EndpointPort, EndpointSlice, Endpoint } from 'kubernetes-types/discovery/v1.js';
import { since } from './age.js';
import { AGE, NAME, col, wide } from './columns.js';
import { formatLabels } from './format.js';
import type { Printer } from './types.js';

/** `80/TCP,443:30443/TCP`; protocol defaults to TCP as the API does. */
export function servicePorts(svc: Service): string {
  const pieces = (svc.spec?.ports ?? []).map((p) => {
    const proto = p.protocol ?? 'TCP';
    return p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${proto}` : `${p.port}/${proto}`;
  });
  return pieces.length === 0 ? '<none>' : pieces.join(',');
}

/** Load-balancer ingress IPs (or hostnames), de-duplicated and sorted. */
function loadBalancerAddresses(lb: LoadBalancerStatus | undefined): string[] {
  const set = new Set<string>();
  for (const ing of lb?.ingress ?? []) {
    if (ing.ip) set.add(ing.ip);
    else if (ing.hostname) set.add(ing.hostname);
  }
  return [...set].sort();
}

/** The EXTERNAL-IP cell. The server prints wide tables, so load-balancer addresses are not clipped. */
export function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs ?? [];
  switch (svc.spec?.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const all = [...loadBalancerAddresses(svc.status?.loadBalancer), ...externalIPs];
      return all.length > 0 ? all.join(',') : '<pending>';
    }
    case 'ExternalName':
      return svc.spec?.externalName ?? '';
    default:
      return '<unknown>';
  }
}

export const servicePrinter: Printer = {
  columns: [
    NAME,
    col('Type', 'string', 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.'),
    col('Cluster-IP', 'string', 'The IP address of the service, allocated by the cluster.'),
    col('External-IP', 'string', 'External addresses through which the service is reachable.'),
    col('Port(s)', 'string', 'The ports exposed by this service.'),
    AGE,
    wide('Selector', 'string', 'Pods with labels matching this selector receive the service traffic.'),
  ],
  row(obj, ctx) {
    const svc = obj as Service;
    // clusterIPs is the source of truth; fall back to clusterIP for objects written before it.
    const clusterIP = svc.spec?.clusterIPs?.[0] || svc.spec?.clusterIP || '<none>';
    return {
      cells: [
        svc.metadata?.name ?? '', svc.spec?.type ?? 'ClusterIP', clusterIP, serviceExternalIP(svc), servicePorts(svc),
        since(svc.metadata?.creationTimestamp, ctx.now), formatLabels(svc.spec?.selector),
      ],
    };
  },
};

/** Brackets IPv6 addresses, as Go's net.JoinHostPort does. */
function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

const MAX_LISTED = 3;

/** The ENDPOINTS cell: ready addresses with each port, three at most, then `+ N more...`. */
export function formatEndpoints(subsets: readonly EndpointSubset[] | undefined): string {
  if (!subsets || subsets.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    // A headless service may have no ports: list the bare addresses.
    const perPort = ports.length === 0 ? [undefined] : ports.map((p) => p.port);
    for (const port of perPort) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === MAX_LISTED) break;
        list.push(port === undefined ? a.ip : hostPort(a.ip, port));
      }
    }
  }
  const text = list.join(',');
  return count > MAX_LISTED ? `${text} + ${count - MAX_LISTED} more...` : text;
}

export const endpointsPrinter: Printer = {
  columns: [NAME, col('Endpoints', 'string', 'Ready addresses and ports of the service.'), AGE],
  row(obj, ctx) {
    const ep = obj as Endpoints;
    return { cells: [ep.metadata?.name ?? '', formatEndpoints(ep.subsets), since(ep.metadata?.creationTimestamp, ctx.now)] };
  },
};

/** Kubernetes' listWithMoreString: the first `MAX_LISTED` items, `+ N more...`, `<unset>` for none. */
function listWithMore(items: readonly string[]): string {
  const text = items.slice(0, MAX_LISTED).join(',');
  if (items.length > MAX_LISTED) return `${text} + ${items.length - MAX_LISTED} more...`;
  return text === '' ? '<unset>' : text;
}

/** The PORTS cell of an EndpointSlice: each port's number, else its name, else `*`. */
export function formatSlicePorts(ports: readonly EndpointPort[] | undefined): string {
  return listWithMore((ports ?? []).map((p) => (p.port !== undefined && p.port !== null ? String(p.port) : p.name || '*')));
}

/** The ENDPOINTS cell of an EndpointSlice: every address of every endpoint. */
export function formatSliceEndpoints(endpoints: readonly Endpoint[] | undefined): string {
  return listWithMore((endpoints ?? []).flatMap((e) => e.addresses ?? []));
}

export const endpointSlicePrinter: Printer = {
  columns: [
    NAME,
    col('AddressType', 'string', 'The type of address carried by this EndpointSlice: IPv4, IPv6 or FQDN.'),
    col('Ports', 'string', 'The network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'string', 'The addresses of the endpoints in this slice.'),
    AGE,
  ],
  row(obj, ctx) {
    const s = obj as unknown as EndpointSlice;
    return { cells: [s.metadata?.name ?? '', s.addressType ?? '', formatSlicePorts(s.ports), formatSliceEndpoints(s.endpoints), since(s.metadata?.creationTimestamp, ctx.now)] };
  },
};
