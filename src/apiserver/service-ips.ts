// ClusterIP and NodePort allocation for Services. Each allocated value is a store key
// (`/registry/ranges/...`) created with create-if-absent, so two API servers on one store never
// hand out the same address. ClusterIPs come from `--service-cluster-ip-range` (default a loopback
// range, DESIGN.md §5, so that the node proxies can listen on them without root or routing).
// Automatic allocation prefers the upper part of the range, as Kubernetes does, leaving the
// lower band (at least 16 addresses) to fixed ones such as the cluster DNS Service's.
// Guarantees: an allocated IP/port belongs to one Service until that Service is deleted.
// Does not: reclaim allocations leaked by a server that died between allocating and storing the
// Service (a repair loop is future work); check that every API server was given the same ranges.
import type { KubeObject } from '../api/object.js';
import { TriremeError, isTriremeError } from '../errors.js';
import type { Store } from '../storage/store.js';
import { DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, ipAt, isAssignable, offsetOf, parseServiceRange, type NodePortRange, type ServiceRange } from '../api/service-range.js';

const IP_PREFIX = '/registry/ranges/serviceips/';
const PORT_PREFIX = '/registry/ranges/servicenodeports/';

interface ServicePort { port?: number; nodePort?: number }
interface ServiceSpec { type?: string; clusterIP?: string; clusterIPs?: string[]; ports?: ServicePort[] }

export interface ServiceRanges { serviceRange?: ServiceRange; nodePortRange?: NodePortRange }

export class ServiceIpAllocator {
  private readonly range: ServiceRange;
  private readonly ports: NodePortRange;
  /** Start of the band automatic allocation prefers (Kubernetes: min(max(16, size/16), 256)). */
  private readonly band: number;
  /** Where the next search starts, so allocation stays O(1) in the common case. */
  private nextIp: number;
  private nextPort: number;

  constructor(private readonly store: Store, ranges: ServiceRanges = {}) {
    this.range = ranges.serviceRange ?? parseServiceRange(DEFAULT_SERVICE_CIDR);
    this.ports = ranges.nodePortRange ?? DEFAULT_NODE_PORT_RANGE;
    this.band = Math.min(Math.max(16, Math.floor(this.range.size / 16)), 256, Math.floor(this.range.size / 2));
    this.nextIp = this.band;
    this.nextPort = this.ports.min;
  }

  /** Fills spec.clusterIP(s) and nodePorts of a new Service (reserving them unless dryRun). */
  async allocateFor(svc: KubeObject, dryRun: boolean): Promise<void> {
    const spec = (svc.spec ?? {}) as ServiceSpec;
    const owner = `${svc.metadata?.namespace}/${svc.metadata?.name}`;
    if (spec.type !== 'ExternalName' && spec.clusterIP !== 'None') {
      if (spec.clusterIP) {
        const offset = offsetOf(this.range, spec.clusterIP);
        if (offset === undefined || !isAssignable(this.range, offset)) throw invalidIp(spec.clusterIP, `provided IP is not in the valid range. The range of valid IPs is ${this.range.cidr}`);
        if (!dryRun) await this.reserve(IP_PREFIX + spec.clusterIP, owner, () => invalidIp(spec.clusterIP!, 'provided IP is already allocated'));
      } else {
        spec.clusterIP = dryRun ? ipAt(this.range, this.nextIp) : await this.pickIp(owner);
      }
      spec.clusterIPs = [spec.clusterIP];
    } else if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    }
    if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') {
      for (const p of spec.ports ?? []) {
        if (p.nodePort) {
          if (p.nodePort < this.ports.min || p.nodePort > this.ports.max) throw new TriremeError('Invalid', `Service "${svc.metadata?.name}" is invalid: spec.ports[].nodePort: Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${this.ports.min}-${this.ports.max}`, { causes: [{ reason: 'FieldValueInvalid', field: 'spec.ports[].nodePort', message: `provided port is not in the valid range. The range of valid ports is ${this.ports.min}-${this.ports.max}` }] });
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

  /** The upper band from where the last search ended, then the lower band (fixed addresses' band). */
  private async pickIp(owner: string): Promise<string> {
    const last = this.range.size - 2;
    const upper = last - this.band + 1;
    const order = (i: number): number => (i < upper ? this.band + ((this.nextIp - this.band + i) % upper) : 1 + (i - upper));
    for (let i = 0; i < last; i++) {
      const offset = order(i);
      const ip = ipAt(this.range, offset);
      try {
        await this.store.create(IP_PREFIX + ip, owner);
        if (offset >= this.band) this.nextIp = offset + 1 > last ? this.band : offset + 1;
        return ip;
      } catch (e) {
        if (!isTriremeError(e, 'AlreadyExists')) throw e;
      }
    }
    throw new TriremeError('ServiceUnavailable', `no ClusterIP is free in the service range ${this.range.cidr}`);
  }

  private async pickPort(owner: string): Promise<number> {
    const span = this.ports.max - this.ports.min + 1;
    for (let i = 0; i < span; i++) {
      const port = this.ports.min + ((this.nextPort - this.ports.min + i) % span);
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
