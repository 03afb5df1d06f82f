// Reads a V8 `.cpuprofile` (what `node --cpu-prof` writes) into the few numbers a benchmark
// report needs: where the CPU time went, by function and by source file or package.
// Guarantees: self time is the sum of the sample intervals attributed to a node (V8's own
// accounting); shares are of the total sampled time, idle included, so they add up to 100%.
// Does not: compute inclusive (total) time, or resolve source maps (names are of the JS run).

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  name: string;
  selfMs: number;
  /** Share of all sampled time, in percent. */
  sharePct: number;
}

export interface ProfileSummary {
  totalMs: number;
  idlePct: number;
  functions: HotSpot[];
  files: HotSpot[];
}

/** A short name for a script URL: the package for node_modules, the repo path otherwise. */
export function shortUrl(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return (parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1] ?? ''}` : parts[0]) ?? url;
  }
  const dist = url.match(/\/(?:dist|\.build\/[^/]+)\/(.*)$/);
  if (dist?.[1] !== undefined) return dist[1];
  return url.replace(/^file:\/\//, '');
}

function top(m: Map<string, number>, total: number, n: number): HotSpot[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, selfMs: us / 1000, sharePct: total > 0 ? (100 * us) / total : 0 }));
}

export function summarizeProfile(p: CpuProfile, topN = 20): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  // timeDeltas[i] is the time before sample i; the interval after it is the next delta.
  for (let i = 0; i < samples.length; i++) {
    const id = samples[i] as number;
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)?.callFrame;
    if (cf === undefined) continue;
    total += us;
    if (cf.functionName === '(idle)') idle += us;
    const where = shortUrl(cf.url);
    const key = cf.url === '' ? cf.functionName || '(anonymous)' : `${cf.functionName || '(anonymous)'} ${where}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const fileKey = cf.url === '' ? cf.functionName || '(native)' : where;
    file.set(fileKey, (file.get(fileKey) ?? 0) + us);
  }
  return { totalMs: total / 1000, idlePct: total > 0 ? (100 * idle) / total : 0, functions: top(fn, total, topN), files: top(file, total, topN) };
}
