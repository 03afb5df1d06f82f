// A TCP listener of the node proxy: accepts on address:port and splices each connection to a
// backend with pipe() (Nagle off on both sides).
// Guarantees: a connection is accepted paused and resumed only once its backend connected, so no
// byte is read before there is somewhere to send it; a backend connect that fails (refused,
// unreachable, over `connectTimeoutMs`) is marked on the picker and the next backend is tried,
// until every backend was tried; with no backend left the client gets a reset (like kube-proxy's
// REJECT of a Service without endpoints). Half-closes pass through; an error on either side
// destroys both. `close()` stops accepting and destroys the connections it carries.
// Does not: read or change the bytes; keep connections to a backend that left the table from
// finishing (as kube-proxy, existing connections are left alone on endpoint changes).
import net from 'node:net';
import { BackendPicker } from './picker.js';
import { isAddrInUse, type BindResult, type ListenerOptions, type ProxyListener } from './listener.js';
import type { ListenerSpec } from './table.js';

export class TcpListener implements ProxyListener {
  readonly key: string;
  bound = false;
  private server: net.Server | undefined;
  private readonly picker: BackendPicker;
  private readonly conns = new Set<net.Socket>();

  constructor(public spec: ListenerSpec, private readonly o: ListenerOptions) {
    this.key = spec.key;
    this.picker = new BackendPicker(spec.backends, spec.affinity);
  }

  update(spec: ListenerSpec): void {
    this.spec = spec;
    this.picker.update(spec.backends, spec.affinity);
  }

  bind(): Promise<BindResult> {
    if (this.bound) return Promise.resolve('bound');
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (c) => this.accept(c));
      const onError = (e: Error): void => {
        server.close();
        if (isAddrInUse(e)) resolve('busy');
        else reject(e);
      };
      server.once('error', onError);
      server.listen({ host: this.spec.ip, port: this.spec.port, exclusive: true }, () => {
        server.removeListener('error', onError);
        server.on('error', (e) => this.o.logger.error({ err: e, listener: this.key }, 'proxy listener failed'));
        this.server = server;
        this.bound = true;
        resolve('bound');
      });
    });
  }

  close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.bound = false;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  sweep(now: number): void {
    this.picker.sweep(now);
  }

  private accept(client: net.Socket): void {
    this.conns.add(client);
    client.on('error', () => client.destroy());
    client.once('close', () => this.conns.delete(client));
    this.connect(client, client.remoteAddress ?? '', undefined);
  }

  private connect(client: net.Socket, clientIp: string, tried: Set<string> | undefined): void {
    if (client.destroyed) return;
    const b = this.picker.pick(clientIp, this.o.clock.now(), tried);
    if (!b) {
      client.resetAndDestroy();
      return;
    }
    const up = net.connect({ host: b.ip, port: b.port, noDelay: true, allowHalfOpen: true });
    this.conns.add(up);
    up.once('close', () => this.conns.delete(up));
    let settled = false;
    const onClientClose = (): void => {
      up.destroy();
    };
    const fail = (): void => {
      if (settled) return;
      settled = true;
      client.removeListener('close', onClientClose);
      up.destroy();
      this.picker.failed(b, clientIp, this.o.clock.now());
      const next = tried ?? new Set<string>();
      next.add(b.key);
      this.connect(client, clientIp, next);
    };
    up.setTimeout(this.o.connectTimeoutMs, fail);
    up.once('error', fail);
    client.once('close', onClientClose);
    up.once('connect', () => {
      settled = true;
      up.setTimeout(0);
      up.removeListener('timeout', fail);
      up.removeListener('error', fail);
      client.removeListener('close', onClientClose);
      this.picker.succeeded(b);
      splice(client, up);
    });
  }
}

/**
 * Pipes both ways. A side that closes cleanly has already passed its end on through pipe(), so
 * only a side that ends in error (a reset) takes the other one down with it; the listener's
 * `close()` destroys both itself.
 */
function splice(client: net.Socket, up: net.Socket): void {
  up.on('error', () => up.destroy());
  up.once('close', (hadError) => {
    if (hadError) client.destroy();
  });
  client.once('close', (hadError) => {
    if (hadError) up.destroy();
  });
  client.pipe(up);
  up.pipe(client);
  client.resume();
}
