// The audit log flags of `trireme server` and `trireme apiserver` (names as kube-apiserver's):
// --audit-log-path FILE (off when absent), --audit-log-maxsize MB (rotate by size; 0: never),
// --audit-log-maxbackup N (rotated files kept; 0: all), --audit-policy-file FILE (an
// audit.k8s.io/v1 Policy; without it every request is recorded at Metadata).
// Guarantees: a policy file that cannot be read or parsed, or a policy without a log path, is a
// BadRequest naming the flag (a refused start).
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { TriremeError } from '../errors.js';
import { DEFAULT_POLICY, parsePolicy, PolicyError, type AuditPolicy } from '../apiserver/audit/policy.js';

export interface AuditFlags {
  auditLogPath?: string;
  auditLogMaxsize: number;
  auditLogMaxbackup: number;
  auditPolicyFile?: string;
}

function nonNegativeInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`not a whole number of at least 0: ${v}`);
  return n;
}

export function auditOptions(cmd: Command): Command {
  return cmd
    .option('--audit-log-path <file>', 'write one audit event (audit.k8s.io/v1 Event, JSON) per request to this file (off when absent)')
    .option('--audit-log-maxsize <MB>', 'rotate the audit log before it grows past this many megabytes (0: never)', nonNegativeInt, 100)
    .option('--audit-log-maxbackup <n>', 'rotated audit log files kept (0: all)', nonNegativeInt, 10)
    .option('--audit-policy-file <file>', 'audit.k8s.io/v1 Policy: levels None, Metadata, Request, RequestResponse by user, verb, resource, namespace (default: Metadata for all)');
}

export async function auditFromFlags(flags: AuditFlags): Promise<{ path: string; maxSizeBytes: number; maxBackups: number; policy: AuditPolicy } | undefined> {
  if (flags.auditLogPath === undefined) {
    if (flags.auditPolicyFile !== undefined) throw new TriremeError('BadRequest', '--audit-policy-file needs --audit-log-path');
    return undefined;
  }
  let policy = DEFAULT_POLICY;
  if (flags.auditPolicyFile !== undefined) {
    try {
      policy = parsePolicy(await readFile(flags.auditPolicyFile, 'utf8'));
    } catch (e) {
      if (e instanceof PolicyError) throw new TriremeError('BadRequest', `--audit-policy-file ${flags.auditPolicyFile}: ${e.message}`);
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TriremeError('BadRequest', `--audit-policy-file ${flags.auditPolicyFile}: no such file`);
      throw e;
    }
  }
  return { path: resolve(flags.auditLogPath), maxSizeBytes: flags.auditLogMaxsize * 1024 * 1024, maxBackups: flags.auditLogMaxbackup, policy };
}
