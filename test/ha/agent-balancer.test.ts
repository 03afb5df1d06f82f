// An agent joined through one API server learns the others and keeps them on disk; when that
// server is killed (-9), the agent carries on through the others: its node Lease is renewed with
// no gap longer than the lease duration and the Node stays Ready; restarted while that server is
// still dead, it starts from the remembered list. Three real `trireme apiserver` processes on one
// etcd (127.0.5.11-13) and a real `trireme agent` (127.0.5.20).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../src/api/object.js';
import { parseKubeTime } from '../../src/api/time.js';
import { resource } from '../../src/client/resources.js';
import { launchCli, logTail, type LaunchedProcess } from '../../src/launch/cli-process.js';
import { rememberedServersPath } from '../../src/agent/node-join.js';
import { DEFAULT_AGENT_TIMINGS } from '../../src/agent/agent.js';
import { pollUntil } from '../../src/util/poll.js';
import { deps, needs } from '../helpers/require-dep.js';
import { CLI_MAIN, startThreeApiServers, type ThreeServers } from './three-apiservers.js';

const LEASES = resource('coordination.k8s.io', 'leases');
const NODES = resource('', 'nodes');
const NODE = 'lb-agent-1';
const NODE_IP = '127.0.5.20';

interface LeaseLike extends KubeObject { spec?: { renewTime?: string; holderIdentity?: string; leaseDurationSeconds?: number } }
interface NodeLike extends KubeObject { status?: { conditions?: { type: string; status: string }[] } }

describe('an agent balancing over three API servers', { skip: needs(deps.etcd), timeout: 240_000 }, () => {
  let ha: ThreeServers | undefined;
  let agent: LaunchedProcess | undefined;
  let agentDir = '';
  let agentLog = '';
  let stopSampling = false;

  before(async () => {
    ha = await startThreeApiServers(['127.0.5.11', '127.0.5.12', '127.0.5.13'], 'agent');
    agentDir = join(ha.dir, 'agent');
    agentLog = join(ha.dir, 'agent.log');
  });
  after(async () => {
    stopSampling = true;
    agent?.kill();
    await ha?.close();
  });

  const startAgent = async (token?: string): Promise<LaunchedProcess> => launchCli({
    entry: CLI_MAIN, dataDir: agentDir, logFile: agentLog, tracker: ha!.tracker,
    args: ['agent', '--server', ha!.servers[0]!.url, ...(token ? ['--token', token] : []), '--data-dir', agentDir, '--node-name', NODE, '--node-ip', NODE_IP,
      '--kubelet-port', '0', '--port-range', '21000-21049', '--log-format', 'json'],
  });

  const fail = (msg: string): never => assert.fail(`${msg}\n--- agent ---\n${logTail(agentLog, 40)}\n${ha!.logs()}`);

  it('learns B and C, survives kill -9 of A with its Lease renewed in time, and restarts from the remembered list', async (t) => {
    const [a, b, c] = ha!.servers;
    const token = readFileSync(join(a!.dataDir, 'token'), 'utf8').trim();
    agent = await startAgent(token);
    const nodeReady = async (): Promise<boolean> => {
      const n = await b!.admin.get<NodeLike>(NODES, undefined, NODE).catch(() => undefined);
      return n?.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
    };
    await pollUntil('the node to be Ready', nodeReady, { timeoutMs: 60_000, everyMs: 200 }).catch(() => fail('the node never became Ready'));

    // The file on disk names all three.
    const file = rememberedServersPath(agentDir);
    const remembered = await pollUntil('the agent to remember three servers', async () => {
      const doc = await readFile(file, 'utf8').then((t) => JSON.parse(t) as { servers: string[] }, () => undefined);
      return doc && doc.servers.length === 3 ? doc.servers : undefined;
    }, { timeoutMs: 30_000, everyMs: 200 }).catch(() => fail(`${file} never named three servers`));
    assert.deepEqual([...remembered].sort(), [a!.url, b!.url, c!.url].sort());

    // Sample the node Lease (through B) from now on: every renewTime it ever had.
    const renewals = new Set<number>();
    const sampler = (async () => {
      while (!stopSampling) {
        const l = await b!.admin.get<LeaseLike>(LEASES, 'kube-node-lease', NODE).catch(() => undefined);
        const t = parseKubeTime(l?.spec?.renewTime);
        if (t !== undefined) renewals.add(t);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    await pollUntil('two renewals seen', () => renewals.size >= 2, { timeoutMs: 30_000 });

    const killedAt = Date.now();
    a!.proc.kill();
    await a!.proc.exited;
    // Renewals after the kill, through B or C (A is gone): wait for several.
    await pollUntil('four renewals after the kill', () => [...renewals].filter((t) => t > killedAt).length >= 4, { timeoutMs: 60_000, everyMs: 200 })
      .catch(() => fail('the Lease was not renewed after A was killed'));
    const sorted = [...renewals].sort((x, y) => x - y);
    const gaps = sorted.slice(1).map((t, i) => t - sorted[i]!);
    const longest = Math.max(...gaps);
    const leaseMs = DEFAULT_AGENT_TIMINGS.leaseDurationSeconds * 1000;
    t.diagnostic(`longest gap between Lease renewals across the kill: ${longest} ms (lease ${leaseMs} ms)`);
    assert.ok(longest < leaseMs, `longest gap between renewals ${longest} ms, lease duration ${leaseMs} ms (renewals ${sorted.map((t) => t - killedAt).join(', ')} ms from the kill)`);
    assert.ok(await nodeReady(), 'the node is still Ready');
    const switched = readFileSync(agentLog, 'utf8').split('\n').some((l) => l.includes('using another API server') && (l.includes(b!.url) || l.includes(c!.url)));
    assert.ok(switched, 'the agent logged its switch to B or C');

    // Restart while A is still dead: the seed is unreachable, the remembered servers carry it.
    await agent.stop();
    const restartedAt = Date.now();
    agent = await startAgent();
    await pollUntil('a renewal by the restarted agent', () => [...renewals].some((t) => t > restartedAt), { timeoutMs: 60_000, everyMs: 200 })
      .catch(() => fail('the restarted agent never renewed its Lease'));
    assert.ok(await nodeReady(), 'the node is Ready after the restart');
    const log = readFileSync(agentLog, 'utf8');
    const sinceRestart = log.slice(log.lastIndexOf('=== start'));
    assert.ok(sinceRestart.includes('remembered API servers'), 'the restarted agent read the remembered list');
    stopSampling = true;
    await sampler;
  });
});
