// Records the request bodies real kubectl binaries send for `kubectl create …` and writes them
// as test fixtures (../kubectl-fixtures.ts): kubectl 1.32 sends protobuf, kubectl 1.30 sends
// JSON for the same command, so the decoded protobuf must equal the JSON body.
// Usage: node test/apiserver/protobuf/tools/capture-kubectl.mjs > test/apiserver/protobuf/kubectl-fixtures.ts
// PB_KUBECTL=1.33 records the protobuf side from another kubectl minor (default 1.32).
// Needs openssl and /usr/lib/google-cloud-sdk/bin/kubectl.1.{30,32}. Serves only 127.0.0.1.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';

const PB_KUBECTL = process.env.PB_KUBECTL ?? '1.32';
const KUBECTL = (v) => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`;
const COMMANDS = [
  ['namespace', ['create', 'namespace', 'x']],
  ['configmap', ['create', 'configmap', 'c', '--from-literal=a=b', '--from-literal=empty=']],
  ['secret', ['create', 'secret', 'generic', 's', '--from-literal=p=q', '--from-literal=bin=\u00ff\u0001']],
  ['deployment', ['create', 'deployment', 'd', '--image=nginx', '--replicas=2', '--port=80']],
  ['deployment-zero', ['create', 'deployment', 'z', '--image=busybox', '--replicas=0', '--', 'sleep', '3600']],
  ['service', ['create', 'service', 'clusterip', 's', '--tcp=80:8080']],
  ['service-nodeport', ['create', 'service', 'nodeport', 'np', '--tcp=443:https', '--node-port=30080']],
  ['serviceaccount', ['create', 'serviceaccount', 'sa']],
];

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kcap-'));
execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
  '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });

const res = (group, version, list) => ({
  kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version,
  resources: list.map(([name, kind, namespaced]) => ({ name, singularName: kind.toLowerCase(), namespaced, kind, verbs: ['create', 'get', 'list', 'delete'] })),
});
const ROUTES = {
  '/version': { major: '1', minor: '32', gitVersion: 'v1.32.0' },
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }] },
  '/api/v1': res('', 'v1', [['namespaces', 'Namespace', false], ['configmaps', 'ConfigMap', true], ['secrets', 'Secret', true], ['services', 'Service', true], ['serviceaccounts', 'ServiceAccount', true]]),
  '/apis/apps/v1': res('apps', 'v1', [['deployments', 'Deployment', true]]),
};

let captured;
const server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: fs.readFileSync(path.join(dir, 'cert.pem')) }, (req, resp) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const url = new URL(req.url, 'https://x');
    const route = ROUTES[url.pathname];
    if (req.method === 'GET' && route) {
      resp.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(route));
      return;
    }
    if (req.method === 'POST') {
      captured = { contentType: req.headers['content-type'], body: Buffer.concat(chunks) };
      resp.writeHead(201, { 'Content-Type': 'application/json' }).end(JSON.stringify({
        apiVersion: 'v1', kind: 'Status', metadata: { name: 'x' },
      }));
      return;
    }
    resp.writeHead(404, { 'Content-Type': 'application/json' }).end('{"kind":"Status","apiVersion":"v1","status":"Failure","code":404}');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;
fs.writeFileSync(path.join(dir, 'kubeconfig'), `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]
current-context: c
`);

function run(version, args) {
  captured = undefined;
  const home = fs.mkdtempSync(path.join(dir, 'home-'));
  const child = new Promise((resolve) => {
    // Our flags go before a `--`, which starts the container command.
    const cut = args.includes('--') ? args.indexOf('--') : args.length;
    const argv = [...args.slice(0, cut), '--validate=false', '--kubeconfig', path.join(dir, 'kubeconfig'), ...args.slice(cut)];
    import('node:child_process').then(({ execFile }) => execFile(KUBECTL(version), argv,
      { env: { ...process.env, HOME: home } }, (err, stdout, stderr) => resolve({ err, stdout, stderr })));
  });
  return child.then((r) => {
    if (!captured) throw new Error(`kubectl ${version} ${args.join(' ')} sent no body: ${r.stderr}`);
    return captured;
  });
}

const out = [];
for (const [name, args] of COMMANDS) {
  const pb = await run(PB_KUBECTL, args);
  const js = await run('1.30', args);
  if (pb.contentType !== 'application/vnd.kubernetes.protobuf') throw new Error(`${name}: ${PB_KUBECTL} sent ${pb.contentType}`);
  if (!js.contentType.startsWith('application/json')) throw new Error(`${name}: 1.30 sent ${js.contentType}`);
  out.push({ name, command: `kubectl ${args.join(' ')}`, protobuf: pb.body.toString('base64'), json: JSON.parse(js.body.toString('utf8')) });
}
server.close();
fs.rmSync(dir, { recursive: true, force: true });

process.stdout.write(`// GENERATED by test/apiserver/protobuf/tools/capture-kubectl.mjs: request bodies recorded from
// kubectl ${PB_KUBECTL} (protobuf, base64) and kubectl 1.30 (JSON) for the same \`kubectl create\` command.

export interface KubectlFixture { name: string; command: string; protobuf: string; json: Record<string, unknown> }

export const KUBECTL_FIXTURES: readonly KubectlFixture[] = ${JSON.stringify(out, null, 2)};
`);
