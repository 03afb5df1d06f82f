// A server's snapshots: save (now, or on the schedule), list, prune to the retention, each
// recorded in the ConfigMap kube-system/trireme-snapshots and counted in the snapshot metrics.
// On an HA cluster every server runs its own service on its own store member and snapshot dir,
// so each machine holds a full copy: losing a machine never loses the snapshots (see
// docs/operations.md, Snapshots).
// Guarantees: saves run one at a time (a second waits for the first); a failed save leaves no
// file, counts as a failure and is logged once; after each scheduled or requested save the dir
// is pruned to the retention (planPrune), files first, then their records.
// Does not: prune other servers' snapshots, or copy snapshots between machines.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { isTriremeError } from '../../errors.js';
import { defaultSnapshotName, takeSnapshot, type SnapshotSource } from './capture.js';
import { readManifest, SNAPSHOT_SUFFIX } from './format.js';
import type { SnapshotMetrics } from './metrics.js';
import { recordOf, type SnapshotRecord, type SnapshotRecords } from './records.js';
import { planPrune } from './retention.js';
import { startSchedule } from './schedule.js';

export interface SnapshotServiceOptions {
  source: SnapshotSource;
  dir: string;
  retention: number;
  server: string;
  secrets(): Record<string, string>;
  metrics: SnapshotMetrics;
  records?: SnapshotRecords;
  clock: Clock;
  logger: Logger;
}

export class SnapshotService {
  private chain: Promise<unknown> = Promise.resolve();
  private schedule: { stop(): Promise<void> } | undefined;

  constructor(private readonly o: SnapshotServiceOptions) {}

  /** Takes a snapshot named `name` (default: server and time), then prunes to the retention. */
  save(name?: string): Promise<SnapshotRecord> {
    const next = this.chain.then(() => this.saveNow(name));
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async saveNow(name: string | undefined): Promise<SnapshotRecord> {
    const started = this.o.clock.now();
    let record: SnapshotRecord;
    try {
      const { path, manifest } = await takeSnapshot({
        source: this.o.source, dir: this.o.dir, name: name ?? defaultSnapshotName(this.o.server, started), server: this.o.server, secrets: this.o.secrets(), clock: this.o.clock,
      });
      record = recordOf(path, (await stat(path)).size, manifest);
    } catch (e) {
      this.o.metrics.failed((this.o.clock.now() - started) / 1000);
      this.o.logger.error({ err: (e as Error).message }, 'snapshot failed');
      throw e;
    }
    this.o.metrics.succeeded(this.o.clock.now(), record.size, (this.o.clock.now() - started) / 1000);
    this.o.logger.info({ name: record.name, file: record.file, revision: record.revision, objects: record.objects, size: record.size }, 'snapshot saved');
    const pruned = await this.pruneFiles();
    await this.o.records?.change([record], pruned);
    return record;
  }

  /** The snapshot metrics start from the newest file an earlier run of this server left. */
  async seedMetrics(): Promise<void> {
    const newest = (await this.local())[0];
    if (newest) this.o.metrics.found(Date.parse(newest.created), newest.size);
  }

  /** This server's snapshots, newest first (from the files in the snapshot dir). */
  async local(): Promise<SnapshotRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.o.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const out: SnapshotRecord[] = [];
    for (const n of names.filter((f) => f.endsWith(SNAPSHOT_SUFFIX))) {
      const path = join(this.o.dir, n);
      try {
        const { manifest } = await readManifest(path);
        out.push(recordOf(path, (await stat(path)).size, manifest));
      } catch (e) {
        if (!isTriremeError(e)) throw e;
        this.o.logger.warn({ file: path, err: e.message }, 'not a snapshot file; left alone');
      }
    }
    return out.sort((a, b) => b.created.localeCompare(a.created));
  }

  /** This server's snapshots and the other servers' records. */
  async list(): Promise<SnapshotRecord[]> {
    const own = await this.local();
    const others = (await this.o.records?.list() ?? []).filter((r) => r.server !== this.o.server);
    return [...own, ...others];
  }

  /** Removes this server's snapshots beyond the retention; the names removed. */
  prune(): Promise<string[]> {
    const next = this.chain.then(async () => {
      const pruned = await this.pruneFiles();
      await this.o.records?.change([], pruned);
      return pruned;
    });
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async pruneFiles(): Promise<string[]> {
    const own = await this.local();
    const { prune } = planPrune(own.map((r) => ({ ...r, created: Date.parse(r.created) })), this.o.retention);
    for (const r of prune) await rm(r.file, { force: true });
    if (prune.length > 0) this.o.logger.info({ pruned: prune.map((r) => r.name), retention: this.o.retention }, 'snapshots pruned');
    return prune.map((r) => r.name);
  }

  startSchedule(expr: string): void {
    this.schedule = startSchedule({
      expr, clock: this.o.clock,
      run: async () => { await this.save(); },
      // saveNow logged and counted it; the schedule goes on.
      onError: () => undefined,
    });
  }

  async stop(): Promise<void> {
    await this.schedule?.stop();
    await this.chain;
  }
}
