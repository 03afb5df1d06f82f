// Services and pods for the endpoint planning tests: pods as the agent reports them (node IP,
// Ready condition, allocated host ports in the trireme.io/PortsAllocated condition).
import type { Service } from 'kubernetes-types/core/v1.js';
import type { PodObj } from '../../../src/controllers/common/types.js';

export function svc(spec: Partial<NonNullable<Service['spec']>> = {}, labels: Record<string, string> = {}): Service {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels },
    spec: { selector: { app: 'web' }, clusterIP: '10.0.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 'http' }], ...spec },
  };
}

export interface PodOpts {
  ready?: boolean;
  ip?: string;
  node?: string;
  labels?: Record<string, string>;
  /** container ports: [name, containerPort, allocated host port?] */
  ports?: [string | undefined, number, number?][];
  deleting?: boolean;
  phase?: string;
  hostname?: string;
  subdomain?: string;
}

/** A pod as the agent reports it: allocated ports in the PortsAllocated condition. */
export function pod(name: string, o: PodOpts = {}): PodObj {
  const ports = o.ports ?? [['http', 8080, 31000]];
  const allocated: Record<string, number> = {};
  for (const [n, p, host] of ports) if (host !== undefined) allocated[`app/${n ?? String(p)}`] = host;
  return {
    metadata: {
      name, namespace: 'default', uid: `${name}-uid`, labels: o.labels ?? { app: 'web' },
      ...(o.deleting ? { deletionTimestamp: '2026-12-02T03:59:00Z' } : {}),
    },
    spec: {
      nodeName: o.node ?? 'n1',
      ...(o.hostname ? { hostname: o.hostname } : {}), ...(o.subdomain ? { subdomain: o.subdomain } : {}),
      containers: [{ name: 'app', image: 'x', ports: ports.map(([n, p]) => ({ ...(n ? { name: n } : {}), containerPort: p, protocol: 'TCP' })) }],
    },
    status: {
      phase: o.phase ?? 'Running',
      podIP: o.ip ?? '127.0.22.2',
      conditions: [
        { type: 'Ready', status: o.ready === false ? 'False' : 'True' },
        { type: 'trireme.io/PortsAllocated', status: 'True', message: JSON.stringify(allocated) },
      ],
    },
  };
}

