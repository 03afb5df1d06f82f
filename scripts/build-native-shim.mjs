// Compiles the native container shim (src/agent/runtime/native-shim/shim.c) into
// <outDir>/native/trireme-shim (outDir: first argument, default dist), where the process runtime
// looks for it next to its compiled code. Without a C compiler it prints one warning line and
// succeeds: the runtime then uses the Node shim. A compile error fails the build.
// usage: node scripts/build-native-shim.mjs [outDir]
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = resolve(root, process.argv[2] ?? 'dist');
const src = join(root, 'src', 'agent', 'runtime', 'native-shim', 'shim.c');
const out = join(outDir, 'native', 'trireme-shim');
const cc = process.env.CC || 'cc';

const probe = spawnSync(cc, ['--version'], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  console.warn(`build-native-shim: no C compiler (${cc}); the agent will use the Node container shim`);
  process.exit(0);
}
mkdirSync(join(outDir, 'native'), { recursive: true });
const r = spawnSync(cc, ['-std=c99', '-O2', '-Wall', '-Wextra', '-Werror', '-o', out, src], { stdio: 'inherit' });
process.exit(r.status ?? 1);
