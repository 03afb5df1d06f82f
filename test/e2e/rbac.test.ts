// End-to-end: RBAC with the real kubectl against one `trireme server` (no agent) on 127.0.80.1:
// a Role and RoleBinding made by kubectl, `kubectl auth can-i` (with --as, --list), `auth whoami`,
// the view/edit/admin matrix through RoleBindings, an escalation refused, `trireme user
// create`: a kubeconfig whose certificate kubectl is authenticated by, that RBAC then governs;
// the in-process components' and a node's grants (`auth can-i --as`), and the controllers working
// under their own roles with no 403.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { killAll, runKubectl, show, startServer, waitFor, type ServerHandle } from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, showCli } from '../ha/servers.js';

let server: ServerHandle;
const k = (args: string[]) => runKubectl(server.kubeconfig, server.scratch, args);
async function ok(args: string[]): Promise<string> {
  const r = await k(args);
  assert.equal(r.code, 0, show(r));
  return r.stdout;
}
async function canI(args: string[]): Promise<string> {
  const r = await k(['auth', 'can-i', ...args]);
  return r.stdout.trim();
}

describe('RBAC through kubectl', { skip: needs(deps.kubectl) }, () => {
  before(async () => {
    server = await startServer({ host: '127.0.80.1', extraArgs: ['--service-cluster-ip-range', '127.80.0.0/16'] });
    await ok(['create', 'namespace', 'shop']);
  });
  after(async () => {
    try { await server?.dispose(); } finally { killAll(); }
  });

  test('a Role and RoleBinding from kubectl; can-i yes and no; --list', async () => {
    await ok(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'shop']);
    await ok(['create', 'rolebinding', 'alice-reads', '--role=pod-reader', '--user=alice', '-n', 'shop']);
    assert.equal(await canI(['list', 'pods', '-n', 'shop', '--as', 'alice']), 'yes');
    assert.equal(await canI(['delete', 'pods', '-n', 'shop', '--as', 'alice']), 'no');
    assert.equal(await canI(['list', 'pods', '-n', 'default', '--as', 'alice']), 'no');
    const list = await ok(['auth', 'can-i', '--list', '-n', 'shop', '--as', 'alice']);
    assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]/m);
  });

  test('kubectl auth whoami', async () => {
    const out = await ok(['auth', 'whoami']);
    assert.match(out, /Username\s+admin/);
    assert.match(out, /system:masters/);
    assert.match(await ok(['auth', 'whoami', '--as', 'alice']), /Username\s+alice/);
  });

  test('view, edit, admin matrix through RoleBindings', async () => {
    await ok(['create', 'rolebinding', 'v', '--clusterrole=view', '--user=vic', '-n', 'shop']);
    await ok(['create', 'rolebinding', 'e', '--clusterrole=edit', '--user=eve', '-n', 'shop']);
    await ok(['create', 'rolebinding', 'a', '--clusterrole=admin', '--user=ada', '-n', 'shop']);
    const matrix: [string, string[], string][] = [
      ['vic', ['get', 'pods'], 'yes'], ['vic', ['create', 'pods'], 'no'], ['vic', ['get', 'secrets'], 'no'],
      ['eve', ['create', 'deployments.apps'], 'yes'], ['eve', ['get', 'secrets'], 'yes'], ['eve', ['create', 'roles.rbac.authorization.k8s.io'], 'no'],
      ['ada', ['create', 'roles.rbac.authorization.k8s.io'], 'yes'], ['ada', ['delete', 'pods'], 'yes'], ['ada', ['get', 'nodes'], 'no'],
    ];
    for (const [who, args, want] of matrix) assert.equal(await canI([...args, '-n', 'shop', '--as', who]), want, `${who} ${args.join(' ')}`);
  });

  test('escalation refused: a role with rules the requester lacks', async () => {
    const r = await k(['create', 'role', 'big', '--verb=*', '--resource=nodes', '-n', 'shop', '--as', 'ada']);
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /attempting to grant RBAC permissions not currently held/);
    await ok(['create', 'role', 'small', '--verb=get', '--resource=pods', '-n', 'shop', '--as', 'ada']);
    const b = await k(['create', 'rolebinding', 'x', '--clusterrole=cluster-admin', '--user=ada', '-n', 'shop', '--as', 'ada']);
    assert.notEqual(b.code, 0, show(b));
  });

  test('the in-process components run under their own roles: each refused what lies outside it', async () => {
    const matrix: [string, string[], string][] = [
      ['system:kube-scheduler', ['get', 'secrets'], 'no'], ['system:kube-scheduler', ['create', 'pods', '--subresource=binding'], 'yes'],
      ['system:kube-controller-manager', ['create', 'secrets'], 'no'], ['system:kube-controller-manager', ['create', 'replicasets.apps'], 'yes'],
      ['system:kube-controller-manager', ['escalate', 'clusterroles.rbac.authorization.k8s.io'], 'yes'],
      ['system:trireme-addons', ['list', 'secrets'], 'no'], ['system:trireme-addons', ['create', 'deployments.apps'], 'yes'],
      ['system:trireme-balancer', ['list', 'pods'], 'no'], ['system:trireme-alerts', ['list', 'pods'], 'no'],
    ];
    for (const [who, args, want] of matrix) assert.equal(await canI([...args, '-n', 'kube-system', '--as', who]), want, `${who} ${args.join(' ')}`);
    // A node's credentials: no Secret that no pod on it references.
    assert.equal(await canI(['get', 'secrets/any', '-n', 'shop', '--as', 'system:node:n9', '--as-group', 'system:nodes']), 'no');
    assert.equal(await canI(['patch', 'nodes/n9', '--as', 'system:node:n9', '--as-group', 'system:nodes']), 'yes');
    assert.equal(await canI(['patch', 'nodes/n8', '--as', 'system:node:n9', '--as-group', 'system:nodes']), 'no');
  });

  test('the controllers work under their roles: no 403 for any kind they touch, aggregated ClusterRoles written', async () => {
    await ok(['create', 'deployment', 'lp', '--image=x', '--replicas=2', '-n', 'shop']);
    const pods = async () => (JSON.parse(await ok(['get', 'pods', '-n', 'shop', '-l', 'app=lp', '-o', 'json'])) as { items: unknown[] }).items.length;
    await waitFor('the controller manager creates the ReplicaSet and its pods', async () => ((await pods()) === 2 ? true : undefined), 30_000, 250);
    await ok(['delete', 'deployment', 'lp', '-n', 'shop']);
    // The garbage collector removes the ReplicaSet and the pods.
    await waitFor('the garbage collector removes the pods', async () => ((await pods()) === 0 ? true : undefined), 30_000, 250);
    // The ClusterRole aggregation controller (an update that needs `escalate`) filled admin's rules.
    const admin = JSON.parse(await ok(['get', 'clusterrole', 'admin', '-o', 'json'])) as { rules?: unknown[] };
    assert.ok((admin.rules ?? []).length > 0, 'aggregated rules of admin');
    const metrics = await ok(['get', '--raw', '/metrics']);
    const refused = metrics.split('\n').filter((l) => l.startsWith('apiserver_request_total{') && l.includes('code="403"'))
      .filter((l) => /resource="(pods|replicasets|deployments|endpoints|endpointslices|events|leases|nodes|clusterroles|namespaces|services)"/.test(l));
    assert.deepEqual(refused, []);
  });

  test('trireme user create: a kubeconfig of the cluster CA; RBAC decides what its user may do; bad input refused', async () => {
    const made = await runCli(['user', 'create', 'carol', '--group', 'dev', '--group', 'qa', '--days', '7', '--data-dir', server.dataDir, '-n', 'shop']);
    assert.equal(made.code, 0, showCli(made));
    const carolCfg = join(server.scratch, 'carol.kubeconfig');
    writeFileSync(carolCfg, made.stdout, { mode: 0o600 });
    const asCarol = (args: string[]) => runKubectl(carolCfg, server.scratch, args);
    const who = await asCarol(['auth', 'whoami']);
    assert.equal(who.code, 0, show(who));
    assert.match(who.stdout, /Username\s+carol/);
    assert.match(who.stdout, /Groups\s+\[dev qa system:authenticated\]/);
    const refused = await asCarol(['get', 'pods']);
    assert.notEqual(refused.code, 0, 'no binding yet: refused');
    assert.match(refused.stderr, /forbidden: User "carol" cannot list resource "pods"/);
    await ok(['create', 'rolebinding', 'dev-view', '--clusterrole=view', '--group=dev', '-n', 'shop']);
    const allowed = await asCarol(['get', 'pods']);
    assert.equal(allowed.code, 0, `bound through its group, in the context's namespace: ${show(allowed)}`);

    for (const [args, why] of [
      [['user', 'create', 'system:evil', '--data-dir', server.dataDir], /system: namespace/],
      [['user', 'create', 'dave', '--days', '0', '--data-dir', server.dataDir], /--days must be a whole number from 1/],
      [['user', 'create', 'dave', '--data-dir', join(server.scratch, 'nowhere')], /no cluster CA in .*nowhere/],
    ] as const) {
      const r = await runCli([...args]);
      assert.equal(r.code, 2, showCli(r));
      assert.equal(r.stdout, '', 'nothing printed on stdout');
      assert.match(r.stderr, why);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    }
  });
});
