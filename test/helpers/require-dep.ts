// Test helper: the external programs tests need (etcd, kubectl, openssl, the python client, a C
// compiler's native shim, haproxy, keepalived, nft, dig, chromium), found the way the tests will run them.
// Guarantees: `needs(...)` gives node:test's `skip` option. All present → false. One missing
// under CI=true → it throws an Error naming the dependency and how to get it, so the test file
// fails instead of skipping; outside CI → a "SKIP (missing …)" line on stderr and the reason as
// the skip message. etcd, openssl, haproxy, keepalived, nft and dig are looked up on PATH (a PATH without etcd means no
// etcd: the tests spawn what PATH finds); kubectl (the /usr/bin dispatcher and the versioned
// binaries), the Debian python, chromium and the native shim at the fixed paths the tests run them from.
// Does not: install anything (scripts/install-system-deps.mjs does), or check versions.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { NATIVE_SHIM_PATH } from '../../src/agent/runtime/shim-command.js';

export interface Dependency {
  /** What the failure message calls it, e.g. "etcd". */
  name: string;
  /** The program's path, or undefined when it is missing. */
  find(): string | undefined;
  /** How to get it, for the message. */
  hint: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The first executable `name` in the directories of `pathEnv` (like `command -v`). */
export function findOnPath(name: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (dir === '') continue;
    const p = join(dir, name);
    if (executable(p)) return p;
  }
  return undefined;
}

const onPath = (name: string, hint: string): Dependency => ({ name, hint, find: () => findOnPath(name) });
const atPath = (name: string, path: string, hint: string): Dependency => ({ name, hint, find: () => (executable(path) ? path : undefined) });

export const PYTHON = '/usr/bin/python3';
export const CHROMIUM = '/usr/bin/chromium';

export const deps = {
  etcd: onPath('etcd', 'apt-get install etcd-server (scripts/install-system-deps.mjs)'),
  /** etcd snapshot status/restore (snapshots of an etcd store). */
  etcdctl: onPath('etcdctl', 'apt-get install etcd-client (scripts/install-system-deps.mjs)'),
  haproxy: onPath('haproxy', 'apt-get install haproxy (scripts/install-system-deps.mjs)'),
  keepalived: onPath('keepalived', 'apt-get install keepalived (scripts/install-system-deps.mjs)'),
  /** nftables' command line: the Service proxy's kernel data plane. */
  nft: onPath('nft', 'apt-get install nftables (scripts/install-system-deps.mjs)'),
  openssl: onPath('openssl', 'apt-get install openssl (scripts/install-system-deps.mjs)'),
  dig: onPath('dig', 'apt-get install bind9-dnsutils (scripts/install-system-deps.mjs)'),
  prometheus: onPath('prometheus', 'apt-get install prometheus (scripts/install-system-deps.mjs)'),
  promtool: onPath('promtool', 'apt-get install prometheus (scripts/install-system-deps.mjs)'),
  alertmanager: onPath('prometheus-alertmanager', 'apt-get install prometheus-alertmanager (scripts/install-system-deps.mjs)'),
  /** The kubectl dispatcher (it picks the client matching the server's minor version). */
  kubectl: atPath('kubectl', '/usr/bin/kubectl', 'the machine\'s kubectl dispatcher /usr/bin/kubectl; the test scripts cannot install it'),
  /** A versioned kubectl of the machine's Google Cloud SDK, e.g. kubectlVersion(30). */
  kubectlVersion: (minor: number): Dependency =>
    atPath(`kubectl 1.${minor}`, `/usr/lib/google-cloud-sdk/bin/kubectl.1.${minor}`, 'a versioned kubectl of the machine\'s Google Cloud SDK; the test scripts cannot install it'),
  /** The Debian python client: /usr/bin/python3 that can `import kubernetes`. */
  pythonKubernetes: {
    name: 'python3-kubernetes',
    hint: 'apt-get install python3-kubernetes (scripts/install-system-deps.mjs); run with /usr/bin/python3',
    find: () => (executable(PYTHON) && spawnSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore', timeout: 30_000 }).status === 0 ? PYTHON : undefined),
  } satisfies Dependency,
  /** Debian's chromium, which playwright-core drives headless (never a downloaded browser). */
  chromium: atPath('chromium', CHROMIUM, 'apt-get install chromium (scripts/install-system-deps.mjs)'),
  /** The native container shim, which the build compiles with a C compiler. */
  nativeShim: atPath('the native shim (a C compiler, cc)', NATIVE_SHIM_PATH, 'install gcc (scripts/install-system-deps.mjs), then node scripts/build-native-shim.mjs'),
};

/** The path of a present dependency; throws naming it when it is missing (for spawning it). */
export function pathOf(dep: Dependency): string {
  const p = dep.find();
  if (p === undefined) throw new Error(`missing test dependency: ${dep.name} (${dep.hint})`);
  return p;
}

/** What of `list` is missing, as one line naming each with how to get it; undefined when all are there. */
export function missingOf(...list: Dependency[]): string | undefined {
  const missing = list.filter((d) => d.find() === undefined);
  return missing.length === 0 ? undefined : missing.map((d) => `${d.name} (${d.hint})`).join('; ');
}

/**
 * node:test's `skip` option for a test that needs `list`: false when all are there; otherwise a
 * thrown Error under CI=true, or a visible skip outside CI.
 */
export function needs(...list: Dependency[]): false | string {
  const what = missingOf(...list);
  if (what === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true and a test dependency is missing: ${what}`);
  const reason = `missing ${what}`;
  console.error(`SKIP (${reason})`);
  return reason;
}

/**
 * The same rule for a need found only while the test runs (root, a mount, a capability):
 * true when `missing` is undefined; otherwise the test fails naming it under CI=true, or is
 * skipped with it as a visible reason, and false is returned.
 */
export function requireCapability(t: TestContext, missing: string | undefined): boolean {
  if (missing === undefined) return true;
  if (process.env.CI === 'true') assert.fail(`CI=true and a test capability is missing: ${missing}`);
  console.error(`SKIP (missing ${missing})`);
  t.skip(`missing ${missing}`);
  return false;
}
