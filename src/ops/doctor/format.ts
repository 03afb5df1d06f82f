// The doctor's findings as `trireme doctor` prints them (pure): one block per finding — severity,
// subject, message, then the fix indented — and a last line counting them, or one line saying
// that none was found. Guarantees: every finding given is printed, in the order given.
import type { Finding } from './findings.js';

export function formatFindings(fs: readonly Finding[]): string {
  if (fs.length === 0) return 'No single point of failure found.\n';
  const out: string[] = [];
  for (const f of fs) {
    out.push(`${f.severity.toUpperCase().padEnd(8)} ${f.subject}: ${f.message} [${f.id}]`);
    out.push(`         fix: ${f.fix}`);
  }
  const crit = fs.filter((f) => f.severity === 'critical').length;
  out.push('', `${fs.length} finding${fs.length === 1 ? '' : 's'} (${crit} critical, ${fs.length - crit} warning${fs.length - crit === 1 ? '' : 's'})`);
  return `${out.join('\n')}\n`;
}
