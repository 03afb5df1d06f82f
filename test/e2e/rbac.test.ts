// End-to-end: RBAC with the real kubectl against one `trireme server` (no agent) on 127.0.80.1:
// a Role and RoleBinding made by kubectl, `kubectl auth can-i` (with --as, --list), `auth whoami`,
// the view/edit/admin matrix through RoleBindings, an escalation refused, and `trireme user
// create`: a kubeconfig whose certificate kubectl is authenticated by, that RBAC then governs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { killAll, runKubectl, show, startServer, type ServerHandle } from './harness.js';
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
