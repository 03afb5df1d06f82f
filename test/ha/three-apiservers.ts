// Test fixture: three `trireme apiserver` processes on one real etcd, sharing one CA and join
// token (the first server's DATA/tls/ca.crt, ca.key and token are copied into the others' data
// dirs before their first start, which pki.ts then reuses), on given loopback addresses and one
// common port — as real servers on separate machines would be, so that the default/kubernetes
// Endpoints (one subset: addresses × port) name exactly the three. Every process (etcd included)
// is killed by `close()`, and by the tracker's exit hooks if the test process dies first.
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildTracker } from '../../src/launch/children.js';
import { launchCli, logTail, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { ApiClient } from '../../src/client/api-client.js';
import { loadKubeconfig, type ClientConfig } from '../../src/client/config.js';
import { freePort } from '../../src/util/free-port.js';
import { EtcdProcess } from '../helpers/etcd.js';

/** The CLI entry compiled next to this file (whichever dir the tests were compiled into). */
export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export interface ApiServerProcess {
  name: string;
  host: string;
  url: string;
  dataDir: string;
  logFile: string;
  proc: LaunchedProcess;
  /** An admin client of this server alone. */
  admin: ApiClient;
  adminConfig: ClientConfig;
}

export interface ThreeServers {
  dir: string;
  port: number;
  servers: ApiServerProcess[];
  tracker: ChildTracker;
  etcd: EtcdProcess;
  /** Log tails of every server, for failure messages. */
  logs(): string;
  close(): Promise<void>;
}

function bindable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** A port free on every host (bounded tries). */
async function commonPort(hosts: string[]): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const p = await freePort(hosts[0]!);
    let ok = true;
    for (const h of hosts.slice(1)) ok &&= await bindable(h, p);
    if (ok) return p;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')}`);
}

export async function startThreeApiServers(hosts: [string, string, string], tag: string): Promise<ThreeServers> {
  const dir = await mkdtemp(join(tmpdir(), `trireme-ha-${tag}-`));
  const tracker = new ChildTracker();
  tracker.installExitHooks();
  const etcd = await EtcdProcess.onFreePorts(join(dir, 'etcd'));
  const servers: ApiServerProcess[] = [];
  const close = async () => {
    for (const s of servers) s.admin.close();
    tracker.killAll();
    await etcd.kill();
    if (process.env.E2E_KEEP !== '1') await rm(dir, { recursive: true, force: true });
  };
  try {
    await etcd.start();
    const port = await commonPort(hosts);
    for (const [i, host] of hosts.entries()) {
      const name = String.fromCharCode(97 + i);
      const dataDir = join(dir, name);
      await mkdir(join(dataDir, 'tls'), { recursive: true, mode: 0o700 });
      if (i > 0) {
        const first = servers[0]!.dataDir;
        for (const f of ['tls/ca.crt', 'tls/ca.key', 'token']) await copyFile(join(first, f), join(dataDir, f));
      }
      const logFile = join(dir, `${name}.log`);
      const proc = await launchCli({
        entry: CLI_MAIN, dataDir, logFile, tracker,
        args: ['apiserver', '--data-dir', dataDir, '--bind-address', host, '--https-port', String(port), '--etcd-endpoints', etcd.endpoint, '--etcd-prefix', `/${tag}`, '--log-format', 'json'],
      });
      const adminConfig = loadKubeconfig(proc.ready.apiServer!.kubeconfig);
      servers.push({ name, host, url: proc.ready.apiServer!.url, dataDir, logFile, proc, admin: new ApiClient(adminConfig), adminConfig });
    }
    return {
      dir, port, servers, tracker, etcd, close,
      logs: () => servers.map((s) => `--- ${s.name} (${s.url}) ---\n${logTail(s.logFile, 30)}`).join('\n'),
    };
  } catch (e) {
    await close();
    throw e;
  }
}
