// The real HAProxy (Debian 2.6) with the configuration `trireme lb --print-haproxy` prints,
// unchanged, in front of three real `trireme apiserver` processes on one etcd (127.0.6.11-13,
// HAProxy on 127.0.6.20): `haproxy -c` accepts it, all three servers are checked UP through
// /readyz over TLS, kubectl goes through it, and a kill -9 of one server under a steady kubectl
// write loop costs at most a few failed attempts and no acknowledged write.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/free-port.js';
import { pollUntil } from '../../src/util/poll.js';
import { cliMain } from '../e2e/harness/paths.js';
import { killAll, tracker } from '../e2e/harness/tracking.js';
import { runKubectl, show } from '../e2e/harness/kubectl.js';
import { EtcdProcess } from '../helpers/etcd.js';
import { deps, needs, pathOf } from '../helpers/require-dep.js';
import { kubeconfigFor, killDuringWrites, startApiServerTrio } from './lb-fixture.js';

describe('HAProxy with the printed configuration', { skip: needs(deps.etcd, deps.kubectl, deps.haproxy) }, () => {
  test('haproxy -c accepts it; kubectl through HAProxy survives kill -9 of a server; no acknowledged write lost', { timeout: 300_000 }, async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'trireme-haproxy-'));
    const etcd = await EtcdProcess.onFreePorts(join(root, 'etcd'), [], { host: '127.0.6.11' });
    t.after(async () => {
      killAll();
      await etcd.kill();
      if (process.env.E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
    });
    await etcd.start();
    const servers = await startApiServerTrio({ root, hosts: ['127.0.6.11', '127.0.6.12', '127.0.6.13'], etcdEndpoint: etcd.endpoint, tlsSans: ['127.0.6.20'] });

    const port = await freePort('127.0.6.20');
    const printed = spawnSync(process.execPath, [cliMain, 'lb', '--print-haproxy', '--listen', `127.0.6.20:${port}`, ...servers.flatMap((s) => ['--server', s.url])], { encoding: 'utf8' });
    assert.equal(printed.status, 0, printed.stderr);
    const cfg = join(root, 'haproxy.cfg');
    writeFileSync(cfg, printed.stdout);
    const haproxy = pathOf(deps.haproxy);
    const check = spawnSync(haproxy, ['-c', '-f', cfg], { encoding: 'utf8' });
    assert.equal(check.status, 0, `haproxy -c rejected the printed config:\n${check.stdout}${check.stderr}\n${printed.stdout}`);

    const logFile = join(root, 'haproxy.log');
    const fd = openSync(logFile, 'a');
    const child = spawn(haproxy, ['-db', '-f', cfg], { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    tracker.track(child, true);
    // HAProxy starts its servers UP and logs only changes: give the checks a few rounds, then no
    // server may have been marked DOWN (every /readyz over TLS passed).
    await pollUntil('HAProxy to listen', async () => {
      if (child.exitCode !== null) throw new Error(`haproxy exited ${child.exitCode}: ${readFileSync(logFile, 'utf8')}`);
      const c = net.connect(port, '127.0.6.20');
      const ok = await Promise.race([once(c, 'connect').then(() => true), once(c, 'error').then(() => false)]);
      c.destroy();
      return ok;
    }, { timeoutMs: 10_000, everyMs: 100 });
    const kubeconfig = kubeconfigFor(servers[0]!.kubeconfig, `https://127.0.6.20:${port}`, join(root, 'haproxy.kubeconfig'));
    const kubectl = (args: string[]) => runKubectl(kubeconfig, root, args);
    const ns = await pollUntil('kubectl through HAProxy', async () => {
      const r = await kubectl(['get', 'namespaces']);
      return r.code === 0 ? r : undefined;
    }, { timeoutMs: 30_000, everyMs: 500 });
    assert.match(ns.stdout, /kube-system/, show(ns));
    assert.doesNotMatch(readFileSync(logFile, 'utf8'), /is DOWN/, 'every server passed its /readyz checks');

    const victim = servers[1]!;
    const out = await killDuringWrites(kubectl, 'hapw', () => victim.proc.kill());
    t.diagnostic(`acked ${out.acked.length} (${out.ackedBeforeKill} before the kill), failures ${out.failures.length}: ${JSON.stringify(out.failures)}`);
    assert.ok(out.acked.length >= out.ackedBeforeKill + 10, `kubectl kept writing after the kill: ${JSON.stringify(out)}`);
    assert.ok(out.failuresAfterKill <= 3, `at most a few failed attempts in the gap: ${JSON.stringify(out.failures)}`);
    assert.deepEqual(out.acked.filter((n) => !out.present.has(n)), [], 'every acknowledged write is present');
    await pollUntil('HAProxy to mark the killed server DOWN', () => /trireme-api-servers\/api2 is DOWN/.test(readFileSync(logFile, 'utf8')), { timeoutMs: 15_000, everyMs: 200 });
  });
});
