// Host-port allocation for containerPorts (the process runtime has no network namespace, so each
// declared port becomes a distinct host port from the agent's range).
// Guarantees: a port is never handed to two pods of this agent; a candidate is handed out only
// after a test bind on 0.0.0.0 succeeded (so it is not taken by anything else right now); an
// existing assignment (loaded from the pod's ports.json) is kept as is, so restarts keep ports.
// hostNetwork pods get their declared ports unchanged. Does not guarantee the port stays free
// between the test bind and the container's own bind (nothing can without holding it).
import net from 'node:net';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { TriremeError } from '../../errors.js';

/** `"<container>/<port name or number>"` → host port. Recorded on the pod as annotation PORTS_ANNOTATION. */
export type PortAssignment = Record<string, number>;

export const PORTS_ANNOTATION = 'trireme.io/ports';

export interface DeclaredPort {
  key: string;
  container: string;
  name?: string;
  containerPort: number;
}

/** Every containerPort of the pod (init containers included), in declaration order. */
export function declaredPorts(pod: Pod): DeclaredPort[] {
  const out: DeclaredPort[] = [];
  const cs = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  for (const c of cs) {
    for (const p of c.ports ?? []) {
      out.push({ key: `${c.name}/${p.name ?? String(p.containerPort)}`, container: c.name, name: p.name, containerPort: p.containerPort });
    }
  }
  return out;
}

/** `PORT_<NAME>` from a port name: upper case, anything not [A-Z0-9_] becomes `_`. */
export function portEnvName(name: string): string {
  return `PORT_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/** The PORT variables a container sees: PORT = its first port; PORT_<NAME> for every named port of the pod. */
export function portEnv(pod: Pod, container: string, assignment: PortAssignment): Record<string, string> {
  const env: Record<string, string> = {};
  for (const d of declaredPorts(pod)) {
    const host = assignment[d.key];
    if (host === undefined) continue;
    if (d.container === container && env.PORT === undefined) env.PORT = String(host);
    if (d.name) env[portEnvName(d.name)] = String(host);
  }
  return env;
}

/** Resolves a probe's port (number or name) of a container to the host port it listens on. */
export function resolvePort(pod: Pod, container: string, port: number | string, assignment: PortAssignment): number | undefined {
  for (const d of declaredPorts(pod)) {
    if (d.container !== container) continue;
    if ((typeof port === 'string' && d.name === port) || d.containerPort === port || String(d.containerPort) === port) return assignment[d.key];
  }
  return typeof port === 'number' ? port : /^\d+$/.test(port) ? Number(port) : undefined;
}

/** Whether `port` can be bound on all interfaces right now. */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '0.0.0.0', exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

export class PortAllocator {
  private readonly byPod = new Map<string, PortAssignment>();
  private readonly used = new Set<number>();
  private cursor: number;

  constructor(
    private readonly range: readonly [number, number],
    private readonly bindable: (port: number) => Promise<boolean> = canBind,
    /** Where to start scanning; agents sharing a host start at different offsets. */
    start?: number,
  ) {
    this.cursor = start !== undefined && start >= range[0] && start <= range[1] ? start : range[0];
  }

  /** Records an assignment found on disk (after an agent restart) so it is never handed out twice. */
  restore(podUid: string, a: PortAssignment, hostNetwork = false): void {
    this.byPod.set(podUid, { ...a });
    if (!hostNetwork) for (const p of Object.values(a)) this.used.add(p);
  }

  get(podUid: string): PortAssignment | undefined {
    return this.byPod.get(podUid);
  }

  /** Assigns a host port to every declared port of the pod not assigned yet. */
  async allocate(podUid: string, pod: Pod): Promise<PortAssignment> {
    const a: PortAssignment = { ...(this.byPod.get(podUid) ?? {}) };
    const hostNetwork = pod.spec?.hostNetwork === true;
    for (const d of declaredPorts(pod)) {
      if (a[d.key] !== undefined) continue;
      a[d.key] = hostNetwork ? d.containerPort : await this.nextFree();
    }
    this.byPod.set(podUid, a);
    return a;
  }

  release(podUid: string): void {
    const a = this.byPod.get(podUid);
    if (!a) return;
    this.byPod.delete(podUid);
    for (const p of Object.values(a)) this.used.delete(p);
  }

  private async nextFree(): Promise<number> {
    const [lo, hi] = this.range;
    const size = hi - lo + 1;
    for (let i = 0; i < size; i++) {
      const p = this.cursor;
      this.cursor = p >= hi ? lo : p + 1;
      if (this.used.has(p)) continue;
      // Reserve before the await so a concurrent allocation cannot pick the same port.
      this.used.add(p);
      if (await this.bindable(p)) return p;
      this.used.delete(p);
    }
    throw new TriremeError('ServiceUnavailable', `no free host port in ${lo}-${hi}`, { context: { range: [lo, hi] } });
  }
}
