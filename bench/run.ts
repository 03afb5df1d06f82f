// Benchmark dispatcher: `node dist/bench/run.js <name> [options]` (also `npm run bench -- <name>`).
// Guarantees: exits 0 on a completed run (goal verdicts are in the output, not the exit code),
// 2 on bad usage, 1 on a failed run; each benchmark is loaded only when asked for.
const BENCHMARKS: Record<string, { about: string; load: () => Promise<{ main(args: string[]): Promise<number> }> }> = {
  apiserver: { about: 'API server vs raw store and vs a bare HTTPS floor: create/get/list at 1/8/32 clients, watch fan-out', load: () => import('./apiserver.js') },
  scheduler: { about: 'scheduler + bind path through a real trireme apiserver: 5,000 pods on 100 and 1,000 fake nodes', load: () => import('./scheduler.js') },
  failover: { about: 'three servers on a managed etcd: kill -9 of the leading server and of the etcd leader under steady writes; gaps, new leaders, lost writes, balancer cost', load: () => import('./failover.js') },
  'consistent-list': { about: 'list latency, resourceVersion unset vs "0": SQLite, and etcd with two servers (cache current, idle, just written)', load: () => import('./consistent-list.js') },
  'leader-churn': { about: 'N minutes (--minutes, default 10) of steady writes against trireme server: leader transitions of its controller manager and scheduler (goal 0)', load: () => import('./leader-churn/main.js') },
  'node-failure': { about: 'kill -9 of an agent with its pods under 1,000 req/s on a Service: node Unknown, eviction, Ready again elsewhere, request success; node proxy cost vs straight to the pods', load: () => import('./node-failure.js') },
  snapshot: { about: 'snapshot save and restore time and size at 10k/100k objects on SQLite and etcd, as a ratio to a raw copy of the store files; API p99 during a snapshot vs without', load: () => import('./snapshot/main.js') },
  authz: { about: 'what RBAC costs: create+get ops/s of a user admitted by RBAC (RoleBinding to edit) vs the admin admitted by the fixed rules, alternating rounds (goal ≥ 90 %)', load: () => import('./authz.js') },
  'pod-startup': { about: '100 bare pods at 20/s: create → scheduled/Running/Ready vs bare spawn of the same command', load: () => import('./pod-startup.js') },
};

function usage(): string {
  const lines = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(12)}${b.about}`);
  return `usage: node dist/bench/run.js <benchmark> [--quick] [options]\nbenchmarks:\n${lines.join('\n')}\n`;
}

const [name, ...args] = process.argv.slice(2);
const bench = name === undefined ? undefined : BENCHMARKS[name];
if (bench === undefined) {
  process.stderr.write(name === undefined || name === '--help' || name === '-h' ? usage() : `unknown benchmark: ${name}\n${usage()}`);
  process.exitCode = name === '--help' || name === '-h' ? 0 : 2;
} else {
  try {
    process.exitCode = await (await bench.load()).main(args);
  } catch (e) {
    process.stderr.write(`benchmark ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  }
}
