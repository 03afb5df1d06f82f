// Restoring a cluster from a snapshot file into a server's data dir (`trireme server
// --cluster-reset --restore-from FILE`), before the server starts on it.
// Guarantees:
// - a file whose checksum does not match is refused before anything in the data dir changes;
// - what the data dir held is kept first: a SQLite store is snapshotted (pre-reset-<server>-<time>
//   in the snapshot dir), an etcd member's data dir is moved aside to etcd/data.before-restore-<time>;
// - the cluster secrets (CA, CA key, join token) come from the snapshot into a data dir that has
//   none, so agents and kubeconfigs of the old cluster keep working on new addresses; a data dir
//   that holds another CA is refused (one line) rather than mixing two clusters;
// - SQLite: the restored file's revision is raised by `revisionBump` and its change log dropped
//   (watches from before answer Gone, so watchers relist); etcd: etcdctl restores a one-member
//   cluster for this server's name and peer URL, member.json is written for it, and the caller
//   raises the revision (bumpEtcdRevision) once the member runs.
// Does not: start anything, or bring back the other servers (they rejoin with --server/--token).
import { rename, rm, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SERVER_SECRET_FILES } from '../../cluster/server-join.js';
import { etcdPaths, saveMemberConfig } from '../../etcd/index.js';
import { TriremeError } from '../../errors.js';
import { SQLITE_FILE } from '../../storage/open.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { readIfExists, writePrivateFile } from '../../util/private-file.js';
import { defaultSnapshotName, takeSnapshot } from './capture.js';
import { restoreEtcdDataDir } from './etcd-file.js';
import { checkSnapshot, extractSnapshot, readManifest, type SnapshotManifest } from './format.js';
import { backupSqliteFile, bumpSqliteRevision } from './sqlite-file.js';

/** Revisions a restore skips by default (watchers' resourceVersions stay behind the new ones). */
export const DEFAULT_REVISION_BUMP = 100_000;
/** The key etcd's revision bump writes, under the store's prefix (callers never use it). */
export const REVISION_BUMP_KEY = '/trireme/revision-bump';

export interface RestoreOptions {
  file: string;
  dataDir: string;
  snapshotDir: string;
  /** This server's node name. */
  server: string;
  revisionBump: number;
  /** etcd snapshots: the member this server runs (from its flags: name, addresses, ports). */
  member?: { name: string; peerUrl: string; clientUrl: string };
  clock: Clock;
  logger: Logger;
}

/** The cluster secrets a data dir holds (for a snapshot's index). */
export async function readServerSecrets(dataDir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const f of SERVER_SECRET_FILES) {
    const v = await readIfExists(join(dataDir, f.path));
    if (v !== undefined) out[f.path] = v;
  }
  return out;
}

/** The store kind a snapshot file holds (its manifest), for choosing the server's mode. */
export async function snapshotStoreKind(file: string): Promise<SnapshotManifest['store']> {
  return (await readManifest(file)).manifest.store;
}

export async function prepareRestore(o: RestoreOptions): Promise<{ manifest: SnapshotManifest; kept?: string }> {
  await checkSnapshot(o.file); // before the data dir is touched at all
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const work = join(o.dataDir, `.restore-${o.clock.now()}`);
  await mkdir(work, { recursive: true, mode: 0o700 });
  try {
    const storeFile = join(work, 'store.db');
    const { manifest, index } = await extractSnapshot(o.file, storeFile);
    const ownCa = await readIfExists(join(o.dataDir, 'tls', 'ca.crt'));
    const snapCa = index.secrets['tls/ca.crt'];
    if (ownCa !== undefined && snapCa !== undefined && ownCa.trim() !== snapCa.trim()) {
      throw new TriremeError('BadRequest', `the data dir ${o.dataDir} holds another cluster's CA (tls/ca.crt) than snapshot ${manifest.name}: restore into a fresh data dir`);
    }
    let kept: string | undefined;
    const ts = new Date(o.clock.now()).toISOString().replace(/[-:.]/g, '');
    if (manifest.store === 'sqlite') {
      const db = join(o.dataDir, SQLITE_FILE);
      if (existsSync(db)) {
        const pre = await takeSnapshot({
          source: { kind: 'sqlite', backup: (dest) => backupSqliteFile(db, dest) }, dir: o.snapshotDir,
          name: defaultSnapshotName(o.server, o.clock.now(), 'pre-reset'), server: o.server, secrets: await readServerSecrets(o.dataDir), clock: o.clock,
        });
        kept = pre.path;
        o.logger.info({ file: pre.path, revision: pre.manifest.revision, objects: pre.manifest.objectCount }, 'snapshot of the store before the restore taken');
      }
    } else {
      if (o.member === undefined) throw new TriremeError('BadRequest', 'an etcd snapshot restores into a managed etcd member: this server has none');
      const paths = etcdPaths(o.dataDir);
      if (existsSync(paths.data)) {
        kept = `${paths.data}.before-restore-${ts}`;
        await rename(paths.data, kept);
        o.logger.info({ kept }, 'the etcd member\'s data before the restore moved aside');
      }
    }
    // Secrets before the store: a crash in between leaves a data dir that restarts as nothing, not a store without its CA.
    if (ownCa === undefined) {
      for (const f of SERVER_SECRET_FILES) {
        const content = index.secrets[f.path];
        if (content === undefined) throw new TriremeError('BadRequest', `snapshot ${manifest.name} holds no ${f.path}, and the data dir has none: it cannot be restored onto a new data dir`);
        await mkdir(dirname(join(o.dataDir, f.path)), { recursive: true, mode: 0o700 });
        await writePrivateFile(join(o.dataDir, f.path), content, f.mode);
      }
    }
    if (manifest.store === 'sqlite') {
      const bump = bumpSqliteRevision(storeFile, o.revisionBump);
      const db = join(o.dataDir, SQLITE_FILE);
      for (const suffix of ['-wal', '-shm']) await rm(`${db}${suffix}`, { force: true });
      await rename(storeFile, db);
      o.logger.info({ snapshot: manifest.name, revision: manifest.revision, objects: manifest.objectCount, nextRevision: bump.to + 1 }, 'SQLite store restored from the snapshot');
    } else {
      const m = o.member!;
      const paths = etcdPaths(o.dataDir);
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      await restoreEtcdDataDir(storeFile, { dataDir: paths.data, name: m.name, peerUrl: m.peerUrl });
      await saveMemberConfig(o.dataDir, { name: m.name, peerUrl: m.peerUrl, clientUrl: m.clientUrl, initialCluster: `${m.name}=${m.peerUrl}`, initialClusterState: 'new', resetAt: new Date(o.clock.now()).toISOString() });
      await rm(join(o.dataDir, 'etcd-join.json'), { force: true });
      o.logger.info({ snapshot: manifest.name, revision: manifest.revision, objects: manifest.objectCount, member: m.name }, 'etcd member restored from the snapshot');
    }
    return { manifest, ...(kept ? { kept } : {}) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
