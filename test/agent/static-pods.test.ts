// Integration: mirror pods of static pods against a real API server and a real agent.
// - A mirror delete that fails (the API answers 503 twice: a fault injected in front of the real
//   client) is retried until the mirror is gone, and the failure is logged once, not per attempt.
// - A manifest removed while the agent was down: the restarted agent finds the leftover mirror
//   pod of its node and deletes it.
// Every process started is killed in after(), whatever happened (process groups from state.json).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import type { ApiClient } from '../../src/client/api-client.js';
import { resource } from '../../src/client/resources.js';
import { startAgent, type AgentOptions, type RunningAgent } from '../../src/agent/agent.js';
import { TriremeError, isTriremeError } from '../../src/errors.js';
import type { StateFile } from '../../src/agent/runtime/state-files.js';
import { pollUntil } from '../../src/util/poll.js';

type PodObj = Pod & KubeObject;
const PODS = resource('', 'pods');

const manifest = (name: string): string => [
  'apiVersion: v1', 'kind: Pod', `metadata: {name: ${name}, namespace: default}`,
  'spec:', '  containers:', '  - name: c', '    image: none', '    command: [sleep, "1000"]', '',
].join('\n');

describe('static pods: mirror deletes are retried', () => {
  let api: TestApiServer;
  let dataDir: string;
  let agent: RunningAgent | undefined;
  let opts: AgentOptions;
  /** Mirror names whose next deletes fail, and how many times. */
  const failDeletes = new Map<string, number>();
  let deleteAttempts = 0;
  const logs: { level: number; msg: string; pod?: string }[] = [];

  async function killAll(dir: string): Promise<void> {
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
      if (!e.isFile() || e.name !== 'state.json') continue;
      // A shim that is still ending may remove its state file between the listing and the read.
      const text = await readFile(path.join(e.parentPath, e.name), 'utf8').catch((err: unknown) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      });
      if (text === undefined) continue;
      const s = JSON.parse(text) as StateFile;
      for (const pid of [-s.pgid, s.shimPid]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  }

  const mirrorGone = (name: string) => async (): Promise<boolean> => {
    try {
      await api.client.get<PodObj>(PODS, 'default', name);
      return false;
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return true;
      throw e;
    }
  };

  before(async () => {
    api = await startTestApiServer();
    dataDir = await mkdtemp(path.join(tmpdir(), 'trireme-static-'));
    const pki = await ensurePki(api.dataDir, { sans: ['127.0.0.1'] });
    const serving = await pki.issueServingCert('system:node:s1', ['127.0.0.1']);
    await mkdir(path.join(dataDir, 'manifests'), { recursive: true });
    await writeFile(path.join(dataDir, 'manifests', 'flaky.yaml'), manifest('flaky'));
    await writeFile(path.join(dataDir, 'manifests', 'later.yaml'), manifest('later'));
    // The real client, with deletes of chosen mirror pods failing as an unavailable API would.
    const client = Object.create(api.client) as ApiClient;
    client.delete = (res, ns, name, o) => {
      if (res.resource === 'pods') deleteAttempts++;
      const n = failDeletes.get(name) ?? 0;
      if (n > 0) {
        failDeletes.set(name, n - 1);
        return Promise.reject(new TriremeError('ServiceUnavailable', 'injected: the API is unavailable'));
      }
      return api.client.delete(res, ns, name, o);
    };
    const sink = new Writable({ write(chunk: Buffer, _enc, cb) { for (const l of chunk.toString().split('\n')) if (l) logs.push(JSON.parse(l) as (typeof logs)[number]); cb(); } });
    opts = {
      client, nodeName: 's1', nodeIp: '127.0.0.1', dataDir, kubeletPort: 0, portRange: [41500, 41599],
      servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, caPem: pki.caCertPem, logger: pino({ level: 'debug' }, sink),
      timings: { statusPeriodMs: 1000, leasePeriodMs: 500, podResyncMs: 1000, staticPodPeriodMs: 200, runtimePollMs: 100 },
    };
    agent = await startAgent(opts);
  });

  after(async () => {
    try {
      await agent?.stop();
      await killAll(path.join(dataDir, 'agent'));
    } finally {
      await api.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  const mirrorUp = (name: string) => async (): Promise<boolean> => {
    try {
      await api.client.get<PodObj>(PODS, 'default', name);
      return true;
    } catch {
      return false;
    }
  };

  it('retries a failed mirror delete until the mirror is gone, logging the failure once', async () => {
    await pollUntil('mirror flaky-s1 exists', mirrorUp('flaky-s1'), { timeoutMs: 15_000, everyMs: 50 });
    failDeletes.set('flaky-s1', 3);
    const before = deleteAttempts;
    await rm(path.join(dataDir, 'manifests', 'flaky.yaml'));
    await pollUntil('mirror flaky-s1 deleted', mirrorGone('flaky-s1'), { timeoutMs: 15_000, everyMs: 50 });
    assert.ok(deleteAttempts - before >= 4, `only ${deleteAttempts - before} delete attempts`);
    const warned = logs.filter((l) => l.pod === 'default/flaky-s1' && l.level === 40);
    assert.equal(warned.length, 1);
    assert.match(warned[0]!.msg, /deleting the mirror pod failed/);
    assert.ok(logs.some((l) => l.pod === 'default/flaky-s1' && l.msg === 'mirror pod sync recovered'));
  });

  it('deletes a mirror left over from a manifest removed while the agent was down', async () => {
    await pollUntil('mirror later-s1 exists', mirrorUp('later-s1'), { timeoutMs: 15_000, everyMs: 50 });
    await agent?.stop();
    agent = undefined;
    await rm(path.join(dataDir, 'manifests', 'later.yaml'));
    agent = await startAgent(opts);
    await pollUntil('leftover mirror later-s1 deleted', mirrorGone('later-s1'), { timeoutMs: 15_000, everyMs: 50 });
  });
});
