// Which per-container shim the process runtime starts: the native one (`dist/native/trireme-shim`,
// built from native-shim/shim.c by scripts/build-native-shim.mjs) when it exists next to the
// compiled code, else the Node one (`node shim.js`). `TRIREME_SHIM=node|native` forces a choice
// (tests, benchmarks). Both read the same instance directory and write the same state.json,
// exit.json and logs, so an agent restarted with the other shim adopts containers all the same.
// Guarantees: the fallback to the Node shim is logged (info) once per process; forcing `native`
// without the binary throws rather than silently running the other shim.
// Does not: check that the binary is runnable (a broken binary fails like a lost shim).
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TriremeError } from '../../errors.js';
import type { Logger } from '../../util/log.js';

/** dist/src/agent/runtime/ → dist/native/trireme-shim (same layout under a private outDir). */
export const NATIVE_SHIM_PATH = fileURLToPath(new URL('../../../native/trireme-shim', import.meta.url));
export const NODE_SHIM_PATH = fileURLToPath(new URL('./shim.js', import.meta.url));

export interface ShimCommand {
  kind: 'native' | 'node';
  /** The executable and its arguments before the instance directory. */
  file: string;
  args: string[];
}

let fallbackLogged = false;

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function chooseShim(log: Logger, env: NodeJS.ProcessEnv = process.env, nativePath = NATIVE_SHIM_PATH): ShimCommand {
  const node: ShimCommand = { kind: 'node', file: process.execPath, args: [NODE_SHIM_PATH] };
  const native: ShimCommand = { kind: 'native', file: nativePath, args: [] };
  const forced = env.TRIREME_SHIM;
  if (forced === 'node') return node;
  if (forced === 'native') {
    if (!executable(nativePath)) throw new TriremeError('Internal', `TRIREME_SHIM=native but ${nativePath} is missing (run scripts/build-native-shim.mjs)`);
    return native;
  }
  if (forced !== undefined && forced !== '') throw new TriremeError('Invalid', `TRIREME_SHIM must be node or native, not ${forced}`);
  if (executable(nativePath)) return native;
  if (!fallbackLogged) {
    fallbackLogged = true;
    log.info({ nativePath }, 'native container shim not built; using the Node shim');
  }
  return node;
}
