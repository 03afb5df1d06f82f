// Reaches a pod's node agent for `pods/log` (a streamed GET) and `pods/exec` (a websocket
// upgrade, piped byte for byte). The API server authenticates to the agent with its own client
// certificate and checks the agent's serving certificate against the cluster CA.
// Guarantees: the client gets the agent's answer, or a Status naming why the node is unreachable.
// Does not: interpret the exec stream (the channel protocol is between kubectl and the agent).
import https from 'node:https';
import tls from 'node:tls';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../api/object.js';
import { RESOURCES } from '../api/resources.js';
import { TriremeError } from '../errors.js';
import type { Registry } from './registry.js';

const PODS = RESOURCES.find((r) => r.kind === 'Pod')!;
const NODES = RESOURCES.find((r) => r.kind === 'Node')!;

export interface PodProxy {
  logs(req: IncomingMessage, res: ServerResponse, namespace: string, pod: string, query: URLSearchParams): Promise<void>;
  exec(req: IncomingMessage, socket: Duplex, head: Buffer, namespace: string, pod: string, query: URLSearchParams): Promise<void>;
}

interface Target { host: string; port: number; container: string }

export function createPodProxy(registry: Registry, creds: { caPem: string; certPem: string; keyPem: string }): PodProxy {
  const agent = new https.Agent({ keepAlive: true, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem });

  async function target(namespace: string, podName: string, query: URLSearchParams): Promise<Target> {
    const pod = await registry.get(PODS, namespace, podName);
    const spec = (pod.spec ?? {}) as { nodeName?: string; containers?: { name: string }[]; initContainers?: { name: string }[] };
    const container = pickContainer(pod, query.get('container'));
    if (!spec.nodeName) throw new TriremeError('BadRequest', `pod ${podName} does not have a host assigned`);
    const node = await registry.get(NODES, undefined, spec.nodeName);
    const status = (node.status ?? {}) as { addresses?: { type: string; address: string }[]; daemonEndpoints?: { kubeletEndpoint?: { Port?: number } } };
    const host = status.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = status.daemonEndpoints?.kubeletEndpoint?.Port;
    if (!host || !port) throw new TriremeError('ServiceUnavailable', `node "${spec.nodeName}" has not published its agent's address`);
    return { host, port, container };
  }

  return {
    async logs(_req, res, namespace, pod, query) {
      const t = await target(namespace, pod, query);
      const q = new URLSearchParams(query);
      q.delete('container');
      const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(t.container)}?${q.toString()}`;
      await new Promise<void>((resolve, reject) => {
        const up = https.request({ host: t.host, port: t.port, path, method: 'GET', agent, servername: tlsServername(t.host) }, (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, { 'Content-Type': upRes.headers['content-type'] ?? 'text/plain', 'Cache-Control': 'no-cache, private' });
          res.flushHeaders();
          upRes.pipe(res);
          upRes.on('end', resolve);
          upRes.on('error', reject);
          res.on('close', () => { up.destroy(); resolve(); });
        });
        up.on('error', (e) => reject(unreachable(t, e)));
        up.end();
      });
    },

    async exec(req, socket, head, namespace, pod, query) {
      const t = await target(namespace, pod, query);
      const q = new URLSearchParams(query);
      q.delete('container');
      const path = `/exec/${encodeURIComponent(namespace)}/${encodeURIComponent(pod)}/${encodeURIComponent(t.container)}?${q.toString()}`;
      const upstream = tls.connect({ host: t.host, port: t.port, ca: creds.caPem, cert: creds.certPem, key: creds.keyPem, servername: tlsServername(t.host) });
      await new Promise<void>((resolve, reject) => {
        upstream.once('secureConnect', resolve);
        upstream.once('error', (e) => reject(unreachable(t, e)));
      });
      // Forward the client's upgrade request as is (its websocket key and protocols), then pipe.
      const headers = Object.entries(req.headers)
        .filter(([k]) => !['host', 'authorization', 'content-length'].includes(k))
        .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
      upstream.write(`GET ${path} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\n${headers.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
      const close = () => { upstream.destroy(); socket.destroy(); };
      upstream.on('error', close);
      socket.on('error', close);
      upstream.on('close', () => socket.end());
      socket.on('close', () => upstream.destroy());
    },
  };
}

/** The container a log or exec request means: the one named, or the pod's only/first one. */
export function pickContainer(pod: KubeObject, requested: string | null): string {
  const spec = (pod.spec ?? {}) as { containers?: { name: string }[]; initContainers?: { name: string }[] };
  const names = (spec.containers ?? []).map((c) => c.name);
  const all = [...names, ...(spec.initContainers ?? []).map((c) => c.name)];
  const name = pod.metadata?.name;
  if (requested) {
    if (!all.includes(requested)) throw new TriremeError('BadRequest', `container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const preferred = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'];
  if (preferred && all.includes(preferred)) return preferred;
  if (names.length === 1) return names[0]!;
  if (names.length === 0) throw new TriremeError('BadRequest', `pod ${name} has no containers`);
  throw new TriremeError('BadRequest', `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`);
}

function tlsServername(host: string): string | undefined {
  // SNI must be a host name; for an IP the certificate's IP SAN is checked without SNI.
  return /^[\d.]+$|:/.test(host) ? undefined : host;
}

function unreachable(t: Target, e: Error): TriremeError {
  return new TriremeError('ServiceUnavailable', `the node agent at ${t.host}:${t.port} is not reachable: ${e.message}`, { cause: e });
}
