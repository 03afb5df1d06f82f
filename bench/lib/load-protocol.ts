// Messages between the benchmark's main thread and its load-generator worker thread.
// Plain data only (structured clone): credentials travel as PEM strings.
import type { LoopResult } from './closed-loop.js';
import type { FanoutOptions, FanoutRun } from './fanout-driver.js';
import type { Credentials } from './https-client.js';

export type ApiOp = 'create' | 'get' | 'list';

export interface LoopTask {
  kind: 'loop';
  op: ApiOp;
  namespace: string;
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  maxOps: number;
  /** create: names are `<namePrefix>-<seq>`. */
  namePrefix: string;
  /** get: the object read. */
  getName: string;
  /** list: the number of items the namespace holds. */
  listItems: number;
}

export interface SetupTask {
  kind: 'setup';
  namespaces: string[];
  /** Objects created before measuring: `count` ConfigMaps `<namePrefix>-<i>` in `namespace`. */
  populate: { namespace: string; namePrefix: string; count: number }[];
}

export interface FanoutTask {
  kind: 'fanout';
  namespace: string;
  options: FanoutOptions;
}

export type LoadTask = LoopTask | SetupTask | FanoutTask;

export interface SetupResult {
  elapsedMs: number;
}

export type TaskResult = LoopResult | SetupResult | FanoutRun;

export interface WorkerInit {
  creds: Credentials;
}

export interface TaskRequest {
  id: number;
  task: LoadTask;
}

export type TaskReply = { id: number; ok: true; result: TaskResult } | { id: number; ok: false; error: string };
