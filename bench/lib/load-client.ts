// The main thread's handle on the load-generator worker: start it, run tasks, stop it.
// Guarantees: each `run` resolves or rejects exactly once; if the worker dies, every pending
// and later task rejects (no hang); `stop` terminates the thread.
// Does not: time tasks out by itself: tasks are bounded inside the worker.
import { Worker } from 'node:worker_threads';
import type { Credentials } from './https-client.js';
import type { LoadTask, TaskReply, TaskResult, WorkerInit } from './load-protocol.js';

export class LoadWorker {
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (r: TaskResult) => void; reject: (e: Error) => void }>();
  private seq = 0;
  private dead: Error | undefined;

  constructor(creds: Credentials) {
    this.worker = new Worker(new URL('./load-worker.js', import.meta.url), { workerData: { creds } satisfies WorkerInit });
    this.worker.on('message', (m: TaskReply) => {
      const p = this.pending.get(m.id);
      if (p === undefined) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(m.error));
    });
    const fail = (e: Error): void => {
      this.dead ??= e;
      for (const p of this.pending.values()) p.reject(e);
      this.pending.clear();
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`load worker exited (code ${code})`)));
  }

  run<R extends TaskResult>(task: LoadTask): Promise<R> {
    if (this.dead !== undefined) return Promise.reject(this.dead);
    const id = ++this.seq;
    return new Promise<R>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (r: TaskResult) => void, reject });
      this.worker.postMessage({ id, task });
    });
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
