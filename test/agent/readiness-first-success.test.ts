// Integration: "Ready as soon as it serves". A real API server in-process, the real agent, a real
// container that starts listening 1.5 s after it started, with a readiness probe of
// periodSeconds 10: the first run fails, and the pod is Ready in the API within a fraction of a
// second of the server listening — not a period later. Loopback 127.0.21.1 (API), 127.0.21.2 (node).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../src/api/object.js';
import { ensurePki } from '../../src/apiserver/pki.js';
import { resource } from '../../src/client/resources.js';
import { startAgent, type RunningAgent } from '../../src/agent/agent.js';
import { silentLogger } from '../../src/util/log.js';
import { pollUntil } from '../../src/util/poll.js';
import { killContainers } from '../e2e/harness/containers.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';

type PodObj = Pod & KubeObject;
const PODS = resource('', 'pods');
const NODE_IP = '127.0.21.2';

// Listens 1.5 s after it started, and records when it started and when it listens (ms since the
// epoch) in $TRIREME_ROOT/started and $TRIREME_ROOT/listening.
const SERVER = [
  "const http = require('http'), fs = require('fs');",
  "fs.writeFileSync(process.env.TRIREME_ROOT + '/started', String(Date.now()));",
  'setTimeout(() => http.createServer((q, s) => s.end("ok")).listen(Number(process.env.PORT), process.env.POD_IP,',
  "  () => fs.writeFileSync(process.env.TRIREME_ROOT + '/listening', String(Date.now()))), 1500);",
].join('\n');

describe('readiness until the first success (integration)', { timeout: 60_000 }, () => {
  let api: TestApiServer;
  let dataDir: string;
  let agent: RunningAgent | undefined;

  before(async () => {
    api = await startTestApiServer('127.0.21.1');
    dataDir = await mkdtemp(path.join(tmpdir(), 'trireme-ready-fast-'));
    const pki = await ensurePki(api.dataDir, { sans: ['127.0.21.1'] });
    const serving = await pki.issueServingCert('system:node:ready-n1', [NODE_IP]);
    agent = await startAgent({
      client: api.client, nodeName: 'ready-n1', nodeIp: NODE_IP, dataDir, kubeletPort: 0, portRange: [21050, 21099],
      servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, caPem: pki.caCertPem, logger: silentLogger,
    });
  });

  after(async () => {
    await agent?.stop();
    killContainers(dataDir);
    await api.close();
    // A killed container's shim may still write its exit record for a moment: retry ENOTEMPTY.
    await rm(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('a pod with periodSeconds 10 is Ready within a second of its server listening', async (t) => {
    const pod = await api.client.create<PodObj>(PODS, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'late-listener', namespace: 'default' },
      spec: {
        nodeName: 'ready-n1',
        containers: [{
          name: 'web', image: 'none', command: [process.execPath, '-e', SERVER],
          ports: [{ containerPort: 8080, name: 'http' }],
          readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 10 },
        }],
      },
    });
    const root = path.join(dataDir, 'agent', 'pods', pod.metadata!.uid!, 'rootfs', 'web');
    // Watch the pod closely: the moment the API first shows Ready=True.
    const ready = await pollUntil('the pod Ready in the API', async () => {
      const p = await api.client.get<PodObj>(PODS, 'default', 'late-listener');
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? { at: Date.now(), pod: p } : undefined;
    }, { timeoutMs: 30_000, everyMs: 20 });
    const listening = Number(await readFile(path.join(root, 'listening'), 'utf8'));
    const started = Number(await readFile(path.join(root, 'started'), 'utf8'));
    const lag = ready.at - listening;
    t.diagnostic(`listening ${listening - started} ms after the container started; Ready seen in the API ${lag} ms after listening`);
    assert.ok(listening - started >= 1400, 'the first probe (initialDelaySeconds 0) ran before the server listened, so it failed');
    assert.ok(lag < 1_000, `Ready ${lag} ms after listening: the probe waited out its period`);
    assert.equal(ready.pod.status?.containerStatuses?.[0]?.ready, true);
  });
});
