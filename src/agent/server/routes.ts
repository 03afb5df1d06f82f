// Parsing of kubelet API paths and query strings into typed requests.
// Guarantees: pure; a malformed request yields `{ error }` with the message kubectl will print,
// never a half-parsed value; booleans and integers decode as the API server decodes them
// (src/api/query-params.ts). Does not: look anything up.
import { boolParam, intParam } from '../../api/query-params.js';
import { isTriremeError } from '../../errors.js';
import type { LogReadOptions } from '../logs/reader.js';

export interface ContainerRef {
  namespace: string;
  pod: string;
  container: string;
}

/** `/<prefix>/{namespace}/{pod}/{container}` (also `/{namespace}/{pod}/{podUID}/{container}`, the
 *  kubelet's longer form, whose uid we do not need). */
export function parseContainerPath(pathname: string, prefix: 'containerLogs' | 'exec'): ContainerRef | undefined {
  const parts = pathname.split('/').slice(1);
  if (parts[0] !== prefix) return undefined;
  const rest = parts.slice(1).map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return '';
    }
  });
  if (rest.some((p) => p === '')) return undefined;
  if (rest.length === 3) return { namespace: rest[0]!, pod: rest[1]!, container: rest[2]! };
  if (rest.length === 4) return { namespace: rest[0]!, pod: rest[1]!, container: rest[3]! };
  return undefined;
}

const bool = boolParam;

/** An integer parameter, or the BadRequest message as this module's `{ error }`. */
function int(q: URLSearchParams, name: string): number | undefined | { error: string } {
  try {
    return intParam(q, name);
  } catch (e) {
    if (isTriremeError(e)) return { error: e.message };
    throw e;
  }
}

export function parseLogQuery(q: URLSearchParams): LogReadOptions | { error: string } {
  const tailLines = int(q, 'tailLines');
  const sinceSeconds = int(q, 'sinceSeconds');
  const limitBytes = int(q, 'limitBytes');
  for (const v of [tailLines, sinceSeconds, limitBytes]) if (typeof v === 'object') return v;
  const opts: LogReadOptions = {
    follow: bool(q, 'follow'),
    previous: bool(q, 'previous'),
    timestamps: bool(q, 'timestamps'),
  };
  if (typeof tailLines === 'number') {
    if (tailLines < 0) return { error: 'tailLines: must be greater than or equal to 0' };
    opts.tailLines = tailLines;
  }
  if (typeof sinceSeconds === 'number') {
    if (sinceSeconds < 1) return { error: 'sinceSeconds: must be greater than 0' };
    opts.sinceSeconds = sinceSeconds;
  }
  if (typeof limitBytes === 'number') {
    if (limitBytes < 1) return { error: 'limitBytes: must be greater than 0' };
    opts.limitBytes = limitBytes;
  }
  const sinceTime = q.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '') {
    if (opts.sinceSeconds !== undefined) return { error: 'at most one of sinceTime or sinceSeconds may be specified' };
    const ms = Date.parse(sinceTime);
    if (Number.isNaN(ms) || !/^\d{4}-\d\d-\d\dT/.test(sinceTime)) return { error: `sinceTime: invalid RFC3339 time ${JSON.stringify(sinceTime)}` };
    opts.sinceTime = ms;
  }
  return opts;
}

export interface ExecRequest {
  command: string[];
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

export function parseExecQuery(q: URLSearchParams): ExecRequest | { error: string } {
  const command = q.getAll('command');
  if (command.length === 0 || command[0] === '') return { error: 'you must specify at least one command for the container' };
  const req = { command, stdin: bool(q, 'stdin'), stdout: bool(q, 'stdout'), stderr: bool(q, 'stderr'), tty: bool(q, 'tty') };
  if (!req.stdin && !req.stdout && !req.stderr) return { error: 'you must specify at least 1 of stdin, stdout, stderr' };
  // With a terminal there is no separate stderr stream (kubectl asks for stderr=false then).
  if (req.tty) req.stderr = false;
  return req;
}
