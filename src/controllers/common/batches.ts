// Creating many objects the way Kubernetes' slowStartBatch does: batches of 1, 2, 4, …, each
// in parallel, stopping at the first batch with a failure, so a broken template (quota,
// validation) costs one failed request, not hundreds. Guarantees: returns how many succeeded
// and the errors of the failed batch; calls `skipped(n)` for creations never attempted, so
// the caller can lower its expectations.
import { slowStartBatches } from '../replicaset/diff.js';

export async function slowStart(total: number, create: (i: number) => Promise<void>, skipped: (n: number) => void): Promise<{ ok: number; errors: unknown[] }> {
  let ok = 0;
  let index = 0;
  const batches = slowStartBatches(total);
  for (let b = 0; b < batches.length; b++) {
    const size = batches[b] ?? 0;
    const results = await Promise.allSettled(Array.from({ length: size }, () => create(index++)));
    const errors = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
    ok += size - errors.length;
    if (errors.length > 0) {
      skipped(total - index);
      return { ok, errors };
    }
  }
  return { ok, errors: [] };
}
