// The load-generator worker thread: runs API server load (closed loops, setup, watch fan-out)
// off the benchmark's main thread, on request, one task at a time.
// Guarantees: every task ends with exactly one reply (result or error message); connections
// of a task are closed before its reply, so tasks do not share warm connections.
// Does not: decide anything: what to run and for how long comes from the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { apiCreate, apiEnsureNamespace, apiFanoutTarget, rawOps } from './api-target.js';
import { runClosedLoop } from './closed-loop.js';
import { runFanout } from './fanout-driver.js';
import { adminAgent, type Credentials } from './https-client.js';
import type { LoopTask, SetupTask, TaskReply, TaskRequest, TaskResult, WorkerInit } from './load-protocol.js';
import { RawConnection } from './raw-client.js';

const { creds } = workerData as WorkerInit;

async function loop(t: LoopTask): Promise<TaskResult> {
  // One keep-alive connection per client, opened by its first request (in the warm-up).
  const conns = Array.from({ length: t.concurrency }, () => new RawConnection(creds, t.op === 'list' ? 30_000 : 10_000));
  const conn = (client: number): RawConnection => conns[client] as RawConnection;
  const op = {
    create: (seq: number, client: number) => rawOps.create(conn(client), t.namespace, `${t.namePrefix}-${seq}`),
    get: (_seq: number, client: number) => rawOps.get(conn(client), t.namespace, t.getName),
    list: (_seq: number, client: number) => rawOps.list(conn(client), t.namespace, t.listItems),
  }[t.op];
  try {
    return await runClosedLoop({ concurrency: t.concurrency, durationMs: t.durationMs, warmupMs: t.warmupMs, maxOps: t.maxOps, op });
  } finally {
    for (const c of conns) c.close();
  }
}

async function setup(c: Credentials, t: SetupTask): Promise<TaskResult> {
  const start = Date.now();
  const agent = adminAgent(c, 8);
  try {
    for (const ns of t.namespaces) await apiEnsureNamespace(c, agent, ns);
    for (const p of t.populate) {
      // Eight creates in flight: quick, and bounded by `count`.
      let next = 0;
      const one = async (): Promise<void> => {
        while (next < p.count) {
          const i = next++;
          await apiCreate(c, agent, p.namespace, `${p.namePrefix}-${i}`);
        }
      };
      await Promise.all(Array.from({ length: 8 }, one));
    }
  } finally {
    agent.destroy();
  }
  return { elapsedMs: Date.now() - start };
}

async function run(req: TaskRequest): Promise<TaskResult> {
  const t = req.task;
  switch (t.kind) {
    case 'loop':
      return loop(t);
    case 'setup':
      return setup(creds, t);
    case 'fanout':
      return runFanout(apiFanoutTarget(creds, t.namespace), t.options);
  }
}

const port = parentPort;
if (port === null) throw new Error('load-worker must run as a worker thread');
port.on('message', (req: TaskRequest) => {
  run(req).then(
    (result) => port.postMessage({ id: req.id, ok: true, result } satisfies TaskReply),
    (e: unknown) => port.postMessage({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) } satisfies TaskReply),
  );
});
