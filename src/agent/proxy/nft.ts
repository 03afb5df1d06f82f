// The kernel data plane's I/O edge: runs the `nft` command. Scripts are written to its stdin
// (`nft -f -`), so each one is a single netlink transaction: all of it applies or none does.
// Guarantees: `apply` resolves once nft exited 0 and rejects with a TriremeError carrying nft's
// stderr otherwise; `probe` says whether this process may program nftables here (it creates and
// deletes a scratch table of its own, named after its pid); every run is bounded by a timeout.
// Does not: decide what to write (nft-ruleset.ts), touch any table it is not given, ever flush
// the whole ruleset.
import { spawn } from 'node:child_process';
import { TriremeError } from '../../errors.js';
import { deleteScript, parseTables, TABLE_FAMILY } from './nft-ruleset.js';

export interface NftRunner {
  /** Runs one nft script as one transaction. */
  apply(script: string): Promise<void>;
  /** The names of the tables of our family. */
  listTables(): Promise<string[]>;
}

const RUN_TIMEOUT_MS = 10_000;

function run(bin: string, args: string[], input: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new TriremeError('Internal', `cannot run ${bin}: ${e.message}`, { cause: e }));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new TriremeError('Internal', `${bin} ${args.join(' ')} failed (${signal ?? `exit ${String(code)}`}): ${err.trim().split('\n').slice(0, 6).join(' | ')}`, { context: { args } }));
    });
    child.stdin.on('error', () => undefined); // an early exit is reported by 'close'
    child.stdin.end(input ?? '');
  });
}

export class NftCommand implements NftRunner {
  constructor(private readonly bin = 'nft') {}

  async apply(script: string): Promise<void> {
    await run(this.bin, ['-f', '-'], script);
  }

  async listTables(): Promise<string[]> {
    return parseTables(await run(this.bin, ['list', 'tables', TABLE_FAMILY], undefined));
  }
}

/**
 * Whether nftables can be programmed by this process: root, and a scratch table can be created
 * and deleted. The reason is returned when it cannot (for the one log line saying why userspace).
 */
export async function probeNft(nft: NftRunner = new NftCommand(), uid = process.getuid?.()): Promise<{ ok: true } | { ok: false; reason: string }> {
  if (uid !== 0) return { ok: false, reason: 'not running as root' };
  const scratch = `trireme_probe_${process.pid}`;
  try {
    await nft.apply(`add table ${TABLE_FAMILY} ${scratch}\n`);
    await nft.apply(deleteScript(scratch));
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message };
  }
}
