// `trireme snapshot save [--name N] | ls | prune | verify FILE`.
// save, ls and prune ask the running server of the kubeconfig (admin only; POST/GET
// /trireme/v1/snapshots): a SQLite store is held by its server, and on etcd each server
// snapshots its own member. verify works on a file alone, without a cluster.
// Guarantees: any failure (unreadable kubeconfig, unreachable server, a refused request, a
// corrupt or mismatching snapshot) is one line on stderr naming the cause, and exit code 1.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { isTriremeError } from '../errors.js';
import type { SnapshotRecord } from '../ops/snapshot/records.js';
import { verifySnapshot } from '../ops/snapshot/verify.js';

interface SnapshotFlags {
  kubeconfig?: string;
  output?: 'json' | 'table';
  name?: string;
  scratchHost?: string;
}

const DEFAULT_KUBECONFIG = '/var/lib/trireme/kubeconfig.yaml';
/** A snapshot of 100k objects takes tens of seconds on etcd. */
const SAVE_TIMEOUT_MS = 600_000;

async function oneLine(command: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    if (!isTriremeError(e)) throw e;
    process.stderr.write(`trireme snapshot ${command}: ${e.message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}

async function withClient(command: string, flags: SnapshotFlags, fn: (client: ApiClient) => Promise<void>): Promise<void> {
  await oneLine(command, async () => {
    const client = new ApiClient({ ...loadKubeconfig(flags.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG), userAgent: 'trireme-snapshot' }, { requestTimeoutMs: SAVE_TIMEOUT_MS });
    try {
      await fn(client);
    } finally {
      client.close();
    }
  });
}

function kubeconfigOption(cmd: Command): Command {
  return cmd.option('--kubeconfig <file>', `admin kubeconfig (default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG})`);
}

function outputOption(cmd: Command): Command {
  return cmd.option('-o, --output <format>', 'table or json', (v: string) => {
    if (v !== 'json' && v !== 'table') throw new InvalidArgumentError(`not an output format (table, json): ${v}`);
    return v;
  }, 'table');
}

function size(n: number): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}KiB`;
  return `${(n / 1024 / 1024).toFixed(1)}MiB`;
}

/** The `ls` table: one row per snapshot, columns padded. */
export function formatSnapshots(items: SnapshotRecord[]): string {
  const rows = [['NAME', 'SERVER', 'STORE', 'REVISION', 'OBJECTS', 'SIZE', 'CREATED', 'SHA256', 'FILE'],
    ...items.map((r) => [r.name, r.server, r.store, String(r.revision), String(r.objects), size(r.size), r.created, r.sha256.slice(0, 12), r.file])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  return rows.map((row) => row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export function registerSnapshot(program: Command): void {
  const snapshot = program.command('snapshot').description('snapshots of the cluster store: save, list, prune, verify');

  kubeconfigOption(outputOption(snapshot.command('save')))
    .description('take a snapshot now, on the server the kubeconfig names (into its snapshot dir)')
    .option('--name <name>', 'snapshot name (default: trireme-<server>-<time>)')
    .action((flags: SnapshotFlags) => withClient('save', flags, async (client) => {
      const r = await client.request<SnapshotRecord>('POST', '/trireme/v1/snapshots', flags.name === undefined ? {} : { name: flags.name });
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(r, null, 2)}\n` : `snapshot ${r.name} saved on ${r.server}: ${r.file} (${r.store}, revision ${r.revision}, ${r.objects} objects, ${size(r.size)}, sha256 ${r.sha256})\n`);
    }));

  kubeconfigOption(outputOption(snapshot.command('ls')))
    .description('the snapshots of the answering server, and the other servers\' records (kube-system/trireme-snapshots)')
    .action((flags: SnapshotFlags) => withClient('ls', flags, async (client) => {
      const list = await client.request<{ items: SnapshotRecord[] }>('GET', '/trireme/v1/snapshots');
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(list.items, null, 2)}\n` : formatSnapshots(list.items));
    }));

  kubeconfigOption(snapshot.command('prune'))
    .description('remove the answering server\'s snapshots beyond its --snapshot-retention')
    .action((flags: SnapshotFlags) => withClient('prune', flags, async (client) => {
      const r = await client.request<{ pruned: string[] }>('POST', '/trireme/v1/snapshots/prune', {});
      process.stdout.write(r.pruned.length === 0 ? 'nothing to prune\n' : r.pruned.map((n) => `pruned ${n}\n`).join(''));
    }));

  outputOption(snapshot.command('verify').argument('<file>', 'snapshot file'))
    .description('check the checksum, restore into a scratch store and compare every object with the snapshot\'s index')
    .option('--scratch-host <ip>', 'etcd snapshots: the loopback or local address the scratch etcd listens on (free ports)', '127.0.0.1')
    .action((file: string, flags: SnapshotFlags) => oneLine('verify', async () => {
      const report = await verifySnapshot(file, { scratchHost: flags.scratchHost ?? '127.0.0.1' });
      if (flags.output === 'json') process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      if (report.problems.length > 0) {
        if (flags.output !== 'json') for (const p of report.problems.slice(0, 20)) process.stderr.write(`  ${p}\n`);
        process.stderr.write(`trireme snapshot verify: ${file} does not restore as recorded: ${report.problems.length} problem(s)\n`);
        process.exitCode = 1;
        return;
      }
      const m = report.manifest;
      if (flags.output !== 'json') process.stdout.write(`${file}: ok — ${m.store} snapshot ${m.name} of ${m.server}, revision ${m.revision}, ${report.restored} objects restored and compared, sha256 ${m.sha256}\n`);
    }));
}
