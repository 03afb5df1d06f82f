// The main-thread side of http-load-worker.ts: starts a load loop in a worker thread and hands
// back its request log. Guarantees: `stop()` and `done` resolve with the log once the worker
// ended the loop; a worker that fails or exits without a result rejects `done`; `stop()` is
// idempotent. Does not: bound the run itself (the loop's durationMs / maxRequests do).
import { Worker } from 'node:worker_threads';
import type { RequestLog } from './http-load.js';
import type { LoadTask } from './http-load-worker.js';

export interface LoadRun {
  done: Promise<RequestLog>;
  stop(): Promise<RequestLog>;
}

export function startLoad(task: LoadTask): LoadRun {
  const worker = new Worker(new URL('./http-load-worker.js', import.meta.url), { workerData: task });
  const done = new Promise<RequestLog>((resolve, reject) => {
    worker.on('message', (m: { kind: string; log: RequestLog }) => {
      if (m.kind === 'result') {
        resolve(m.log);
        void worker.terminate();
      }
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`load worker exited (${code}) without a result`)));
  });
  return {
    done,
    stop: () => {
      worker.postMessage('stop');
      return done;
    },
  };
}
