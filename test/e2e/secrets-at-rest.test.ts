// End-to-end: Secrets at rest against real servers and the real kubectl.
// - One `trireme server` on SQLite (127.0.90.1): a Secret made by kubectl is ciphertext in the
//   database file (the server holds the file with an exclusive lock, so it is stopped first; the
//   kv row read raw with better-sqlite3, read-only; the plaintext and its base64 absent from
//   every byte of the db and its WAL), the key file is 0600; after
//   `trireme secrets rotate-key` the row carries the new key id and kubectl still reads it, and
//   so it does after a restart.
// - Two servers on managed etcd (127.0.90.11 `--cluster-init`, 127.0.90.12 joins): the joiner
//   received the same key file; the raw etcd value (etcd3 with the member's TLS files) is
//   ciphertext; a rotation through s1 re-encrypts, and s2 — which never saw the new key in its
//   file before — reads the Secret through kubectl, and so learns and keeps the new key.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { Etcd3 } from 'etcd3';
import { killAll, show, startServer, waitFor, type ServerHandle } from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';
import { HaServer, runCli, showCli, stopAllAndClean } from '../ha/servers.js';
import { etcdPaths } from '../../src/etcd/paths.js';
import { ENVELOPE_PREFIX, keyIdOf, parseKeyring } from '../../src/storage/secret-encryption.js';

const KEY = '/registry/secrets/default/db';

function marker(): string {
  return `PlainTextMarker${randomBytes(6).toString('hex')}`;
}

function assertCiphertext(raw: string, plain: string, keyId?: string): void {
  assert.ok(raw.startsWith(ENVELOPE_PREFIX), `stored value starts with ${ENVELOPE_PREFIX}: ${raw.slice(0, 40)}`);
  if (keyId !== undefined) assert.equal(keyIdOf(raw), keyId);
  assert.ok(!raw.includes(plain) && !raw.includes(Buffer.from(plain).toString('base64')), 'plaintext absent from the stored value');
}

async function keyring(dataDir: string) {
  return parseKeyring(await readFile(join(dataDir, 'encryption', 'keys.json'), 'utf8'), 'keys.json');
}

describe('Secrets at rest on SQLite', { skip: needs(deps.kubectl) }, () => {
  let server: ServerHandle;
  const plain = marker();
  /** The Secret's stored value, and whether the db files hold the plaintext, with the server stopped. */
  const atRest = async (): Promise<string> => {
    await server.stop();
    for (const f of ['trireme.db', 'trireme.db-wal']) {
      const p = join(server.dataDir, f);
      if (!existsSync(p)) continue;
      const bytes = await readFile(p);
      assert.equal(bytes.indexOf(plain), -1, `${f} holds the plaintext`);
      assert.equal(bytes.indexOf(Buffer.from(plain).toString('base64')), -1, `${f} holds the plaintext's base64`);
    }
    const value = rawRow();
    await server.restart();
    return value;
  };
  const rawRow = (): string => {
    const db = new Database(join(server.dataDir, 'trireme.db'), { readonly: true, fileMustExist: true });
    try {
      return (db.prepare('SELECT value FROM kv WHERE key = ?').get(KEY) as { value: string }).value;
    } finally {
      db.close();
    }
  };
  const getPassword = async (): Promise<string> => {
    const r = await server.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    assert.equal(r.code, 0, show(r));
    return Buffer.from(r.stdout, 'base64').toString('utf8');
  };

  before(async () => {
    server = await startServer({ host: '127.0.90.1', extraArgs: ['--service-cluster-ip-range', '127.90.0.0/16'] });
  });
  after(async () => {
    try { await server?.dispose(); } finally { killAll(); }
  });

  it('a Secret created by kubectl is ciphertext in the database file', () => server.guard(async () => {
    const r = await server.kubectl(['create', 'secret', 'generic', 'db', `--from-literal=password=${plain}`]);
    assert.equal(r.code, 0, show(r));
    const ring = await keyring(server.dataDir);
    assert.equal(((await stat(join(server.dataDir, 'encryption', 'keys.json'))).mode & 0o777), 0o600);
    assertCiphertext(await atRest(), plain, ring.writeKey);
    assert.equal(await getPassword(), plain, 'read after a restart');
  }));

  it('rotate-key re-encrypts under a new key id; kubectl still reads it, also after a restart', () => server.guard(async () => {
    const before = await keyring(server.dataDir);
    const rot = await runCli(['secrets', 'rotate-key', '--kubeconfig', server.kubeconfig, '-o', 'json']);
    assert.equal(rot.code, 0, showCli(rot));
    const result = JSON.parse(rot.stdout) as { writeKey: string; keys: string[]; rewritten: number };
    assert.notEqual(result.writeKey, before.writeKey);
    assert.deepEqual(result.keys, [before.writeKey, result.writeKey]);
    assert.ok(result.rewritten >= 1, rot.stdout);
    assert.ok(!rot.stdout.includes((await keyring(server.dataDir)).keys[1]!.secret), 'no key material in the answer');
    assert.equal((await keyring(server.dataDir)).writeKey, result.writeKey);
    assert.equal(await getPassword(), plain);
    assertCiphertext(await atRest(), plain, result.writeKey);
    assert.equal(await getPassword(), plain, 'read after a restart');
  }));

  it('rotate-key is refused to a non-admin', () => server.guard(async () => {
    const r = await server.kubectl(['create', '--raw', '/trireme/v1/encryption/rotate-key', '-f', '-', '--as', 'alice'], { input: '{}' });
    assert.notEqual(r.code, 0, show(r));
    assert.match(r.stderr, /forbidden/i);
  }));

  it('the server log never holds the Secret', () => server.guard(async () => {
    assert.ok(!(await readFile(server.logFile, 'utf8')).includes(plain));
  }));
});

