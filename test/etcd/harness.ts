// Test helper for the managed etcd tests: temp data dirs with a cluster CA, members on free
// ports of this suite's loopback range (127.0.1.x), and a cleanup that stops every member and
// ends any etcd left on the data dirs, even when the test failed.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePki, type Pki } from '../../src/apiserver/pki.js';
import { ensureEtcdTls, type EtcdTls } from '../../src/etcd/tls.js';
import { startEtcdMember, type ManagedEtcd, type StartEtcdOptions } from '../../src/etcd/member.js';
import { clusterInitConfig, etcdPaths, joinConfig, type MemberConfig } from '../../src/etcd/paths.js';
import { killLeftovers } from '../../src/etcd/leftover.js';
import { openEtcdAdmin, type EtcdAdmin } from '../../src/etcd/membership.js';
import { freePorts } from '../../src/util/free-port.js';
import { deps, pathOf } from '../helpers/require-dep.js';

export interface TestMember {
  name: string;
  ip: string;
  dataDir: string;
  tls: EtcdTls;
  peerUrl: string;
  clientUrl: string;
}

export class Harness {
  readonly dirs: string[] = [];
  readonly running = new Set<ManagedEtcd>();
  private pki: Pki | undefined;
  private root = '';

  async init(): Promise<void> {
    this.root = await mkdtemp(join(tmpdir(), 'trireme-etcd-'));
    this.dirs.push(this.root);
    this.pki = await ensurePki(join(this.root, 'ca'), { sans: [] });
  }

  get ca(): Pki {
    if (!this.pki) throw new Error('harness not initialised');
    return this.pki;
  }

  /** A member's data dir, certificates and URLs on two free ports of `ip`. */
  async member(name: string, ip: string): Promise<TestMember> {
    const dataDir = join(this.root, name);
    const tls = await ensureEtcdTls(dataDir, this.ca, { name, ip });
    const [peerPort, clientPort] = await freePorts(ip, 2);
    const peerUrl = `https://${ip}:${peerPort}`;
    const clientUrl = `https://${ip}:${clientPort}`;
    return { name, ip, dataDir, tls, peerUrl, clientUrl };
  }

  async start(m: TestMember, config: MemberConfig | undefined, extra: Partial<StartEtcdOptions> = {}): Promise<ManagedEtcd> {
    const e = await startEtcdMember({ dataDir: m.dataDir, config, tls: m.tls, etcdBinary: pathOf(deps.etcd), stopGraceMs: 3_000, ...extra });
    this.running.add(e);
    return e;
  }

  async stop(e: ManagedEtcd): Promise<void> {
    await e.stop();
    this.running.delete(e);
  }

  async cleanup(): Promise<void> {
    for (const e of this.running) await e.stop().catch(() => undefined);
    this.running.clear();
    for (const d of this.dirs) {
      // Members of every data dir under the root, including those started by other processes.
      for (const name of ['m1', 'm2', 'm3', 'solo', 'host']) await killLeftovers(etcdPaths(join(d, name)), { graceMs: 2_000 });
    }
    for (const d of this.dirs) await rm(d, { recursive: true, force: true });
  }
}

export function firstConfig(m: TestMember): MemberConfig {
  return clusterInitConfig(m);
}

/** Starts m1 as a new cluster, then joins each further member as a learner and promotes it. */
export async function growCluster(h: Harness, members: TestMember[]): Promise<{ running: ManagedEtcd[]; admin: EtcdAdmin }> {
  const [first, ...rest] = members;
  if (!first) throw new Error('no members');
  const e1 = await h.start(first, firstConfig(first));
  await e1.ready();
  const admin = openEtcdAdmin({ endpoints: [first.clientUrl], tls: first.tls.client });
  const running = [e1];
  for (const m of rest) {
    const { memberId, initialCluster } = await admin.addLearner(m.name, m.peerUrl);
    const e = await h.start(m, joinConfig(m, initialCluster));
    await e.ready();
    await admin.promoteWhenCaughtUp(memberId, { timeoutMs: 30_000 });
    running.push(e);
  }
  return { running, admin };
}
