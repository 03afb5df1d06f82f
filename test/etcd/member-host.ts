// A stand-in "server" process for test/etcd/leftover.test.ts: starts the managed member of the
// data dir in argv[2] from its member.json (TLS files already in place, CA PEMs in argv[3..4]),
// prints "READY <etcd pid>" once it serves, and runs until it is killed.
import { readFile } from 'node:fs/promises';
import { ensureEtcdTls } from '../../src/etcd/tls.js';
import { loadMemberConfig } from '../../src/etcd/paths.js';
import { startEtcdMember } from '../../src/etcd/member.js';

const [dataDir, caCertFile, caKeyFile, etcdBinary, ip] = process.argv.slice(2);
if (!dataDir || !caCertFile || !caKeyFile || !etcdBinary || !ip) throw new Error('usage: member-host DATA CA.crt CA.key ETCD IP');
const cfg = await loadMemberConfig(dataDir);
if (!cfg) throw new Error(`no member.json in ${dataDir}`);
const tls = await ensureEtcdTls(dataDir, { caCertPem: await readFile(caCertFile, 'utf8'), caKeyPem: await readFile(caKeyFile, 'utf8') }, { name: cfg.name, ip });
const e = await startEtcdMember({ dataDir, tls, etcdBinary });
await e.ready();
process.stdout.write(`READY ${e.pid()}\n`);
setInterval(() => undefined, 60_000);
