// The keys that encrypt Secrets at rest (src/storage/secret-encryption.ts), kept in two places:
// DATA/encryption/keys.json (0600, this server's copy, created at first start; a joining server
// receives it in the join bundle, a snapshot carries it) and the store key KEYRING_STORE_KEY,
// sealed with a key derived from the cluster CA key (which every server of a cluster holds), so
// that every server of an HA cluster learns a rotation made on another.
// Guarantees:
// - after `open`, the file and the store's copy hold the union of both (the store's write key
//   wins: it is the cluster's), so a server that restarts, joins or is restored reads every
//   Secret any server wrote;
// - `rotate` adds a fresh key as the write key with a compare-and-swap on the store's copy
//   (two rotations at once both land, the later one's key writing), then writes the file;
// - `refresh` (an unknown key id was read) and the watch on the store's copy bring in keys and
//   a new write key other servers added; keys are never dropped.
// Does not: re-encrypt stored Secrets (encryption-routes.ts does), delete old keys, or log key
// material (only key ids).
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { isTriremeError } from '../errors.js';
import type { KeySource } from '../storage/encrypted.js';
import { formatKeyring, mergeKeyrings, newKey, newKeyring, openKeyring, parseKeyring, sameKeyring, sealKeyring, withWriteKey, type Keyring } from '../storage/secret-encryption.js';
import type { Store, StoreWatch } from '../storage/store.js';
import type { Clock, Timer } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import { readIfExists, writePrivateFile } from '../util/private-file.js';

/** The key file, relative to the data dir (a server secret: join bundle, snapshots). */
export const KEYS_FILE = 'encryption/keys.json';
/** Where the cluster's sealed copy of the keyring lives in the store (outside /registry). */
export const KEYRING_STORE_KEY = '/trireme/encryption/keyring';

export interface EncryptionKeysOptions {
  dataDir: string;
  /** The store as the backend has it (not the encrypting wrapper). */
  store: Store;
  /** The cluster CA's private key (PEM): what seals the store's copy. */
  caKeyPem: string;
  clock: Clock;
  logger: Logger;
}

export class EncryptionKeys implements KeySource {
  private ring: Keyring;
  private busy: Promise<unknown> = Promise.resolve();
  private watch?: StoreWatch;
  private retry?: Timer;
  private stopped = false;

  private constructor(private readonly o: EncryptionKeysOptions, ring: Keyring) {
    this.ring = ring;
  }

  static async open(o: EncryptionKeysOptions): Promise<EncryptionKeys> {
    const path = join(o.dataDir, KEYS_FILE);
    const text = await readIfExists(path);
    const fromFile = text === undefined ? undefined : parseKeyring(text, path);
    const keys = new EncryptionKeys(o, fromFile ?? newKeyring(newKey(o.clock.now())));
    await keys.sync(fromFile === undefined);
    if (!fromFile || !sameKeyring(fromFile, keys.ring)) await keys.persist();
    if (!fromFile) o.logger.info({ keyId: keys.ring.writeKey, file: path }, 'encryption key file written (Secrets are encrypted at rest with it)');
    return keys;
  }

  current(): Keyring {
    return this.ring;
  }

  /** The key file's content, for the join bundle and snapshots. */
  fileContent(): string {
    return formatKeyring(this.ring);
  }

  refresh(): Promise<void> {
    return this.serial(async () => {
      const before = this.ring;
      await this.sync(false);
      if (!sameKeyring(before, this.ring)) await this.persist();
    });
  }

  /** A fresh write key; the old ones stay for reading. Returns the new keyring. */
  rotate(): Promise<Keyring> {
    return this.serial(async () => {
      for (let attempt = 0; ; attempt++) {
        const kv = await this.o.store.get(KEYRING_STORE_KEY);
        const base = kv ? mergeKeyrings(openKeyring(this.o.caKeyPem, kv.value), this.ring) : this.ring;
        const next = withWriteKey(base, newKey(this.o.clock.now()));
        try {
          const sealed = sealKeyring(this.o.caKeyPem, next);
          if (kv) await this.o.store.update(KEYRING_STORE_KEY, sealed, kv.modRevision);
          else await this.o.store.create(KEYRING_STORE_KEY, sealed);
        } catch (e) {
          if (attempt < 5 && (isTriremeError(e, 'Conflict') || isTriremeError(e, 'AlreadyExists'))) continue;
          throw e;
        }
        this.ring = next;
        await this.persist();
        this.o.logger.info({ keyId: next.writeKey, keys: next.keys.length }, 'encryption key rotated: new Secrets writes use the new key');
        return next;
      }
    });
  }

  /** Follows the store's copy (another server's rotation) until `stop`. */
  start(): void {
    if (this.stopped || this.watch) return;
    void this.o.store.currentRevision().then((rev) => {
      if (this.stopped) return;
      this.watch = this.o.store.watch(KEYRING_STORE_KEY, rev, {
        onEvent: (ev) => { if (ev.type === 'put' && ev.kv.key === KEYRING_STORE_KEY) void this.refresh().catch((err: unknown) => this.o.logger.error({ err }, 'reading the cluster\'s encryption keys failed')); },
        onError: (err) => { this.watch = undefined; this.rearm(err); },
      });
      // A change between open and the watch's start.
      return this.refresh();
    }).catch((err: unknown) => this.rearm(err));
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    this.watch = undefined;
    if (this.retry) this.o.clock.clearTimeout(this.retry);
  }

  private rearm(err: unknown): void {
    if (this.stopped) return;
    this.o.logger.warn({ err }, 'the watch on the cluster\'s encryption keys ended: starting it again in 1 s');
    this.retry = this.o.clock.setTimeout(() => { this.retry = undefined; this.start(); }, 1000);
  }

  /** Merges the store's copy into this one; writes the store's copy when it lacks a key of ours (or is absent). */
  private async sync(generated: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const kv = await this.o.store.get(KEYRING_STORE_KEY);
      if (kv) {
        const stored = openKeyring(this.o.caKeyPem, kv.value);
        // A key generated here has never encrypted anything: the cluster's keys replace it.
        const merged = generated ? stored : mergeKeyrings(stored, this.ring);
        this.ring = merged;
        if (sameKeyring(merged, stored)) return;
        try {
          await this.o.store.update(KEYRING_STORE_KEY, sealKeyring(this.o.caKeyPem, merged), kv.modRevision);
          return;
        } catch (e) {
          if (attempt < 5 && isTriremeError(e, 'Conflict')) continue;
          throw e;
        }
      }
      try {
        await this.o.store.create(KEYRING_STORE_KEY, sealKeyring(this.o.caKeyPem, this.ring));
        return;
      } catch (e) {
        if (attempt < 5 && isTriremeError(e, 'AlreadyExists')) continue;
        throw e;
      }
    }
  }

  private async persist(): Promise<void> {
    const path = join(this.o.dataDir, KEYS_FILE);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writePrivateFile(path, formatKeyring(this.ring), 0o600);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.busy.then(fn, fn);
    this.busy = run.catch(() => undefined);
    return run;
  }
}

