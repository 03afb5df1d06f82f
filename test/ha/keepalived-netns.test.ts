// The real keepalived (Debian 2.2) with the configuration `trireme lb --print-keepalived`
// prints, unchanged, in three network namespaces the test makes (needs root): a hub namespace
// with a bridge and etcd (10.77.0.1), three server namespaces (10.77.0.11-13) each running a
// `trireme apiserver` on 0.0.0.0:6443 and keepalived (priorities 150/100/50, VIP 10.77.0.100/24,
// check: `trireme lb --check https://127.0.0.1:6443`), and a client namespace (10.77.0.50)
// running kubectl against the VIP. The VIP sits on the highest priority; cutting that
// namespace's link (`ip link set eth0 down`) moves it to the next within seconds; a steady
// kubectl write loop through the VIP keeps working (failures counted, at most a few) and no
// acknowledged write is lost. Every process and namespace is removed afterwards, pass or fail.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from '../../src/util/poll.js';
import { cliMain } from '../e2e/harness/paths.js';
import { killAll, tracker } from '../e2e/harness/tracking.js';
import { runKubectl, show } from '../e2e/harness/kubectl.js';
import { deps, needs, pathOf, requireCapability } from '../helpers/require-dep.js';
import { kubeconfigFor, killDuringWrites, startApiServerTrio } from './lb-fixture.js';
import { ip, NetnsLab } from './netns.js';

const VIP = '10.77.0.100';
const PRIORITIES = [150, 100, 50];

function spawnTracked(cmd: string, args: string[], logFile: string) {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  tracker.track(child, true);
  return child;
}

