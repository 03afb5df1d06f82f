// `trireme lb` in front of three real `trireme apiserver` processes on one etcd, sharing one CA,
// on 127.0.6.1-3 (balancer 127.0.6.10): the real kubectl through the balancer (its client
// certificate passes through to the servers), a steady loop of kubectl writes, kill -9 of one
// server: kubectl keeps working (failures counted, at most a few), every acknowledged write is
// there, the balancer logged the server down; SIGTERM stops the balancer with exit 0.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launchCli } from '../../src/launch/cli-process.js';
import { cliMain } from '../e2e/harness/paths.js';
import { killAll, tracker } from '../e2e/harness/tracking.js';
import { runKubectl, show } from '../e2e/harness/kubectl.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs } from '../helpers/require-dep.js';
import { kubeconfigFor, killDuringWrites, startApiServerTrio } from './lb-fixture.js';

describe('trireme lb in front of three API servers', { skip: needs(deps.etcd, deps.kubectl) }, () => {
  test('kubectl through trireme lb survives kill -9 of a server; no acknowledged write lost', { timeout: 300_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'trireme-lb-'));
    const etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'), [], { host: '127.0.6.1' });
    t.after(async () => {
      killAll();
      await etcd.kill();
      if (process.env.E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
    });
    await etcd.start();
    const servers = await startApiServerTrio({ root, hosts: ['127.0.6.1', '127.0.6.2', '127.0.6.3'], etcdEndpoint: etcd.endpoint, tlsSans: ['127.0.6.10'] });
    const ca = readFileSync(join(servers[0]!.dataDir, 'tls/ca.crt'), 'utf8');
    for (const s of servers) assert.equal(readFileSync(join(s.dataDir, 'tls/ca.crt'), 'utf8'), ca, 'one CA for all servers (ensurePki reused the copy)');

    const lbDir = join(root, 'lb');
    const lbLog = join(root, 'lb.log');
    const lb = await launchCli({
      entry: cliMain, dataDir: lbDir, logFile: lbLog, tracker,
      args: ['lb', '--listen', '127.0.6.10:0', ...servers.flatMap((s) => ['--server', s.url]), '--data-dir', lbDir, '--log-format', 'json'],
    });
    assert.equal(lb.ready.lb?.host, '127.0.6.10');
    const lbUrl = `https://127.0.6.10:${lb.ready.lb!.port}`;
    const kubeconfig = kubeconfigFor(servers[0]!.kubeconfig, lbUrl, join(root, 'lb.kubeconfig'));
    const kubectl = (args: string[]) => runKubectl(kubeconfig, root, args);

    const ns = await kubectl(['get', 'namespaces']);
    assert.equal(ns.code, 0, show(ns));
    assert.match(ns.stdout, /kube-system/);

    const victim = servers[0]!;
    const out = await killDuringWrites(kubectl, 'lbw', () => victim.proc.kill());
    t.diagnostic(`acked ${out.acked.length} (${out.ackedBeforeKill} before the kill), failures ${out.failures.length}: ${JSON.stringify(out.failures)}`);
    assert.ok(out.acked.length >= out.ackedBeforeKill + 10, `kubectl kept writing after the kill: ${JSON.stringify(out)}`);
    assert.ok(out.failuresAfterKill <= 3, `at most a few failed attempts in the gap: ${JSON.stringify(out.failures)}`);
    const missing = out.acked.filter((n) => !out.present.has(n));
    assert.deepEqual(missing, [], 'every acknowledged write is present');

    const log = readFileSync(lbLog, 'utf8');
    assert.ok(log.includes(`backend ${victim.url} is down`), `the balancer marked ${victim.url} down:\n${log.slice(-3000)}`);
    const exit = await lb.stop();
    assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM stops the balancer cleanly');
    assert.match(readFileSync(lbLog, 'utf8'), /balancer stopped/);
  });
});