describe('Secrets at rest on managed etcd, two servers', { skip: needs(deps.etcd, deps.kubectl), timeout: 300_000 }, () => {
  let root = '';
  const all: HaServer[] = [];
  const plain = marker();

  const rawEtcd = async (s: HaServer, storeKey = KEY): Promise<string> => {
    const tls = etcdPaths(s.dataDir).tls;
    const [ca, cert, key] = await Promise.all(['ca.crt', 'client.crt', 'client.key'].map((f) => readFile(join(tls, f))));
    const client = new Etcd3({ hosts: [`https://${s.host}:${s.etcdClientPort}`], credentials: { rootCertificate: ca!, certChain: cert!, privateKey: key! } });
    try {
      const v = await client.get(storeKey).string();
      assert.ok(v !== null, `${storeKey} in etcd`);
      return v;
    } finally {
      client.close();
    }
  };
  const password = async (s: HaServer): Promise<string> => {
    const r = await s.kubectl(['get', 'secret', 'db', '-o', 'jsonpath={.data.password}']);
    assert.equal(r.code, 0, show(r));
    return Buffer.from(r.stdout, 'base64').toString('utf8');
  };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'trireme-secrets-etcd-'));
  });
  after(() => stopAllAndClean(all, root));

  it('the joiner gets the key; the raw etcd value is ciphertext', async () => {
    const s1 = await HaServer.create(root, 's1', '127.0.90.11');
    const s2 = await HaServer.create(root, 's2', '127.0.90.12');
    all.push(s1, s2);
    await s1.start(['--cluster-init']);
    const token = (await readFile(join(s1.dataDir, 'token'), 'utf8')).trim();
    await s2.start(['--server', s1.url, '--token', token]);
    assert.deepEqual(await keyring(s2.dataDir), await keyring(s1.dataDir));
    const r = await s1.kubectl(['create', 'secret', 'generic', 'db', `--from-literal=password=${plain}`]);
    assert.equal(r.code, 0, show(r));
    assertCiphertext(await rawEtcd(s1), plain, (await keyring(s1.dataDir)).writeKey);
    assert.equal(await password(s2), plain);
  });

  it('a rotation through s1 re-encrypts; s2 reads the Secret and learns the new key', async () => {
    const [s1, s2] = all as [HaServer, HaServer];
    const rot = await runCli(['secrets', 'rotate-key', '--kubeconfig', s1.kubeconfig, '-o', 'json']);
    assert.equal(rot.code, 0, showCli(rot));
    const { writeKey } = JSON.parse(rot.stdout) as { writeKey: string };
    assertCiphertext(await rawEtcd(s2), plain, writeKey);
    assert.equal(await password(s2), plain);
    await waitFor('s2 to keep the new key in its key file', async () => ((await keyring(s2.dataDir)).writeKey === writeKey) || undefined, 15_000);
    // A Secret s2 writes now is under the new key.
    const r = await s2.kubectl(['create', 'secret', 'generic', 'db2', `--from-literal=password=${plain}`]);
    assert.equal(r.code, 0, show(r));
    assertCiphertext(await rawEtcd(s2, '/registry/secrets/default/db2'), plain, writeKey);
  });
});
