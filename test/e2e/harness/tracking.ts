// E2E harness: process tracking and cleanup. Everything the harness starts (servers, agents,
// kubectl runs) is tracked here and dies with the test process, even when a test fails.
//
// Guarantees: `killAll()` SIGKILLs every tracked process still running (with its process group)
// and every container process and shim left under the data dirs of agents the harness started;
// the same runs on process exit and on SIGINT/SIGTERM/SIGHUP.
// Does not: isolate tests from each other: one test process, one tracker.
import { ChildTracker } from '../../../src/launch/children.js';
import { killContainers } from './containers.js';

/** The test process's children (one tracker per process: the exit hooks are process-wide). */
export const tracker = new ChildTracker();

/** Data dirs of the node agents this harness started (the servers' own ones included). */
const agentDataDirs = new Set<string>();

/** Makes `killAll()` sweep the containers an agent on `dataDir` leaves behind. */
export function trackAgentDataDir(dataDir: string): void {
  agentDataDirs.add(dataDir);
}

function sweepContainers(): void {
  for (const dir of agentDataDirs) killContainers(dir);
}

/**
 * Kills every process this harness started that is still running, and every container process
 * (and shim) the agents it started left behind. Call it from `after()`, after deleting the
 * workloads (so that a clean test had nothing left to kill).
 */
export function killAll(): void {
  tracker.killAll();
  sweepContainers();
}

tracker.installExitHooks(sweepContainers);
