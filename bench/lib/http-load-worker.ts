// Runs one HTTP load loop (http-load.ts) in a worker thread, so that the benchmark's own polling
// of the API never delays a request or its timing. Guarantees: exactly one 'result' message with
// the request log, after the loop ended by itself or on a 'stop' message.
// Does not: decide anything: mode and options come from the main thread (workerData).
import { parentPort, workerData } from 'node:worker_threads';
import { runClosed, runPaced, type LoadOptions } from './http-load.js';

export type LoadTask = { mode: 'paced'; options: LoadOptions & { ratePerSec: number } } | { mode: 'closed'; options: LoadOptions };

const task = workerData as LoadTask;
const run = task.mode === 'paced' ? runPaced(task.options) : runClosed(task.options);
parentPort?.on('message', (m: unknown) => {
  if (m === 'stop') void run.stop();
});
const log = await run.done;
parentPort?.postMessage({ kind: 'result', log });
