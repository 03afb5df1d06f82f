// Server mode planning (src/cluster/server-mode.ts): flags × data-dir state → mode, and every
// contradiction a one-line BadRequest naming what is in the way.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planServerStart, type DataDirState, type ServerModeFlags, type ServerPlan } from '../../src/cluster/server-mode.js';
import { isTriremeError } from '../../src/errors.js';

const HASH = 'ab'.repeat(32);
const TOKEN = `K10${HASH}::server:secret`;
const fresh: DataDirState = { sqliteStore: false, memberConfig: false };
const sqlite: DataDirState = { sqliteStore: true, memberConfig: false, caHash: HASH };
const managed: DataDirState = { sqliteStore: false, memberConfig: true, caHash: HASH };
const caOnly: DataDirState = { sqliteStore: false, memberConfig: false, caHash: HASH };
const otherCa: DataDirState = { sqliteStore: false, memberConfig: false, caHash: 'cd'.repeat(32) };

const ok: [string, ServerModeFlags, DataDirState, ServerPlan][] = [
  ['no flags, fresh dir → sqlite', {}, fresh, { mode: 'sqlite' }],
  ['no flags, sqlite dir → sqlite', {}, sqlite, { mode: 'sqlite' }],
  ['no flags, managed member → restart', {}, managed, { mode: 'restart-managed', ignoredFlags: [] }],
  ['--etcd-endpoints → external', { etcdEndpoints: ['http://e:2379'] }, fresh, { mode: 'external-etcd', endpoints: ['http://e:2379'] }],
  ['--cluster-init, fresh dir → init', { clusterInit: true }, fresh, { mode: 'init' }],
  ['--cluster-init again on its member → restart', { clusterInit: true }, managed, { mode: 'restart-managed', ignoredFlags: ['--cluster-init'] }],
  ['--server --token, fresh dir → join', { server: 'https://a:6443', token: ` ${TOKEN}\n` }, fresh, { mode: 'join', server: 'https://a:6443', token: TOKEN }],
  ['--server --token after a join that wrote the secrets only → join', { server: 'https://a:6443', token: TOKEN }, caOnly, { mode: 'join', server: 'https://a:6443', token: TOKEN }],
  ['--server --token with a bare secret → join', { server: 'https://a:6443', token: 'secret' }, otherCa, { mode: 'join', server: 'https://a:6443', token: 'secret' }],
  ['--server --token again on its member → restart', { server: 'https://a:6443', token: TOKEN }, managed, { mode: 'restart-managed', ignoredFlags: ['--server', '--token'] }],
  ['--cluster-reset on a managed member → reset', { clusterReset: true }, managed, { mode: 'reset' }],
  ['--cluster-reset --restore-from a SQLite snapshot, fresh dir → restore-sqlite', { clusterReset: true, restoreFrom: { file: '/s', store: 'sqlite' } }, fresh, { mode: 'restore-sqlite', file: '/s' }],
  ['--cluster-reset --restore-from a SQLite snapshot onto its SQLite dir → restore-sqlite', { clusterReset: true, restoreFrom: { file: '/s', store: 'sqlite' } }, sqlite, { mode: 'restore-sqlite', file: '/s' }],
  ['--cluster-reset --restore-from an etcd snapshot, fresh dir → restore-managed', { clusterReset: true, restoreFrom: { file: '/s', store: 'etcd' } }, fresh, { mode: 'restore-managed', file: '/s' }],
  ['--cluster-reset --restore-from an etcd snapshot onto its member → restore-managed', { clusterReset: true, restoreFrom: { file: '/s', store: 'etcd' } }, managed, { mode: 'restore-managed', file: '/s' }],
];

const refused: [string, ServerModeFlags, DataDirState, RegExp][] = [
  ['--cluster-init with --server', { clusterInit: true, server: 'https://a:6443', token: TOKEN }, fresh, /--cluster-init starts a new cluster and --server joins/],
  ['--cluster-reset with --cluster-init', { clusterReset: true, clusterInit: true }, managed, /--cluster-reset .* takes neither/],
  ['--cluster-reset with --server', { clusterReset: true, server: 'https://a:6443', token: TOKEN }, managed, /--cluster-reset .* takes neither/],
  ['--etcd-endpoints with --cluster-init', { etcdEndpoints: ['http://e:2379'], clusterInit: true }, fresh, /--etcd-endpoints names an external etcd/],
  ['--etcd-endpoints on a managed member', { etcdEndpoints: ['http://e:2379'] }, managed, /has a managed etcd member \(etcd\/member.json\)/],
  ['--server without --token', { server: 'https://a:6443' }, fresh, /--server needs --token/],
  ['--server with an empty --token', { server: 'https://a:6443', token: '  ' }, fresh, /--server needs --token/],
  ['--token without --server', { token: TOKEN }, fresh, /--token is for joining/],
  ['--cluster-reset without a member', { clusterReset: true }, sqlite, /--cluster-reset needs a managed etcd member/],
  ['--restore-from without --cluster-reset', { restoreFrom: { file: '/s', store: 'sqlite' } }, fresh, /--restore-from replaces the cluster's state: give --cluster-reset/],
  ['--restore-from a SQLite snapshot onto a managed member', { clusterReset: true, restoreFrom: { file: '/s', store: 'sqlite' } }, managed, /SQLite store but the data dir has a managed etcd member/],
  ['--restore-from an etcd snapshot onto a SQLite store', { clusterReset: true, restoreFrom: { file: '/s', store: 'etcd' } }, sqlite, /etcd store but the data dir has a SQLite store/],
  ['--cluster-init on a SQLite store', { clusterInit: true }, sqlite, /SQLite store \(trireme.db\): --cluster-init would start an empty cluster/],
  ['--cluster-init on another cluster\'s CA', { clusterInit: true }, caOnly, /existing cluster's CA \(tls\/ca.crt\)/],
  ['--server on a SQLite store', { server: 'https://a:6443', token: TOKEN }, sqlite, /SQLite store \(trireme.db\): a joining server would leave it behind/],
  ['--server with a token pinning another CA than the dir holds', { server: 'https://a:6443', token: TOKEN }, otherCa, /another cluster's CA/],
];

describe('planServerStart', () => {
  for (const [name, flags, state, want] of ok) {
    it(name, () => assert.deepEqual(planServerStart(flags, state), want));
  }
  for (const [name, flags, state, re] of refused) {
    it(`refused: ${name}`, () => {
      assert.throws(() => planServerStart(flags, state), (e) => isTriremeError(e, 'BadRequest') && re.test(e.message) && !e.message.includes('\n'));
    });
  }
});
