// Whether a process has ended, for launchers and tests that wait for one to go.
// Guarantees: `processGone` is true once the pid has exited, including while it is a zombie that
// whoever inherited it has not reaped yet (kill(pid, 0) would still succeed then). Linux only
// (reads /proc). Does not tell a recycled pid from the original: call it while the caller still
// expects the process to be around, and poll it (pollUntil) rather than checking once.
import { readFileSync } from 'node:fs';

export function processGone(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  // Field 3 (state) follows the command name, which is in parentheses and may contain spaces.
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state === 'Z' || state === 'X';
}
