// ClusterIP and NodePort allocation for Services. Each allocated value is a store key
// (`/registry/ranges/...`) created with create-if-absent, so two API servers on one store never
// hand out the same address. ClusterIPs come from a loopback range (DESIGN.md §5) so that the
// node proxies can listen on them without root or routing.
// Guarantees: an allocated IP/port belongs to one Service until that Service is deleted.
// Does not: reclaim allocations leaked by a server that died between allocating and storing the
// Service (a repair loop is future work).
import type { KubeObject } from '../api/object.js';
import { TriremeError, isTriremeError } from '../errors.js';
import type { Store } from '../storage/store.js';

export const SERVICE_CIDR = { base: [127, 10, 0, 0] as const, size: 65536 };
export const NODE_PORT_RANGE = { min: 30000, max: 32767 };
const IP_PREFIX = '/registry/ranges/serviceips/';
const PORT_PREFIX = '/registry/ranges/servicenodeports/';

interface ServicePort { port?: number; nodePort?: number }
interface ServiceSpec { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[] }

export function ipAt(offset: number): string {
  const n = (SERVICE_CIDR.base[0] << 24 >>> 0) + (SERVICE_CIDR.base[1] << 16) + offset;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function inRange(ip: string): boolean {
  const p = ip.split('.').map(Number);
  return p.length === 4 && p[0] === SERVICE_CIDR.base[0] && p[1] === SERVICE_CIDR.base[1] && p.every((x) => Number.isInteger(x) && x >= 0 && x <= 255);
}

export class ServiceIpAllocator {
  /** Where the next search starts, so allocation stays O(1) in the common case. */
  private nextIp = 1;
  private nextPort = NODE_PORT_RANGE.min;

  constructor(private readonly store: Store) {}

  /** Fills spec.clusterIP(s) and nodePorts of a new Service (reserving them unless dryRun). */
  async allocateFor(svc: KubeObject, dryRun: boolean): Promise<void> {
    const spec = (svc.spec ?? {}) as ServiceSpec;
    const owner = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
      if (spec.clusterIP) {
        if (!inRange(spec.clusterIP)) throw invalidIp(spec.clusterIP, `provided IP is not in the valid range. The range of valid IPs is ${ipAt(0)}/16`);
        if (!dryRun) await this.reserve(IP_PREFIX + spec.clusterIP, owner, () => invalidIp(spec.clusterIP!, 'provided IP is already allocated'));
      } else {
        spec.clusterIP = dryRun ? ipAt(this.nextIp) : await this.pickIp(owner);
      }
      spec.clusterIPs = [spec.clusterIP];
    } else if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) {
          if (!dryRun) await this.reserve(PORT_PREFIX + p.nodePort, owner, () => new TriremeError('Invalid', `Service "${svc.metadata?.name}" is invalid: spec.ports[].nodePort: Invalid value: ${p.nodePort}: provided port is already allocated`, { causes: [{ reason: 'FieldValueInvalid', field: 'spec.ports[].nodePort', message: 'provided port is already allocated' }] }));
        } else {
          p.nodePort = dryRun ? this.nextPort : await this.pickPort(owner);
        }
      }
    }
    svc.spec = spec;
  }

  /** Gives back what a deleted Service held. Missing keys are fine (already released). */
  async release(svc: KubeObject): Promise<void> {
    const spec = (svc.spec ?? {}) as ServiceSpec;
    const keys: string[] = [];
    if (spec.clusterIP && spec.clusterIP !== 'None') keys.push(IP_PREFIX + spec.clusterIP);
    for (const p of spec.ports ?? []) if (p.nodePort) keys.push(PORT_PREFIX + p.nodePort);
    for (const k of keys) {
      try {
        await this.store.delete(k);
      } catch (e) {
        if (!isTriremeError(e, 'NotFound')) throw e;
      }
    }
  }

  private async reserve(key: string, owner: string, taken: () => Error): Promise<void> {
    try {
      await this.store.create(key, owner);
    } catch (e) {
      if (isTriremeError(e, 'AlreadyExists')) throw taken();
      throw e;
    }
  }

  private async pickIp(owner: string): Promise<string> {
    for (let i = 0; i < SERVICE_CIDR.size - 2; i++) {
      const offset = ((this.nextIp - 1 + i) % (SERVICE_CIDR.size - 2)) + 1;
      const ip = ipAt(offset);
      try {
        await this.store.create(IP_PREFIX + ip, owner);
        this.nextIp = offset + 1;
        return ip;
      } catch (e) {
        if (!isTriremeError(e, 'AlreadyExists')) throw e;
      }
    }
    throw new TriremeError('ServiceUnavailable', 'no ClusterIP is free in the service range');
  }

  private async pickPort(owner: string): Promise<number> {
    const span = NODE_PORT_RANGE.max - NODE_PORT_RANGE.min + 1;
    for (let i = 0; i < span; i++) {
      const port = NODE_PORT_RANGE.min + ((this.nextPort - NODE_PORT_RANGE.min + i) % span);
      try {
        await this.store.create(PORT_PREFIX + port, owner);
        this.nextPort = port + 1;
        return port;
      } catch (e) {
        if (!isTriremeError(e, 'AlreadyExists')) throw e;
      }
    }
    throw new TriremeError('ServiceUnavailable', 'no NodePort is free in the node port range');
  }
}

function invalidIp(ip: string, why: string): TriremeError {
  return new TriremeError('Invalid', `Service is invalid: spec.clusterIPs: Invalid value: ["${ip}"]: failed to allocate IP ${ip}: ${why}`, {
    causes: [{ reason: 'FieldValueInvalid', field: 'spec.clusterIPs', message: `Invalid value: ["${ip}"]: ${why}` }],
  });
}
