// Installs the Debian packages the test suite uses, when run as root and they are missing:
// etcd-server, etcd-client (etcdctl), haproxy, keepalived, nftables, openssl, bind9-dnsutils (dig), python3-kubernetes,
// prometheus (prometheus, promtool), prometheus-alertmanager, chromium (the dashboard's browser test),
// gcc and make (the native shim's compiler).
// Found the way the tests find them (test/helpers/require-dep.ts): etcd, etcdctl, haproxy, keepalived, nft, openssl, dig,
// prometheus, promtool, prometheus-alertmanager, cc and make on PATH, the python client as /usr/bin/python3 that can
// `import kubernetes`, /usr/bin/chromium.
// The kubectl binaries (/usr/bin/kubectl and the versioned ones under
// /usr/lib/google-cloud-sdk/bin) come with the machine and cannot be installed here: missing
// ones are named (and fail the run under CI=true, as their tests would).
// Not root: says what is missing and goes on (those tests then skip visibly, or fail under CI).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const executable = (p) => {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};
const onPath = (name) => (process.env.PATH ?? '').split(delimiter).some((d) => d !== '' && executable(join(d, name)));
const python = () => executable('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import kubernetes'], { stdio: 'ignore' }).status === 0;

const wanted = [
  { what: 'etcd', pkg: 'etcd-server', present: () => onPath('etcd') },
  { what: 'etcdctl', pkg: 'etcd-client', present: () => onPath('etcdctl') },
  { what: 'haproxy', pkg: 'haproxy', present: () => onPath('haproxy') },
  { what: 'keepalived', pkg: 'keepalived', present: () => onPath('keepalived') },
  { what: 'nft', pkg: 'nftables', present: () => onPath('nft') },
  { what: 'openssl', pkg: 'openssl', present: () => onPath('openssl') },
  { what: 'dig', pkg: 'bind9-dnsutils', present: () => onPath('dig') },
  { what: 'python3-kubernetes', pkg: 'python3-kubernetes', present: python },
  { what: 'chromium', pkg: 'chromium', present: () => executable('/usr/bin/chromium') },
  { what: 'a C compiler (cc)', pkg: 'gcc', present: () => onPath(process.env.CC || 'cc') },
  { what: 'make', pkg: 'make', present: () => onPath('make') },
  { what: 'prometheus and promtool', pkg: 'prometheus', present: () => onPath('prometheus') && onPath('promtool') },
  { what: 'alertmanager', pkg: 'prometheus-alertmanager', present: () => onPath('prometheus-alertmanager') },
];
const kubectls = ['/usr/bin/kubectl', ...[30, 33].map((m) => `/usr/lib/google-cloud-sdk/bin/kubectl.1.${m}`)];

const missingKubectl = kubectls.filter((p) => !executable(p));
if (missingKubectl.length > 0) {
  console.warn(`missing (comes with the machine, cannot be installed here): ${missingKubectl.join(' ')}`);
  if (process.env.CI === 'true') process.exit(1);
}

const missing = wanted.filter((w) => !w.present());
if (missing.length === 0) process.exit(0);
const names = missing.map((w) => `${w.what} (${w.pkg})`).join(', ');
if (process.getuid?.() !== 0) {
  console.warn(`not root: cannot install ${names}; tests that need them skip${process.env.CI === 'true' ? '' : ' (under CI=true they fail)'}`);
  process.exit(0);
}
console.log(`installing ${names}`);
execFileSync('apt-get', ['update', '-q'], { stdio: 'inherit' });
const r = spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...new Set(missing.map((w) => w.pkg))], {
  stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
});
if (r.status !== 0) process.exit(r.status ?? 1);
const still = missing.filter((w) => !w.present());
if (still.length > 0) {
  // etcd-server installed but etcd not on this PATH, for instance: the tests will not find it either.
  console.error(`still missing after apt-get install: ${still.map((w) => w.what).join(', ')} (not on PATH=${process.env.PATH})`);
  process.exit(1);
}
