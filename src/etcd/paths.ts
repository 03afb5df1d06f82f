// Where a managed etcd member keeps its files under the server's data dir, and its persisted
// member config (DATA/etcd/member.json).
// Guarantees: member.json is written atomically 0600 (write-then-rename), so a crash leaves the
// old or the new config; `loadMemberConfig` validates what it reads and names the file and the
// field on a bad one instead of starting etcd with a half-understood config.
// Does not: decide membership (membership.ts) or touch etcd's own data dir.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TriremeError } from '../errors.js';
import { readIfExists, writePrivateFile } from '../util/private-file.js';

export interface EtcdPaths {
  /** DATA/etcd */
  dir: string;
  /** DATA/etcd/data: etcd's --data-dir. */
  data: string;
  /** DATA/etcd/tls: the member's certificates and keys. */
  tls: string;
  /** DATA/etcd/member.json */
  config: string;
  /** DATA/etcd/etcd.log: etcd's stdout and stderr, appended. */
  log: string;
  /** DATA/etcd/etcd.pid: the pid of the etcd child, so a successor can find a leftover. */
  pid: string;
}

export function etcdPaths(dataDir: string): EtcdPaths {
  const dir = join(dataDir, 'etcd');
  return {
    dir,
    data: join(dir, 'data'),
    tls: join(dir, 'tls'),
    config: join(dir, 'member.json'),
    log: join(dir, 'etcd.log'),
    pid: join(dir, 'etcd.pid'),
  };
}

export interface MemberConfig {
  /** etcd --name; unique in the cluster. */
  name: string;
  /** The member's peer URL (https://IP:PORT), listened on and advertised. */
  peerUrl: string;
  /** The member's client URL (https://IP:PORT), listened on and advertised. */
  clientUrl: string;
  /** `name=peerUrl,...`; read by etcd on the first start only (ignored once data exists). */
  initialCluster: string;
  initialClusterState: 'new' | 'existing';
  /** When a cluster reset (--force-new-cluster) made this member a one-member cluster (ISO time). */
  resetAt?: string;
}

/** The config of the first member of a new cluster (`--cluster-init`). */
export function clusterInitConfig(m: { name: string; peerUrl: string; clientUrl: string }): MemberConfig {
  return checkMemberConfig({ ...m, initialCluster: `${m.name}=${m.peerUrl}`, initialClusterState: 'new' });
}

/** The config of a member joining an existing cluster with `initialCluster` from addLearner. */
export function joinConfig(m: { name: string; peerUrl: string; clientUrl: string }, initialCluster: string): MemberConfig {
  return checkMemberConfig({ ...m, initialCluster, initialClusterState: 'existing' });
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

function bad(file: string, field: string, why: string): TriremeError {
  return new TriremeError('Invalid', `${file}: ${field} ${why}`, { context: { file, field } });
}

function checkUrl(file: string, field: string, v: unknown): string {
  if (typeof v !== 'string') throw bad(file, field, 'must be a URL string');
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw bad(file, field, `is not a URL: ${JSON.stringify(v)}`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.port === '' || (u.pathname !== '/' && u.pathname !== '')) {
    throw bad(file, field, `must be http(s)://HOST:PORT, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Checks a config (from disk or a caller) field by field; `file` names it in messages. */
export function checkMemberConfig(raw: unknown, file = 'member config'): MemberConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(file, 'config', 'must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || !NAME.test(o.name)) throw bad(file, 'name', `must be 1-63 letters, digits, '.', '_' or '-', got ${JSON.stringify(o.name)}`);
  const peerUrl = checkUrl(file, 'peerUrl', o.peerUrl);
  const clientUrl = checkUrl(file, 'clientUrl', o.clientUrl);
  if (typeof o.initialCluster !== 'string' || o.initialCluster === '') throw bad(file, 'initialCluster', 'must be a non-empty name=peerUrl list');
  for (const part of o.initialCluster.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(file, 'initialCluster', `entry ${JSON.stringify(part)} is not name=peerUrl`);
    checkUrl(file, 'initialCluster', part.slice(eq + 1));
  }
  if (o.initialClusterState !== 'new' && o.initialClusterState !== 'existing') throw bad(file, 'initialClusterState', `must be "new" or "existing", got ${JSON.stringify(o.initialClusterState)}`);
  if (o.resetAt !== undefined && typeof o.resetAt !== 'string') throw bad(file, 'resetAt', 'must be a string');
  const cfg: MemberConfig = { name: o.name, peerUrl, clientUrl, initialCluster: o.initialCluster, initialClusterState: o.initialClusterState };
  if (typeof o.resetAt === 'string') cfg.resetAt = o.resetAt;
  return cfg;
}

export async function saveMemberConfig(dataDir: string, cfg: MemberConfig): Promise<void> {
  const p = etcdPaths(dataDir);
  const checked = checkMemberConfig(cfg);
  await mkdir(p.dir, { recursive: true, mode: 0o700 });
  await writePrivateFile(p.config, JSON.stringify(checked, null, 2) + '\n');
}

/** The saved config, or undefined when there is none. */
export async function loadMemberConfig(dataDir: string): Promise<MemberConfig | undefined> {
  const file = etcdPaths(dataDir).config;
  const text = await readIfExists(file);
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TriremeError('Invalid', `${file}: not valid JSON (${(e as Error).message})`, { context: { file }, cause: e });
  }
  return checkMemberConfig(raw, file);
}
