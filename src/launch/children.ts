// Child processes that must not outlive whoever started them (the e2e harness, the benchmarks):
// a tracker of live children, how to kill one with its process group, and a polite stop.
//
// Guarantees: `ChildTracker.killAll()` SIGKILLs every tracked child still running (the whole
// process group for a detached child, so grandchildren die too); `installExitHooks()` runs it on
// process exit and on SIGINT/SIGTERM/SIGHUP (then lets the signal take its course), once per
// tracker; `stopChild` sends SIGTERM, SIGKILLs after the grace period, and once the child exited
// SIGKILLs what it left in its group.
// Does not: reach processes that left the group (the agent's detached shims: callers sweep those
// from the agent's data dir), or hold any state outside a tracker instance.
import type { ChildProcess } from 'node:child_process';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export function hasExited(c: ChildProcess): boolean {
  return c.exitCode !== null || c.signalCode !== null;
}

/** The child's exit, whenever it comes (resolves at once if it already happened). */
export function exitOf(c: ChildProcess): Promise<ExitInfo> {
  if (hasExited(c)) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((resolve) => c.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGKILL to the child, or to its whole process group when it leads one (spawned detached). */
export function hardKill(c: ChildProcess, group: boolean): void {
  if (c.pid === undefined) return;
  if (!group && hasExited(c)) return;
  try {
    process.kill(group ? -c.pid : c.pid, 'SIGKILL');
  } catch {
    // ESRCH: nothing (left) to kill.
  }
}

export class ChildTracker {
  private readonly live = new Map<ChildProcess, boolean>();
  private hooked = false;

  /** Tracks `child` until it exits; `group`: it leads its own process group (detached). */
  track(child: ChildProcess, group: boolean): void {
    this.live.set(child, group);
    child.once('exit', () => this.live.delete(child));
  }

  isGroupLeader(child: ChildProcess): boolean {
    return this.live.get(child) ?? false;
  }

  killAll(): void {
    for (const [child, group] of this.live) hardKill(child, group);
  }

  /**
   * Kills every tracked child on process exit and on SIGINT/SIGTERM/SIGHUP. Children run in
   * their own process groups, so a Ctrl-C or a runner's SIGTERM does not reach them otherwise.
   * `extra` runs after the children died (e.g. a container sweep).
   */
  installExitHooks(extra?: () => void): void {
    if (this.hooked) return;
    this.hooked = true;
    const cleanup = (): void => {
      this.killAll();
      extra?.();
    };
    process.on('exit', cleanup);
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(sig, () => {
        cleanup();
        process.kill(process.pid, sig);
      });
    }
  }
}

/**
 * SIGTERM, SIGKILL (group included when `group`) after `graceMs`, and once it exited SIGKILL to
 * whatever it left in its process group. Resolves with the child's exit.
 */
export async function stopChild(c: ChildProcess, group: boolean, graceMs = 15_000): Promise<ExitInfo> {
  const exited = exitOf(c);
  if (hasExited(c)) {
    if (group) hardKill(c, true);
    return exited;
  }
  c.kill('SIGTERM');
  const timer = setTimeout(() => hardKill(c, group), graceMs);
  const info = await exited;
  clearTimeout(timer);
  if (group) hardKill(c, true);
  return info;
}
