// Installs the Debian packages the test suite uses, when run as root and they are missing.
// Not root: says what is missing and goes on (those tests then fail with a clear message).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const wanted = [
  { bin: '/usr/bin/etcd', pkg: 'etcd-server' },
  { bin: '/usr/sbin/haproxy', pkg: 'haproxy' },
];
const missing = wanted.filter((w) => !existsSync(w.bin)).map((w) => w.pkg);
if (missing.length === 0) process.exit(0);
if (process.getuid?.() !== 0) {
  console.warn(`not root: cannot install ${missing.join(' ')}; tests that need them will fail`);
  process.exit(0);
}
console.log(`installing ${missing.join(' ')}`);
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], {
  stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
process.exit(r.status ?? 1);
