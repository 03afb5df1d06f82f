// Service fixtures for the proxy suites: HTTP and UDP backends on loopback addresses, plain
// HTTP GETs and UDP questions through a ClusterIP or NodePort, and Services and hand-made
// Endpoints written through a server's admin credentials.
// Guarantees: a backend's closer is pushed onto the caller's `closers`; GETs and UDP questions
// never reject (an error answers as its code, a UDP silence as undefined after 1 s); API writes
// assert a 2xx answer. Does not: wait for a proxy to pick anything up.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import http from 'node:http';
import type net from 'node:net';
import type { Endpoints, Service } from 'kubernetes-types/core/v1.js';
import type { ServerHandle } from './server.js';

export interface HttpBackend { name: string; ip: string; port: number; close(): Promise<void> }

/** GET / through host:port; the body, or the error code (ECONNREFUSED, ECONNRESET, TIMEOUT, …). */
export function get(host: string, port: number, localAddress?: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 3000, ...(localAddress ? { localAddress } : {}) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(body));
      res.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** `n` GETs one after the other; their answers. */
export async function answers(host: string, port: number, n: number, localAddress?: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(await get(host, port, localAddress));
  return out;
}

/** One datagram to host:port; the reply, or undefined after 1 s of silence. */
export function udpAsk(host: string, port: number, msg: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(undefined); }, 1000);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m.toString()); });
    s.send(msg, port, host);
  });
}

/** Backends and API writes bound to one server (read through `server()`, set in a before hook) and namespace. */
export function serviceFixtures(server: () => ServerHandle, ns: string, closers: (() => void)[]) {
  async function httpBackend(name: string, ip: string): Promise<HttpBackend> {
    const sockets = new Set<net.Socket>();
    const s = http.createServer((_req, res) => res.end(name));
    s.on('connection', (c) => {
      sockets.add(c);
      c.once('close', () => sockets.delete(c));
    });
    await new Promise<void>((r) => s.listen(0, ip, r));
    const close = (): Promise<void> => new Promise((r) => {
      for (const c of sockets) c.destroy();
      s.close(() => r());
    });
    closers.push(() => void close());
    return { name, ip, port: (s.address() as net.AddressInfo).port, close };
  }

  /** A UDP server answering `<name>:<message>`. */
  async function udpBackend(name: string, ip: string): Promise<{ port: number }> {
    const s = dgram.createSocket('udp4');
    s.on('message', (m, r) => s.send(`${name}:${m.toString()}`, r.port, r.address));
    await new Promise<void>((r) => s.bind(0, ip, r));
    closers.push(() => s.close());
    return { port: s.address().port };
  }

  async function api(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await server().request(path, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } }) });
    assert.ok(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
    return JSON.parse(r.text) as unknown;
  }

  async function createService(name: string, spec: Service['spec']): Promise<Service> {
    return await api('POST', `/api/v1/namespaces/${ns}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec }) as Service;
  }

  /** One subset per backend (each listens on a port of its own): `[ip, nodeName, port]`. */
  async function putEndpoints(name: string, backends: [string, string, number][], portName: string, protocol = 'TCP'): Promise<void> {
    const subsets = backends.map(([ip, nodeName, port]) => ({ addresses: [{ ip, nodeName }], ports: [{ name: portName, port, protocol }] }));
    const body: Endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name }, subsets };
    const r = await server().request(`/api/v1/namespaces/${ns}/endpoints/${name}`);
    if (r.status === 404) await api('POST', `/api/v1/namespaces/${ns}/endpoints`, body);
    else await api('PUT', `/api/v1/namespaces/${ns}/endpoints/${name}`, { ...body, metadata: { name, resourceVersion: (JSON.parse(r.text) as Endpoints).metadata?.resourceVersion } });
  }

  return { httpBackend, udpBackend, api, createService, putEndpoints };
}