describe('keepalived with the printed configuration in network namespaces', { skip: needs(deps.etcd, deps.kubectl, deps.keepalived) }, () => {
  test('the VIP moves when its holder loses its link; kubectl through the VIP keeps working; no acknowledged write lost', { timeout: 300_000 }, async (t) => {
    if (!requireCapability(t, process.getuid?.() === 0 ? undefined : 'root (network namespaces)')) return;
    const root = mkdtempSync(join(tmpdir(), 'trireme-vip-'));
    const lab = new NetnsLab(`tlb${process.pid}`, '10.77.0.1', 24);
    t.after(() => {
      killAll();
      const left = lab.destroy();
      if (left.length > 0) t.diagnostic(`could not delete: ${left.join('; ')}`);
      if (process.env.E2E_KEEP !== '1') rmSync(root, { recursive: true, force: true });
    });
    lab.createHub();
    const members = [1, 2, 3].map((i) => lab.addMember(`n${i}`, `10.77.0.1${i}`));
    const client = lab.addMember('c', '10.77.0.50');

    // etcd in the hub: reachable from every member over the bridge.
    const etcdUrl = 'http://10.77.0.1:2379';
    const etcd = spawnTracked('ip', ['netns', 'exec', lab.hub, pathOf(deps.etcd), '--name', 'hub', '--data-dir', join(root, 'etcd'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl, '--listen-peer-urls', 'http://10.77.0.1:2380',
      '--initial-advertise-peer-urls', 'http://10.77.0.1:2380', '--initial-cluster', 'hub=http://10.77.0.1:2380'], join(root, 'etcd.log'));
    await pollUntil('etcd in the hub namespace', () => {
      if (etcd.exitCode !== null) throw new Error(`etcd exited: ${readFileSync(join(root, 'etcd.log'), 'utf8').slice(-2000)}`);
      // Asked from inside the hub (the root namespace has no route there); etcdctl may be absent.
      const probe = `fetch('${etcdUrl}/health').then(async (r) => process.exit((await r.json()).health === 'true' ? 0 : 1), () => process.exit(1))`;
      return spawnSync('ip', ['netns', 'exec', lab.hub, process.execPath, '-e', probe], { timeout: 10_000 }).status === 0;
    }, { timeoutMs: 30_000, everyMs: 300 });

    const servers = await startApiServerTrio({
      root, hosts: members.map((m) => m.address), etcdEndpoint: etcdUrl, tlsSans: [VIP], fixedPort: 6443,
      wrapper: (i) => ['ip', 'netns', 'exec', members[i]!.ns],
    });

    // keepalived in each server namespace, with the printed config as is.
    for (const [i, m] of members.entries()) {
      const printed = spawnSync(process.execPath, [cliMain, 'lb', '--print-keepalived', '--vip', `${VIP}/24`, '--interface', 'eth0',
        '--priority', String(PRIORITIES[i]), '--router-id', '77', '--check-url', 'https://127.0.0.1:6443'], { encoding: 'utf8' });
      assert.equal(printed.status, 0, printed.stderr);
      const dir = join(root, `keepalived-n${i + 1}`);
      mkdirSync(dir);
      const cfg = join(dir, 'keepalived.conf');
      writeFileSync(cfg, printed.stdout);
      const check = spawnSync('ip', ['netns', 'exec', m.ns, pathOf(deps.keepalived), '-t', '-f', cfg], { encoding: 'utf8' });
      assert.equal(check.status, 0, `keepalived -t rejected the printed config:\n${check.stdout}${check.stderr}\n${printed.stdout}`);
      spawnTracked('ip', ['netns', 'exec', m.ns, pathOf(deps.keepalived), '--vrrp', '--dont-fork', '--log-console', '--log-detail',
        '-f', cfg, '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid')], join(dir, 'keepalived.log'));
    }
    const holders = () => members.filter((m) => lab.addresses(m.ns).includes(VIP)).map((m) => m.ns);
    const logs = () => members.map((_m, i) => `--- n${i + 1}\n${readFileSync(join(root, `keepalived-n${i + 1}`, 'keepalived.log'), 'utf8').slice(-1500)}`).join('\n');
    await pollUntil('the VIP on the highest priority (n1) alone', () => {
      const h = holders();
      return h.length === 1 && h[0] === members[0]!.ns;
    }, { timeoutMs: 40_000, everyMs: 250 }).catch((e: Error) => assert.fail(`${e.message}; holders ${holders().join(',')}\n${logs()}`));

    // kubectl in the client namespace, through the VIP.
    const kubectlBin = join(root, 'kubectl-in-client-ns');
    writeFileSync(kubectlBin, `#!/bin/sh\nexec ip netns exec ${client.ns} /usr/bin/kubectl "$@"\n`);
    chmodSync(kubectlBin, 0o755);
    const kubeconfig = kubeconfigFor(servers[0]!.kubeconfig, `https://${VIP}:6443`, join(root, 'vip.kubeconfig'));
    const kubectl = (args: string[]) => runKubectl(kubeconfig, root, args, { bin: kubectlBin });
    const ns = await kubectl(['get', 'namespaces']);
    assert.equal(ns.code, 0, show(ns));
    assert.match(ns.stdout, /kube-system/);

    let cutAt = 0;
    let vipMoved: Promise<number> | undefined;
    const out = await killDuringWrites(kubectl, 'vipw', () => {
      cutAt = Date.now();
      ip('-n', members[0]!.ns, 'link', 'set', 'eth0', 'down');
      // Watched while the writes go on, so the time is when it happened, not when we looked.
      vipMoved = pollUntil('the VIP on n2', () => (holders().includes(members[1]!.ns) ? Date.now() - cutAt : undefined), { timeoutMs: 30_000, everyMs: 100 });
      vipMoved.catch(() => undefined);
    });
    t.diagnostic(`acked ${out.acked.length} (${out.ackedBeforeKill} before the cut), failures ${out.failures.length}: ${JSON.stringify(out.failures)}`);
    assert.ok(vipMoved, 'the link was cut');
    const movedMs = await vipMoved.catch((e: Error) => assert.fail(`${e.message}; holders ${holders().join(',')}\n${logs()}`));
    t.diagnostic(`the VIP was on n2 ${movedMs} ms after n1's link went down`);
    assert.ok(!holders().includes(members[0]!.ns), 'n1 (cut off, FAULT) gave the VIP up');
    assert.ok(!holders().includes(members[2]!.ns), 'n3 (lowest priority) does not hold it');
    assert.ok(out.acked.length >= out.ackedBeforeKill + 10, `kubectl kept writing through the VIP after the cut: ${JSON.stringify(out)}`);
    assert.ok(out.failuresAfterKill <= 3, `at most a few failed attempts in the gap: ${JSON.stringify(out.failures)}`);
    assert.deepEqual(out.acked.filter((n) => !out.present.has(n)), [], 'every acknowledged write is present');
  });
});
