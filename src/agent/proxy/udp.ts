// A UDP listener of the node proxy: datagrams from one client address (ip:port) form a "flow"
// with one backend, as conntrack does for kube-proxy; the backend's replies go back to that
// client from the listener's own address.
// Guarantees: each flow has its own connected upstream socket, so replies are told apart by
// socket and an ICMP port-unreachable surfaces as ECONNREFUSED; on such an error the backend is
// marked failed and the flow moves to the next untried backend, re-sending the last datagram
// once; a flow idle (no datagram either way) for `udpIdleMs` is closed; flows to a backend that
// left the table are closed (kube-proxy clears their conntrack entries too), so the next
// datagram picks a listed one; with no backend (or `maxUdpFlows` flows open) a new client's
// datagram is dropped. The bind is exclusive (no SO_REUSEADDR), so a second agent of this
// machine gets EADDRINUSE. Does not: fragment or reassemble; retry datagrams other than the last.
import dgram from 'node:dgram';
import { BackendPicker } from './picker.js';
import { isAddrInUse, type BindResult, type ListenerOptions, type ProxyListener } from './listener.js';
import type { Backend, ListenerSpec } from './table.js';

interface Flow {
  clientIp: string;
  clientPort: number;
  backend: Backend;
  up: dgram.Socket;
  /** Datagrams that arrived before the upstream socket was connected. */
  pending: Buffer[] | undefined;
  last: Buffer | undefined;
  lastSeen: number;
  tried: Set<string> | undefined;
  closed: boolean;
}

export class UdpListener implements ProxyListener {
  readonly key: string;
  bound = false;
  private socket: dgram.Socket | undefined;
  private readonly picker: BackendPicker;
  private readonly flows = new Map<string, Flow>();
  private droppedLogged = false;

  constructor(public spec: ListenerSpec, private readonly o: ListenerOptions) {
    this.key = spec.key;
    this.picker = new BackendPicker(spec.backends, spec.affinity);
  }

  get flowCount(): number {
    return this.flows.size;
  }

  update(spec: ListenerSpec): void {
    this.spec = spec;
    this.picker.update(spec.backends, spec.affinity);
    for (const [k, f] of this.flows) if (!this.picker.has(f.backend.key)) this.closeFlow(k, f);
  }

  bind(): Promise<BindResult> {
    if (this.bound) return Promise.resolve('bound');
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      const onError = (e: Error): void => {
        socket.close();
        if (isAddrInUse(e)) resolve('busy');
        else reject(e);
      };
      socket.once('error', onError);
      socket.bind({ address: this.spec.ip, port: this.spec.port, exclusive: true }, () => {
        socket.removeListener('error', onError);
        socket.on('error', (e) => this.o.logger.warn({ err: e, listener: this.key }, 'proxy UDP listener error'));
        socket.on('message', (msg, rinfo) => this.fromClient(msg, rinfo.address, rinfo.port));
        this.socket = socket;
        this.bound = true;
        resolve('bound');
      });
    });
  }

  close(): Promise<void> {
    for (const [k, f] of this.flows) this.closeFlow(k, f);
    const socket = this.socket;
    this.socket = undefined;
    this.bound = false;
    if (!socket) return Promise.resolve();
    return new Promise((resolve) => socket.close(() => resolve()));
  }

  sweep(now: number): void {
    this.picker.sweep(now);
    for (const [k, f] of this.flows) if (now - f.lastSeen >= this.o.udpIdleMs) this.closeFlow(k, f);
  }

  private fromClient(msg: Buffer, ip: string, port: number): void {
    const k = `${ip}:${port}`;
    const now = this.o.clock.now();
    let f = this.flows.get(k);
    if (!f) {
      if (this.flows.size >= this.o.maxUdpFlows) {
        if (!this.droppedLogged) this.o.logger.warn({ listener: this.key, maxUdpFlows: this.o.maxUdpFlows }, 'too many UDP flows; dropping datagrams of new clients');
        this.droppedLogged = true;
        return;
      }
      f = this.openFlow(k, ip, port, undefined);
      if (!f) return;
    }
    f.lastSeen = now;
    f.last = msg;
    if (f.pending) f.pending.push(msg);
    else f.up.send(msg);
  }

  private openFlow(k: string, clientIp: string, clientPort: number, tried: Set<string> | undefined): Flow | undefined {
    const backend = this.picker.pick(clientIp, this.o.clock.now(), tried);
    if (!backend) return undefined;
    const up = dgram.createSocket('udp4');
    const f: Flow = { clientIp, clientPort, backend, up, pending: [], last: undefined, lastSeen: this.o.clock.now(), tried, closed: false };
    this.flows.set(k, f);
    up.on('message', (reply) => {
      f.lastSeen = this.o.clock.now();
      this.picker.succeeded(backend);
      this.socket?.send(reply, f.clientPort, f.clientIp);
    });
    up.on('error', (e) => this.upstreamFailed(k, f, e));
    up.connect(backend.port, backend.ip, () => {
      if (f.closed) return;
      const queued = f.pending ?? [];
      f.pending = undefined;
      for (const m of queued) up.send(m);
    });
    return f;
  }

  /** ECONNREFUSED (nobody on the backend port) and the like: move the flow to another backend. */
  private upstreamFailed(k: string, f: Flow, e: Error): void {
    if (this.flows.get(k) !== f) return;
    this.closeFlow(k, f);
    this.picker.failed(f.backend, f.clientIp, this.o.clock.now());
    const tried = f.tried ?? new Set<string>();
    tried.add(f.backend.key);
    const next = this.openFlow(k, f.clientIp, f.clientPort, tried);
    if (!next) {
      this.o.logger.debug({ listener: this.key, err: e.message }, 'UDP flow has no backend left');
      return;
    }
    if (f.last) next.pending?.push(f.last);
    next.last = f.last;
  }

  private closeFlow(k: string, f: Flow): void {
    if (this.flows.get(k) === f) this.flows.delete(k);
    if (f.closed) return;
    f.closed = true;
    f.up.close();
  }
}
