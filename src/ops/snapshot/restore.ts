// Restoring a cluster from a snapshot file into a server's data dir (`trireme server
// --cluster-reset --restore-from FILE`), before the server starts on it.
// Guarantees:
// - a file whose checksum does not match is refused before anything in the data dir changes;
// - what the data dir held is kept first: a SQLite store is snapshotted (pre-reset-<server>-<time>
//   in the snapshot dir), an etcd member's data dir is moved aside to etcd/data.before-restore-<time>;
// - the cluster secrets (CA, CA key, join token, Secrets encryption keys) come from the snapshot into a data dir that has
//   none, so agents and kubeconfigs of the old cluster keep working on new addresses; a data dir
//   that holds another CA is refused (one line) rather than mixing two clusters;
// - the restored store starts at the revision restore-revision.ts chooses (above every revision
//   the lost cluster can have handed out), with everything before it compacted, so watches from
//   before answer Gone and watchers relist: SQLite: the file's compact revision is set to it and
//   its change log dropped; etcd: etcdctl restores a one-member cluster for this server's name
//   and peer URL, the backend's compact revision is set to it before etcd first opens it
//   (markEtcdCompacted; a snapshot that records no compaction is first compacted at its own head
//   in a throw-away etcd on the member's host), and member.json is written for it. Either way the
//   jump costs the same whatever its size (no writes are replayed); the caller checks the running
//   etcd member reports the target.
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
import { compactedCopy, etcdBackendRevision, hasCompactRevision, markEtcdCompacted, restoreEtcdDataDir } from './etcd-file.js';
import { checkSnapshot, extractSnapshot, readManifest, type SnapshotManifest } from './format.js';
import { restoreRevision, type RestoreRevision } from './restore-revision.js';
import { backupSqliteFile, raiseSqliteRevision } from './sqlite-file.js';

export interface RestoreOptions {
  file: string;
  dataDir: string;
  snapshotDir: string;
  /** This server's node name. */
  server: string;
  /** The least jump past the snapshot's (and the replaced store's) revision (restore-revision.ts). */
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

export interface PreparedRestore {
  manifest: SnapshotManifest;
  /** The pre-reset snapshot (SQLite) or the moved-aside member data (etcd). */
  kept?: string;
  /** The revision the restored store stands at. */
  revision: RestoreRevision;
}

export async function prepareRestore(o: RestoreOptions): Promise<PreparedRestore> {
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
    const knownRevisions: number[] = [];
    const ts = new Date(o.clock.now()).toISOString().replace(/[-:.]/g, '');
    if (manifest.store === 'sqlite') {
      const db = join(o.dataDir, SQLITE_FILE);
      if (existsSync(db)) {
        const pre = await takeSnapshot({
          source: { kind: 'sqlite', backup: (dest) => backupSqliteFile(db, dest) }, dir: o.snapshotDir,
          name: defaultSnapshotName(o.server, o.clock.now(), 'pre-reset'), server: o.server, secrets: await readServerSecrets(o.dataDir), clock: o.clock,
        });
        kept = pre.path;
        knownRevisions.push(pre.manifest.revision);
        o.logger.info({ file: pre.path, revision: pre.manifest.revision, objects: pre.manifest.objectCount }, 'snapshot of the store before the restore taken');
      }
    } else {
      if (o.member === undefined) throw new TriremeError('BadRequest', 'an etcd snapshot restores into a managed etcd member: this server has none');
      const paths = etcdPaths(o.dataDir);
      if (existsSync(paths.data)) {
        kept = `${paths.data}.before-restore-${ts}`;
        await rename(paths.data, kept);
        o.logger.info({ kept }, 'the etcd member\'s data before the restore moved aside');
        try {
          knownRevisions.push(await etcdBackendRevision(join(kept, 'member', 'snap', 'db')));
        } catch (e) {
          o.logger.warn({ kept, err: (e as Error).message }, 'the revision of the replaced member\'s data is unreadable: the restore goes by the snapshot\'s');
        }
      }
    }
    // Secrets before the store: a crash in between leaves a data dir that restarts as nothing, not a store without its CA.
    if (ownCa === undefined) {
      for (const f of SERVER_SECRET_FILES) {
        const content = index.secrets[f.path];
        if (content === undefined && f.optional) continue;
        if (content === undefined) throw new TriremeError('BadRequest', `snapshot ${manifest.name} holds no ${f.path}, and the data dir has none: it cannot be restored onto a new data dir`);
        await mkdir(dirname(join(o.dataDir, f.path)), { recursive: true, mode: 0o700 });
        await writePrivateFile(join(o.dataDir, f.path), content, f.mode);
      }
    }
    const revision = restoreRevision({ snapshotRevision: manifest.revision, snapshotCreated: Date.parse(manifest.created), now: o.clock.now(), knownRevisions, minBump: o.revisionBump });
    if (manifest.store === 'sqlite') {
      const bump = raiseSqliteRevision(storeFile, revision.target);
      const db = join(o.dataDir, SQLITE_FILE);
      for (const suffix of ['-wal', '-shm']) await rm(`${db}${suffix}`, { force: true });
      await rename(storeFile, db);
      o.logger.info({ snapshot: manifest.name, revision: manifest.revision, objects: manifest.objectCount, nextRevision: bump.to + 1, by: revision.by }, 'SQLite store restored from the snapshot');
    } else {
      const m = o.member!;
      const paths = etcdPaths(o.dataDir);
      await mkdir(paths.dir, { recursive: true, mode: 0o700 });
      let source = storeFile;
      if (!(await hasCompactRevision(storeFile))) {
        source = join(work, 'compacted.db');
        await compactedCopy(storeFile, source, join(work, 'scratch'), new URL(m.peerUrl).hostname.replace(/^\[|\]$/g, ''));
      }
      await restoreEtcdDataDir(source, { dataDir: paths.data, name: m.name, peerUrl: m.peerUrl });
      await markEtcdCompacted(join(paths.data, 'member', 'snap', 'db'), revision.target);
      await saveMemberConfig(o.dataDir, { name: m.name, peerUrl: m.peerUrl, clientUrl: m.clientUrl, initialCluster: `${m.name}=${m.peerUrl}`, initialClusterState: 'new', resetAt: new Date(o.clock.now()).toISOString() });
      await rm(join(o.dataDir, 'etcd-join.json'), { force: true });
      o.logger.info({ snapshot: manifest.name, revision: manifest.revision, objects: manifest.objectCount, member: m.name, nextRevision: revision.target + 1, by: revision.by }, 'etcd member restored from the snapshot');
    }
    return { manifest, revision, ...(kept ? { kept } : {}) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
