// launch.bin: what the native shim (native-shim/shim.c) runs, in a format C reads without a
// JSON parser. Written by the process runtime next to spec.json (same content, plus the log
// limits), before the shim starts.
//
// Format: a sequence of NUL-terminated strings (kept in sync with the comment in shim.c):
//   "trireme-launch-v1", cwd, logDir, maxLogBytes (decimal), maxLineBytes (decimal),
//   argc (decimal), argv[0..argc-1], envc (decimal), env[0..envc-1] as "KEY=VALUE".
// Guarantees: every field round-trips exactly (decodeLaunch is encodeLaunch's inverse); a string
// holding a NUL byte (which no exec can pass either) is refused. Does not write the file.
import { TriremeError } from '../../errors.js';
import { DEFAULT_MAX_LINE_BYTES, DEFAULT_MAX_LOG_BYTES } from '../logs/writer.js';
import type { SpecFile } from './state-files.js';

export const LAUNCH = 'launch.bin';
const MAGIC = 'trireme-launch-v1';

export interface LaunchSpec extends SpecFile {
  maxLogBytes: number;
  maxLineBytes: number;
}

export function encodeLaunch(spec: SpecFile, limits: Partial<Pick<LaunchSpec, 'maxLogBytes' | 'maxLineBytes'>> = {}): Buffer {
  const env = Object.entries(spec.env).map(([k, v]) => `${k}=${v}`);
  const fields = [
    MAGIC, spec.cwd, spec.logDir,
    String(Math.floor(limits.maxLogBytes ?? DEFAULT_MAX_LOG_BYTES)), String(Math.floor(limits.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)),
    String(spec.argv.length), ...spec.argv, String(env.length), ...env,
  ];
  for (const f of fields) {
    if (f.includes('\0')) throw new TriremeError('Invalid', 'a container argument, environment variable or path contains a NUL byte', { context: { field: f.slice(0, 80) } });
  }
  return Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
}

/** The inverse of encodeLaunch (tests, debugging); undefined if malformed. */
export function decodeLaunch(buf: Buffer): LaunchSpec | undefined {
  const parts = buf.toString('utf8').split('\0');
  if (parts.pop() !== '' || parts[0] !== MAGIC) return undefined;
  const [, cwd, logDir, maxLog, maxLine, argc] = parts;
  if (cwd === undefined || logDir === undefined || argc === undefined) return undefined;
  let i = 6;
  const argv = parts.slice(i, i + Number(argc));
  i += argv.length;
  const envc = Number(parts[i++]);
  const envList = parts.slice(i, i + envc);
  if (argv.length !== Number(argc) || envList.length !== envc || i + envc !== parts.length) return undefined;
  const env: Record<string, string> = {};
  for (const kv of envList) {
    const eq = kv.indexOf('=');
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { argv, env, cwd, logDir, maxLogBytes: Number(maxLog), maxLineBytes: Number(maxLine) };
}
