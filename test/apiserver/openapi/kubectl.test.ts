// The real kubectl against our OpenAPI v3 documents (served by a test-only HTTPS server):
// explain renders our descriptions, and apply downloads the OpenAPI, finds fieldValidation on the
// PATCH operations and goes on to the POST. Needs kubectl and openssl (test/helpers/require-dep.ts).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeApiServer, type FakeApiServer } from './fake-apiserver.js';
import { deps, needs } from '../../helpers/require-dep.js';

const KUBECTL = '/usr/bin/kubectl';
const skip = needs(deps.kubectl, deps.openssl);
let srv: FakeApiServer | undefined;

interface Run { code: number; stdout: string; stderr: string }

function kubectl(...args: string[]): Promise<Run> {
  return kubectlBin(KUBECTL, ...args);
}

function kubectlBin(bin: string, ...args: string[]): Promise<Run> {
  const s = srv;
  if (!s) throw new Error('server not started');
  const home = join(s.dir, `home-${bin.replace(/\W/g, '_')}`);
  mkdirSync(home, { recursive: true });
  return new Promise((resolve) => {
    // Async on purpose: the server runs in this process, a sync spawn would starve it.
    execFile(bin, ['--kubeconfig', s.kubeconfig, '--cache-dir', join(home, 'cache'), ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home },
      timeout: 60_000,
      killSignal: 'SIGKILL',
    }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

before(async () => {
  if (skip === false) srv = await startFakeApiServer();
});
after(async () => {
  await srv?.close();
});

test('kubectl explain deployment.spec shows the generated descriptions', { skip }, async () => {
  const r = await kubectl('explain', 'deployment.spec');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /GROUP:\s+apps/);
  assert.match(r.stdout, /DeploymentSpec is the specification of the desired behavior of the\s+Deployment/);
  assert.match(r.stdout, /replicas\s+<integer>/);
  assert.match(r.stdout, /selector\s+<LabelSelector> -required-/);
  assert.match(r.stdout, /template\s+<PodTemplateSpec> -required-/);
});

test('kubectl explain pod.spec.containers.ports resolves nested refs', { skip }, async () => {
  const r = await kubectl('explain', 'pod.spec.containers.ports');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /FIELD: ports <\[\]ContainerPort>/);
  assert.match(r.stdout, /containerPort\s+<integer> -required-/);
  assert.match(r.stdout, /protocol\s+<string>/);
});

test('kubectl apply --dry-run=server validates through OpenAPI v3 and reaches the POST', { skip }, async () => {
  const s = srv;
  assert.ok(s);
  const file = join(s.dir, 'deploy.yaml');
  writeFileSync(file, [
    'apiVersion: apps/v1', 'kind: Deployment', 'metadata:', '  name: web', 'spec:', '  replicas: 2',
    '  selector:', '    matchLabels: {app: web}', '  template:', '    metadata:', '      labels: {app: web}',
    '    spec:', '      containers:', '      - name: web', '        image: nginx', '        ports:', '        - containerPort: 80', '',
  ].join('\n'));
  const r = await kubectl('apply', '--dry-run=server', '-f', file);
  assert.doesNotMatch(r.stderr, /failed to download openapi/);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /deployment\.apps\/web created \(server dry run\)/);
  assert.ok(s.log.some((l) => l.startsWith('GET /openapi/v3/apis/apps/v1?hash=')), 'kubectl did not fetch the apps/v1 document');
  const post = s.requests.find((q) => q.method === 'POST');
  assert.ok(post, `no POST among ${JSON.stringify(s.requests.map((q) => `${q.method} ${q.url}`))}`);
  const url = new URL(post.url, s.url);
  assert.equal(url.pathname, '/apis/apps/v1/namespaces/default/deployments');
  // kubectl found fieldValidation on the PATCH operation, so it leaves strict checking to the server.
  assert.equal(url.searchParams.get('fieldValidation'), 'Strict');
  assert.equal(url.searchParams.get('dryRun'), 'All');
});

test('kubectl create -f with an unknown field is left to the server (fieldValidation=Strict)', { skip }, async () => {
  const s = srv;
  assert.ok(s);
  const file = join(s.dir, 'cm.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: b\ndatta:\n  x: y\n');
  const before = s.requests.length;
  const r = await kubectl('create', '-f', file);
  assert.equal(r.code, 0, r.stderr);
  const post = s.requests.slice(before).find((q) => q.method === 'POST');
  assert.ok(post);
  assert.equal(new URL(post.url, s.url).searchParams.get('fieldValidation'), 'Strict');
  assert.match(post.body, /"datta"/);
});

// The dispatcher picks 1.32 for our /version; the other versions we support speak OpenAPI v3 the
// same way (1.28 and older still need /openapi/v2, which we do not serve).
for (const minor of [29, 30, 31, 33]) {
  const v = `1.${minor}`;
  const bin = `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`;
  test(`kubectl ${v}: explain and apply --dry-run=server work`, { skip: skip || needs(deps.kubectlVersion(minor)) }, async () => {
    const s = srv;
    assert.ok(s);
    const file = join(s.dir, `lease-${v}.yaml`);
    writeFileSync(file, `apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: l${v.replace('.', '')}\nspec:\n  holderIdentity: a\n`);
    const e = await kubectlBin(bin, 'explain', 'lease.spec.leaseDurationSeconds');
    assert.equal(e.code, 0, e.stderr);
    assert.match(e.stdout, /leaseDurationSeconds is a duration/);
    const a = await kubectlBin(bin, 'apply', '--dry-run=server', '-f', file);
    assert.doesNotMatch(a.stderr, /failed to download openapi/);
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /lease\.coordination\.k8s\.io\/l\d+ created \(server dry run\)/);
  });
}
