// `trireme user create NAME [--group G]... [--days N] [--namespace NS]`: a kubeconfig for a
// new user, printed on stdout, with a client certificate signed by the cluster CA (CN = the user
// name, O = each group), as `kubeadm kubeconfig user` does. Run on a server machine: it reads the
// CA from the server's data dir, and the server URL from its admin kubeconfig (or --server).
// What the user may do is RBAC's to say (`kubectl create rolebinding … --user NAME`).
// Guarantees: nothing is written anywhere (the kubeconfig goes to stdout only); a bad name or
// group, or a data dir without a CA, is one line on stderr and exit 2 with nothing printed on
// stdout. Does not: revoke certificates (one stays valid until it expires: keep --days short and
// remove the user's bindings instead), record the users issued, or talk to the API server.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { readFile } from 'node:fs/promises';
import { adminKubeconfigPath, renderKubeconfig } from '../apiserver/kubeconfig.js';
import { issueFromCa, pkiPaths } from '../apiserver/pki.js';
import { parseKubeconfig } from '../client/config.js';
import { TriremeError, isTriremeError } from '../errors.js';

export const DEFAULT_USER_DAYS = 365;
const MAX_USER_DAYS = 3650;

export interface UserCertRequest {
  commonName: string;
  organizations: string[];
  days: number;
}

/** The certificate to issue for `user create`, or a TriremeError naming what is wrong (pure). */
export function userCertRequest(name: string, groups: readonly string[], days: number): UserCertRequest {
  const bad = (what: string, v: string): string | undefined => {
    if (v.trim() === '') return `${what} must not be empty`;
    if (v !== v.trim()) return `${what} ${JSON.stringify(v)} has leading or trailing spaces`;
    if (/[\u0000-\u001f\u007f]/.test(v)) return `${what} ${JSON.stringify(v)} has control characters`;
    if (v.length > 253) return `${what} is longer than 253 characters`;
    return undefined;
  };
  const problem = bad('the user name', name) ?? groups.map((g) => bad('a group', g)).find((p) => p !== undefined);
  if (problem) throw new TriremeError('Invalid', problem);
  if (name.startsWith('system:')) throw new TriremeError('Invalid', `the user name ${name} is in the system: namespace, kept for the cluster's own components`);
  if (!Number.isInteger(days) || days < 1 || days > MAX_USER_DAYS) throw new TriremeError('Invalid', `--days must be a whole number from 1 to ${MAX_USER_DAYS}, not ${days}`);
  return { commonName: name, organizations: [...new Set(groups)], days };
}

interface UserCreateFlags {
  group: string[];
  days: number;
  dataDir: string;
  server?: string;
  namespace?: string;
}

async function readCa(dataDir: string): Promise<{ caCertPem: string; caKeyPem: string }> {
  const p = pkiPaths(dataDir);
  try {
    return { caCertPem: await readFile(p.caCert, 'utf8'), caKeyPem: await readFile(p.caKey, 'utf8') };
  } catch (e) {
    throw new TriremeError('BadRequest', `no cluster CA in ${p.dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): run this on a server, with its --data-dir`, { cause: e });
  }
}

async function serverUrl(dataDir: string): Promise<string> {
  const path = adminKubeconfigPath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TriremeError('BadRequest', `cannot read ${path} for the server URL (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): pass --server`, { cause: e });
  }
  return parseKubeconfig(text, path).server;
}

export function registerUser(program: Command): void {
  const user = program.command('user').description('users with client certificates from the cluster CA');
  user.command('create <name>')
    .description('print a kubeconfig for a new user (client certificate signed by the cluster CA; RBAC decides what it may do)')
    .option('--group <group>', 'a group of the user (the certificate\'s O); repeatable', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--days <n>', `validity in days (default ${DEFAULT_USER_DAYS})`, (v: string) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new InvalidArgumentError(`not a whole number of days: ${v}`);
      return n;
    }, DEFAULT_USER_DAYS)
    .option('--data-dir <dir>', 'the server\'s data directory (its CA and admin kubeconfig)', '/var/lib/trireme')
    .option('--server <url>', 'API server URL written into the kubeconfig (default: the admin kubeconfig\'s)')
    .option('-n, --namespace <ns>', 'default namespace of the kubeconfig\'s context')
    .action(async (name: string, flags: UserCreateFlags) => {
      try {
        const req = userCertRequest(name, flags.group, flags.days);
        const ca = await readCa(flags.dataDir);
        const url = flags.server ?? (await serverUrl(flags.dataDir));
        const cert = await issueFromCa(ca, { commonName: req.commonName, organizations: req.organizations, usages: ['clientAuth'], days: req.days });
        process.stdout.write(renderKubeconfig({
          serverUrl: url, caCertPem: ca.caCertPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem,
          userName: req.commonName, contextName: `${req.commonName}@trireme`, ...(flags.namespace ? { namespace: flags.namespace } : {}),
        }));
      } catch (e) {
        if (!isTriremeError(e)) throw e;
        process.stderr.write(`trireme user create: ${e.message}\n`);
        process.exitCode = 2;
      }
    });
}
