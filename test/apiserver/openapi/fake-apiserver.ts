// Test-only HTTPS server that answers what kubectl needs before it writes: /version, legacy
// discovery built from src/api/resources.ts, and the real OpenAPI v3 endpoints of
// src/apiserver/openapi. Writes are recorded and echoed (POST 201, PATCH/PUT 200); GET of an
// object is 404. Guarantees: listens on 127.0.0.1 only, with a throwaway self-signed certificate
// (openssl) in a temp dir that close() removes. Does not: store anything, authenticate, watch.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RESOURCES, groupVersion } from '../../../src/api/resources.js';
import { openapiV3Document, openapiV3Paths } from '../../../src/apiserver/openapi/index.js';
import { deps, pathOf } from '../../helpers/require-dep.js';

export interface RecordedRequest {
  method: string;
  url: string;
  contentType: string;
  body: string;
}

export interface FakeApiServer {
  url: string;
  dir: string;
  /** kubeconfig path pointing at this server (insecure-skip-tls-verify, fake token). */
  kubeconfig: string;
  /** Writes and other requests not answered by discovery/OpenAPI. */
  requests: RecordedRequest[];
  /** `METHOD url` of every request, in arrival order. */
  log: string[];
  close(): Promise<void>;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  const data = Buffer.from(JSON.stringify(body));
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': data.length });
  res.end(data);
}

function resourceList(group: string, version: string): unknown {
  const resources = RESOURCES.filter((r) => r.group === group && r.version === version).flatMap((r) => [
    { name: r.resource, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs, shortNames: r.shortNames, categories: r.categories },
    ...r.subresources.map((s) => ({
      name: `${r.resource}/${s}`, singularName: '', namespaced: r.namespaced,
      kind: s === 'scale' ? 'Scale' : s === 'binding' ? 'Binding' : s === 'eviction' ? 'Eviction' : r.kind,
      ...(s === 'scale' ? { group: 'autoscaling', version: 'v1' } : s === 'eviction' ? { group: 'policy', version: 'v1' } : {}),
      verbs: s === 'status' || s === 'scale' ? ['get', 'patch', 'update'] : s === 'finalize' ? ['update'] : s === 'log' || s === 'exec' ? ['get'] : ['create'],
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion({ group, version }), resources };
}

function groupList(): unknown {
  const groups = new Map<string, string[]>();
  for (const r of RESOURCES) {
    if (r.group === '') continue;
    const vs = groups.get(r.group) ?? [];
    if (!vs.includes(r.version)) vs.push(r.version);
    groups.set(r.group, vs);
  }
  return {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: [...groups].map(([name, vs]) => {
      const versions = vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions, preferredVersion: versions[0] };
    }),
  };
}

function handle(req: IncomingMessage, body: string, res: ServerResponse, requests: RecordedRequest[]): void {
  const url = new URL(req.url ?? '/', 'https://localhost');
  const p = url.pathname.replace(/\/+$/, '');
  if (req.method === 'GET') {
    if (p === '/version') return json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0+trireme', platform: 'linux/amd64' });
    if (p === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: req.socket.localAddress ?? '' }] });
    if (p === '/apis') return json(res, 200, groupList());
    if (p === '/api/v1') return json(res, 200, resourceList('', 'v1'));
    const gv = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (gv?.[1] && gv[2] && RESOURCES.some((r) => r.group === gv[1] && r.version === gv[2])) return json(res, 200, resourceList(gv[1], gv[2]));
    if (p === '/openapi/v3') return json(res, 200, { paths: openapiV3Paths() });
    if (p.startsWith('/openapi/v3/')) {
      const doc = openapiV3Document(p.slice('/openapi/v3/'.length));
      if (doc) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': doc.body.length, Etag: `"${doc.hash}"` });
        res.end(doc.body);
        return;
      }
    }
  }
  requests.push({ method: req.method ?? '', url: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body });
  if (req.method === 'POST') {
    res.writeHead(201, { 'Content-Type': 'application/json' });
    res.end(body);
    return;
  }
  if ((req.method === 'PATCH' || req.method === 'PUT') && body.startsWith('{')) {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(body);
    return;
  }
  json(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `${p} not found`, reason: 'NotFound', code: 404 });
}

export async function startFakeApiServer(): Promise<FakeApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'trireme-openapi-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync(pathOf(deps.openssl), ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const requests: RecordedRequest[] = [];
  const log: string[] = [];
  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    log.push(`${req.method ?? ''} ${req.url ?? ''}`);
    req.on('end', () => handle(req, Buffer.concat(chunks).toString('utf8'), res, requests));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, [
    'apiVersion: v1', 'kind: Config', 'current-context: t',
    'clusters:', '- name: t', '  cluster:', `    server: ${url}`, '    insecure-skip-tls-verify: true',
    'users:', '- name: t', '  user:', '    token: fake-token',
    'contexts:', '- name: t', '  context:', '    cluster: t', '    user: t', '    namespace: default', '',
  ].join('\n'));
  return {
    url, dir, kubeconfig, requests, log,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
