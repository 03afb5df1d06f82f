// `trireme secrets rotate-key [--kubeconfig K] [-o json]`: asks the server of the kubeconfig
// (admin only; POST /trireme/v1/encryption/rotate-key) for a new Secrets encryption key and the
// re-encryption of every Secret under it (src/apiserver/encryption-routes.ts).
// Guarantees: any failure (unreadable kubeconfig, unreachable server, a refused request) is one
// line on stderr naming the cause, and exit code 1; the output names key ids and counts only.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { isTriremeError } from '../errors.js';
import type { RotationResult } from '../apiserver/encryption-routes.js';

const DEFAULT_KUBECONFIG = '/var/lib/trireme/kubeconfig.yaml';
/** Every Secret is read and written again: many thousands take a while on etcd. */
const ROTATE_TIMEOUT_MS = 600_000;

export function registerSecrets(program: Command): void {
  const secrets = program.command('secrets').description('Secrets encryption at rest');
  secrets.command('rotate-key')
    .description('add a new encryption key as the write key and re-encrypt every Secret with it (old keys stay, for reading)')
    .option('--kubeconfig <file>', `admin kubeconfig (default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG})`)
    .option('-o, --output <format>', 'text or json', (v: string) => {
      if (v !== 'json' && v !== 'text') throw new InvalidArgumentError(`not an output format (text, json): ${v}`);
      return v;
    }, 'text')
    .action(async (flags: { kubeconfig?: string; output: 'json' | 'text' }) => {
      try {
        const client = new ApiClient({ ...loadKubeconfig(flags.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG), userAgent: 'trireme-secrets' }, { requestTimeoutMs: ROTATE_TIMEOUT_MS });
        try {
          const r = await client.request<RotationResult>('POST', '/trireme/v1/encryption/rotate-key', {});
          process.stdout.write(flags.output === 'json' ? `${JSON.stringify(r, null, 2)}\n` : `new write key ${r.writeKey}: ${r.rewritten} Secret(s) re-encrypted, ${r.keys.length} key(s) kept for reading\n`);
        } finally {
          client.close();
        }
      } catch (e) {
        if (!isTriremeError(e)) throw e;
        process.stderr.write(`trireme secrets rotate-key: ${e.message.split('\n')[0]}\n`);
        process.exitCode = 1;
      }
    });
}
