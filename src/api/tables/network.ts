// Rows of Services and Endpoints as `kubectl get svc|ep` shows them (Kubernetes 1.32).
// Guarantees: PORT(S) as `port[:nodePort]/protocol` joined by ',' (`<none>` if no ports);
// EXTERNAL-IP by service type (`<none>`, `<pending>` for a LoadBalancer without ingress, the
// external name for ExternalName); ENDPOINTS lists at most three `ip:port` (or bare ip for
// port-less subsets) and then `+ N more...`. Does not resolve names or consult other objects.
import type { EndpointSubset, Endpoints, LoadBalancerStatus, Service } from 'kubernetes-types/core/v1.js';
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
