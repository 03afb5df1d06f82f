// The pod restart policy applied to one exited container (Kubernetes semantics).
// Guarantees: pure. Init containers follow the same rule except that `Always` behaves as
// `OnFailure` for them (an init container that succeeded is done).

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export function normalisePolicy(p: string | undefined): RestartPolicy {
  return p === 'OnFailure' || p === 'Never' ? p : 'Always';
}

/** Whether a container that exited with `exitCode` must be started again. */
export function shouldRestart(policy: RestartPolicy, exitCode: number, init: boolean): boolean {
  if (policy === 'Never') return false;
  if (policy === 'OnFailure' || init) return exitCode !== 0;
  return true;
}
