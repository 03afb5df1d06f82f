// `trireme doctor [-o json]`: the cluster's single points of failure, each with its fix, as the
// API server judges them (GET /trireme/v1/cluster/doctor, src/ops/doctor), read as admin with a
// kubeconfig like `trireme cluster status`.
// Guarantees: exit code 0 when nothing was found, 1 when anything was, 2 when the cluster could
// not be asked (a one-line message on stderr naming why); `-o json` prints the server's report
// (findings and the observation they were judged from) as it came. Does not: gather anything
// itself (the server does, once, for this command and the dashboard alike), or retry.
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { loadKubeconfig } from '../client/config.js';
import { isTriremeError } from '../errors.js';
import type { DoctorReport } from '../ops/doctor/report.js';
import { formatFindings } from '../ops/doctor/format.js';
import { DEFAULT_KUBECONFIG } from './cluster.js';

interface DoctorFlags {
  kubeconfig?: string;
  output: 'json' | 'table';
}

export function registerDoctor(program: Command): void {
  program.command('doctor')
    .description('report every single point of failure of the cluster, with its fix; exit 1 if there is any')
    .option('--kubeconfig <file>', `admin kubeconfig (default: $KUBECONFIG, else ${DEFAULT_KUBECONFIG})`)
    .option('-o, --output <format>', 'table or json', (v: string) => {
      if (v !== 'json' && v !== 'table') throw new InvalidArgumentError(`not an output format (table, json): ${v}`);
      return v;
    }, 'table')
    .action(async (flags: DoctorFlags) => {
      let client: ApiClient | undefined;
      let report: DoctorReport;
      try {
        client = new ApiClient({ ...loadKubeconfig(flags.kubeconfig ?? process.env.KUBECONFIG ?? DEFAULT_KUBECONFIG), userAgent: 'trireme-doctor' }, { requestTimeoutMs: 30_000 });
        report = await client.request<DoctorReport>('GET', '/trireme/v1/cluster/doctor');
      } catch (e) {
        if (!isTriremeError(e)) throw e;
        process.stderr.write(`trireme doctor: ${e.message.split('\n')[0]}\n`);
        process.exitCode = 2;
        return;
      } finally {
        client?.close();
      }
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(report, null, 2)}\n` : formatFindings(report.findings));
      process.exitCode = report.findings.length > 0 ? 1 : 0;
    });
}
