// `trireme cluster status` and `trireme cluster remove NAME`: the control plane as the API
// server sees it (GET /trireme/v1/cluster) and a dead server's store member out of the cluster
// (POST /trireme/v1/cluster/members/NAME/remove, refused by the server when quorum would suffer).
// Guarantees: any failure — unreadable kubeconfig, unreachable server, a refused removal — is
// one line on stderr naming the cause, and exit code 1; `-o json` prints the server's document
// as it came. Does not: retry, or pick another server than the kubeconfig's.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { formatClusterStatus, type ClusterStatus } from '../api/cluster-status.js';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { isTriremeError } from '../errors.js';

interface ClusterFlags {
  kubeconfig?: string;
  output?: 'json' | 'table';
}

export const DEFAULT_KUBECONFIG = '/var/lib/trireme/kubeconfig.yaml';

function kubeconfigOption(cmd: Command): Command {
  return cmd.option('--kubeconfig <file>', `admin kubeconfig (default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG})`);
}

async function withClient(command: string, flags: ClusterFlags, fn: (client: ApiClient) => Promise<void>): Promise<void> {
  let client: ApiClient | undefined;
  try {
    client = new ApiClient({ ...loadKubeconfig(flags.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG), userAgent: 'trireme-cluster' }, { requestTimeoutMs: 15_000 });
    await fn(client);
  } catch (e) {
    if (!isTriremeError(e)) throw e;
    process.stderr.write(`trireme cluster ${command}: ${e.message.split('\n')[0]}\n`);
    process.exitCode = 1;
  } finally {
    client?.close();
  }
}

export function registerCluster(program: Command): void {
  const cluster = program.command('cluster').description('the control plane: servers, store members, leaders');
  kubeconfigOption(cluster.command('status'))
    .description('servers, store members (leader, learners, health, raft index lag) and lease holders')
    .option('-o, --output <format>', 'table or json', (v: string) => {
      if (v !== 'json' && v !== 'table') throw new InvalidArgumentError(`not an output format (table, json): ${v}`);
      return v;
    }, 'table')
    .action((flags: ClusterFlags) => withClient('status', flags, async (client) => {
      const status = await client.request<ClusterStatus>('GET', '/trireme/v1/cluster');
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(status, null, 2)}\n` : formatClusterStatus(status));
    }));
  kubeconfigOption(cluster.command('remove').argument('<name>', 'store member (server) name'))
    .description('remove a dead server\'s etcd member; refused when the remaining members would lose quorum')
    .action((name: string, flags: ClusterFlags) => withClient('remove', flags, async (client) => {
      const answer = await client.request<{ message?: string }>('POST', `/trireme/v1/cluster/members/${encodeURIComponent(name)}/remove`, {});
      process.stdout.write(`${answer.message ?? `store member ${name} removed`}\n`);
    }));
}
