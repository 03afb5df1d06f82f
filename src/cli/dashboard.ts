// `trireme dashboard`: mints a read-only dashboard token with the admin kubeconfig (POST
// /trireme/v1/dashboard/tokens) and prints the address that signs a browser in:
// `<server>/dashboard#token=<token>` (the fragment never reaches a server; the page keeps the
// token in the tab's sessionStorage). Guarantees: any failure is one line on stderr naming the
// cause and exit code 1; nothing else is printed to stdout than the address, then the expiry on
// stderr. Does not: open a browser, or make the browser trust the cluster CA.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { isTriremeError } from '../errors.js';
import { durationMs } from './node-flags.js';

const DEFAULT_KUBECONFIG = '/var/lib/trireme/kubeconfig.yaml';

function ttlSeconds(v: string): number {
  const ms = durationMs(v);
  if (ms % 1000 !== 0 || ms < 60_000 || ms > 24 * 3_600_000) throw new InvalidArgumentError(`must be whole seconds from 1m to 24h: ${v}`);
  return ms / 1000;
}

export function registerDashboard(program: Command): void {
  program.command('dashboard')
    .description('print the address that opens the dashboard signed in (a read-only token, 8h by default)')
    .option('--kubeconfig <file>', `admin kubeconfig (default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG})`)
    .option('--ttl <duration>', 'how long the token is valid, 1m to 24h (default 8h)', ttlSeconds)
    .action(async (flags: { kubeconfig?: string; ttl?: number }) => {
      let client: ApiClient | undefined;
      try {
        const config = loadKubeconfig(flags.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG);
        client = new ApiClient({ ...config, userAgent: 'trireme-dashboard' }, { requestTimeoutMs: 15_000 });
        const answer = await client.request<{ token: string; expiresAt: string }>('POST', '/trireme/v1/dashboard/tokens', flags.ttl === undefined ? {} : { ttlSeconds: flags.ttl });
        process.stdout.write(`${config.server.replace(/\/+$/, '')}/dashboard#token=${encodeURIComponent(answer.token)}\n`);
        process.stderr.write(`read-only, valid until ${answer.expiresAt}; the browser must trust the cluster CA (DATA_DIR/tls/ca.crt)\n`);
      } catch (e) {
        if (!isTriremeError(e)) throw e;
        process.stderr.write(`trireme dashboard: ${e.message.split('\n')[0]}\n`);
        process.exitCode = 1;
      } finally {
        client?.close();
      }
    });
}
