// Integration: a real API server in-process, the real agent, real processes.
// Every process started is killed in after(), whatever happened (process groups from state.json).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import { resource } from '../../src/client/resources.js';
import { startAgent, type AgentOptions, type RunningAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/util/log.js';
import type { StateFile } from '../../src/agent/runtime/state-files.js';
import { pollUntil } from '../../src/util/poll.js';

type PodObj = Pod & KubeObject;
const PODS = resource('', 'pods');
const NODES = resource('', 'nodes');
const LEASES = resource('coordination.k8s.io', 'leases');

/** Polls `fn` until it returns a value (15 s at most). */
function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  return pollUntil(what, fn, { timeoutMs, everyMs: 100 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('agent (integration)', () => {
  let api: TestApiServer;
  let dataDir: string;
  let agent: RunningAgent | undefined;
  let opts: AgentOptions;

  async function statesUnder(dir: string): Promise<StateFile[]> {
    const out: StateFile[] = [];
    const walk = async (d: string): Promise<void> => {
      for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) await walk(p);
        else if (e.name === 'state.json') out.push(JSON.parse(await readFile(p, 'utf8')) as StateFile);
      }
    };
    await walk(dir);
    return out;
  }

  before(async () => {
    api = await startTestApiServer();
    dataDir = await mkdtemp(path.join(tmpdir(), 'trireme-agent-'));
    const pki = await ensurePki(api.dataDir, { sans: ['127.0.0.1'] });
    const serving = await pki.issueServingCert('system:node:n1', ['127.0.0.1']);
    await mkdir(path.join(dataDir, 'manifests'), { recursive: true });
    await writeFile(path.join(dataDir, 'manifests', 'static.yaml'), [
      'apiVersion: v1', 'kind: Pod', 'metadata: {name: stat, namespace: default}',
      'spec:', '  containers:', '  - name: c', '    image: none', '    command: [sleep, "1000"]', '',
    ].join('\n'));
    opts = {
      client: api.client, nodeName: 'n1', nodeIp: '127.0.0.1', dataDir, kubeletPort: 0, portRange: [41000, 41999],
      servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, caPem: pki.caCertPem, logger: silentLogger,
      timings: { statusPeriodMs: 1000, leasePeriodMs: 500, podResyncMs: 1000, staticPodPeriodMs: 500, runtimePollMs: 100, backoff: { initialMs: 300, maxMs: 2000, resetAfterMs: 600_000 } },
    };
    agent = await startAgent(opts);
  });

  after(async () => {
    await agent?.stop();
    for (const s of await statesUnder(path.join(dataDir, 'agent'))) {
      for (const pid of [-s.pgid, s.shimPid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await api.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  async function createPod(name: string, spec: Pod['spec'], ns = 'default'): Promise<PodObj> {
    return api.client.create<PodObj>(PODS, ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns }, spec: { nodeName: 'n1', ...spec! } });
  }

  async function pidOf(pod: PodObj, container: string): Promise<number> {
    const dir = path.join(dataDir, 'agent', 'pods', pod.metadata!.uid!, 'containers', container);
    const attempts = (await readdir(dir)).map(Number).sort((a, b) => a - b);
    const s = JSON.parse(await readFile(path.join(dir, String(attempts.at(-1)), 'state.json'), 'utf8')) as StateFile;
    return s.pid;
  }

  it('registers the node and renews its lease', async () => {
    const node = await waitFor('node', () => api.client.get<KubeObject>(NODES, undefined, 'n1'));
    const st = node.status as { conditions: { type: string; status: string }[]; addresses: { type: string; address: string }[]; daemonEndpoints: { kubeletEndpoint: { Port: number } }; nodeInfo: { kubeletVersion: string } };
    assert.equal(st.conditions.find((c) => c.type === 'Ready')?.status, 'True');
    assert.deepEqual(st.addresses.find((a) => a.type === 'InternalIP')?.address, '127.0.0.1');
    assert.equal(st.daemonEndpoints.kubeletEndpoint.Port, agent!.kubeletPort);
    assert.match(st.nodeInfo.kubeletVersion, /^v1\.32\.0\+trireme\./);
    const lease = await waitFor('lease', () => api.client.get<KubeObject>(LEASES, 'kube-node-lease', 'n1'));
    const spec = lease.spec as { holderIdentity: string; renewTime: string };
    assert.equal(spec.holderIdentity, 'n1');
    assert.match(spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('runs a pod with env, ports and volumes', async () => {
    await api.client.create(resource('', 'configmaps'), 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { greeting: 'hello', 'app.conf': 'x=1' } });
    const pod = await createPod('web', {
      volumes: [{ name: 'conf', configMap: { name: 'cfg' } }, { name: 'scratch', emptyDir: {} }],
      containers: [{
        name: 'app', image: 'none',
        command: ['/bin/sh', '-c'],
        args: ['env > "$TRIREME_ROOT/env.txt"; cat "$TRIREME_ROOT/etc/conf/app.conf" > "$TRIREME_ROOT/conf.txt"; echo "$(MSG)" > "$TRIREME_ROOT/msg.txt"; exec sleep 1000'],
        env: [{ name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'greeting' } } }, { name: 'MSG', value: '$(GREETING) from $(POD_NAME)' }, { name: 'MY_NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }],
        ports: [{ containerPort: 8080, name: 'http' }, { containerPort: 9090 }],
        volumeMounts: [{ name: 'conf', mountPath: '/etc/conf' }, { name: 'scratch', mountPath: '/data' }],
      }],
    });
    const running = await waitFor('Running', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'web');
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
    });
    assert.equal(running.status?.podIP, '127.0.0.1');
    assert.equal(running.status?.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.match(running.status?.containerStatuses?.[0]?.containerID ?? '', /^process:\/\/[0-9a-f]{64}$/);
    const root = path.join(dataDir, 'agent', 'pods', pod.metadata!.uid!, 'rootfs', 'app');
    const env = await waitFor('env file', async () => {
      const t = await readFile(path.join(root, 'msg.txt'), 'utf8').catch(() => '');
      return t ? readFile(path.join(root, 'env.txt'), 'utf8') : undefined;
    });
    const vars = new Map(env.split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(vars.get('POD_NAME'), 'web');
    assert.equal(vars.get('MY_NS'), 'default');
    assert.equal(vars.get('NODE_NAME'), 'n1');
    const port = Number(vars.get('PORT'));
    assert.ok(port >= 41000 && port <= 41999, `PORT ${port}`);
    assert.equal(vars.get('PORT_HTTP'), String(port));
    assert.equal((await readFile(path.join(root, 'msg.txt'), 'utf8')).trim(), 'hello from web');
    assert.equal(await readFile(path.join(root, 'conf.txt'), 'utf8'), 'x=1');
    const cond = running.status?.conditions?.find((c) => c.type === 'trireme.io/PortsAllocated');
    const ports = JSON.parse(cond?.message ?? '{}') as Record<string, number>;
    assert.equal(ports['app/http'], port);
    assert.ok(ports['app/9090'] && ports['app/9090'] !== port);
  });

  it('restarts a container killed with kill -9 and counts the restart', async () => {
    const pod = await api.client.get<PodObj>(PODS, 'default', 'web');
    const pid = await pidOf(pod, 'app');
    process.kill(pid, 'SIGKILL');
    const p = await waitFor('restart', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'web');
      const cs = p.status?.containerStatuses?.[0];
      return cs && (cs.restartCount ?? 0) >= 1 && cs.state?.running ? p : undefined;
    });
    const cs = p.status!.containerStatuses![0]!;
    assert.equal(cs.lastState?.terminated?.exitCode, 137);
    assert.notEqual(await pidOf(p, 'app'), pid);
  });

  it('marks a restartPolicy Never pod whose container fails as Failed', async () => {
    await createPod('once', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'none', command: ['/bin/sh', '-c', 'exit 3'] }] });
    const p = await waitFor('Failed', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'once');
      return p.status?.phase === 'Failed' ? p : undefined;
    });
    const t = p.status?.containerStatuses?.[0]?.state?.terminated;
    assert.equal(t?.exitCode, 3, JSON.stringify(p.status));
    assert.equal(t?.reason, 'Error');
  });

  it('reports CreateContainerConfigError without a command', async () => {
    await createPod('nocmd', { containers: [{ name: 'c', image: 'nginx' }] });
    const p = await waitFor('config error', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'nocmd');
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError' ? p : undefined;
    });
    assert.match(p.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '', /needs a command/);
  });

  it('keeps each container running exactly once across an agent restart', async () => {
    const before = await api.client.get<PodObj>(PODS, 'default', 'web');
    const pid = await pidOf(before, 'app');
    const restarts = before.status?.containerStatuses?.[0]?.restartCount;
    await agent!.stop();
    agent = await startAgent(opts);
    // A duplicate would be started by the new agent's first sync of the pod: wait until that
    // sync completed (it also posted the status the new worker computed), then look.
    const restarted = agent;
    await waitFor('the new agent synced the pod', () => Promise.resolve((restarted.pods.worker(before.metadata!.uid!)?.syncs ?? 0) >= 1));
    const after_ = await api.client.get<PodObj>(PODS, 'default', 'web');
    assert.equal(await pidOf(after_, 'app'), pid);
    assert.ok(alive(pid));
    assert.equal(after_.status?.containerStatuses?.[0]?.restartCount, restarts);
    const states = (await statesUnder(path.join(dataDir, 'agent', 'pods', before.metadata!.uid!))).filter((s) => alive(s.pid));
    assert.equal(states.length, 1);
  });

  it('runs a static pod and mirrors it', async () => {
    const m = await waitFor('mirror Running', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'stat-n1');
      return p.status?.phase === 'Running' ? p : undefined;
    });
    assert.ok(m.metadata?.annotations?.['kubernetes.io/config.mirror']);
    assert.equal(m.spec?.nodeName, 'n1');
  });

  it('stops the process group when the pod is deleted and removes the pod', async () => {
    const pod = await api.client.get<PodObj>(PODS, 'default', 'web');
    const pid = await pidOf(pod, 'app');
    await api.client.delete(PODS, 'default', 'web', { gracePeriodSeconds: 2 });
    await waitFor('pod gone', async () => {
      try {
        await api.client.get<PodObj>(PODS, 'default', 'web');
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(alive(pid), false);
  });
});
