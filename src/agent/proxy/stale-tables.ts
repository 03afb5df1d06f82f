// The stale kernel-table sweep: nftables rules outlive the agent that wrote them, so a table of a
// cluster or node whose agents are all gone would keep DNATing its ClusterIPs and NodePorts — and
// capture a later cluster's traffic to the same addresses, whichever data plane that cluster
// runs. The machine's ClusterIP lock holder runs this every second in both modes.
// Guarantees: a table of ours (by name, sweepCandidates) other than those in `keep` is deleted
// only while this process holds the lock that guards it, which its owner holds for as long as it
// lives — so a live table of another cluster or node on this machine is never touched; the lock
// is released afterwards; each distinct error is logged once per key until that key works again.
// Does not: touch tables not named like ours, or run on a schedule of its own (the caller's tick).
import type { Logger } from '../../util/log.js';
import { AbstractSocketLock } from './machine-lock.js';
import type { NftRunner } from './nft.js';
import { deleteScript, sweepCandidates } from './nft-ruleset.js';

export class StaleTableSweeper {
  private readonly errorLogged = new Map<string, string>();

  constructor(private readonly nft: NftRunner, private readonly log: Logger) {}

  async sweep(keep: ReadonlySet<string>): Promise<void> {
    let tables: string[];
    try {
      tables = await this.nft.listTables();
    } catch (err) {
      this.logOnce('sweep', err, 'cannot list nftables tables for the stale-table sweep');
      return;
    }
    this.errorLogged.delete('sweep');
    for (const { table, lock } of sweepCandidates(tables, keep)) {
      const l = new AbstractSocketLock(lock, this.log);
      let got: boolean;
      try {
        got = await l.tryAcquire();
      } catch (err) {
        this.logOnce(`sweep-${table}`, err, 'cannot check the owner of an nftables table');
        continue;
      }
      if (!got) continue; // alive: its owner holds the lock
      try {
        await this.nft.apply(deleteScript(table));
        this.errorLogged.delete(`sweep-${table}`);
        this.log.info({ table }, 'deleted a kernel proxy table whose owner is gone');
      } catch (err) {
        this.logOnce(`sweep-${table}`, err, 'cannot delete a stale kernel proxy table');
      } finally {
        await l.release();
      }
    }
  }

  private logOnce(key: string, err: unknown, msg: string): void {
    const m = (err as Error).message;
    if (this.errorLogged.get(key) === m) return;
    this.errorLogged.set(key, m);
    this.log.warn({ err, key }, msg);
  }
}
