// The kernel data plane's pure decisions: table and lock names, the stale-sweep candidates, the
// live-backend filter, and the nft script written for a listener table.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  clusterTable, deleteScript, isKernelListener, lockOfTable, nodeTable, parseTables, rulesetScript, sweepCandidates, withoutDead,
} from '../../../src/agent/proxy/nft-ruleset.js';
import type { Backend, ListenerSpec } from '../../../src/agent/proxy/table.js';

const be = (ip: string, port: number, nodeName?: string): Backend => ({ ip, port, key: `${ip}:${port}`, ...(nodeName ? { nodeName } : {}) });
function spec(protocol: 'TCP' | 'UDP', ip: string, port: number, backends: Backend[], extra: Partial<ListenerSpec> = {}): ListenerSpec {
  return { key: `${protocol}/${ip}:${port}`, protocol, ip, port, service: 'ns/web', portName: 'http', scope: 'cluster', backends, ...extra };
}

describe('nftables names', () => {
  it('cluster and node tables map to their locks and back; other names are not ours', () => {
    const c = clusterTable('CA one');
    const n = nodeTable('CA one', 'n1');
    assert.match(c.table, /^trireme_[0-9a-f]{32}$/);
    assert.match(n.table, /^trireme_node_[0-9a-f]{32}$/);
    assert.equal(lockOfTable(c.table), c.lock);
    assert.equal(lockOfTable(n.table), n.lock);
    assert.notEqual(clusterTable('CA two').table, c.table, 'two clusters, two tables');
    assert.notEqual(nodeTable('CA one', 'n2').table, n.table, 'two nodes, two tables');
    for (const other of ['filter', 'kube-proxy', 'trireme_probe_123', 'trireme_xyz', `${c.table}0`]) assert.equal(lockOfTable(other), undefined, other);
  });

  it('the sweep looks at tables of ours only, never at our own', () => {
    const c = clusterTable('A');
    const n = nodeTable('A', 'n1');
    const other = clusterTable('B');
    const listing = `table ip filter\ntable ip ${c.table}\ntable ip ${n.table}\ntable ip ${other.table}\ntable inet ${clusterTable('C').table}\n`;
    const tables = parseTables(listing);
    assert.deepEqual(tables, [c.table, other.table, n.table, 'filter'].sort());
    assert.deepEqual(sweepCandidates(tables, new Set([c.table, n.table])), [{ table: other.table, lock: other.lock }]);
  });
});

describe('live backends', () => {
  it('drops dead backends per protocol, keeps the listener and the order', () => {
    const tcp = spec('TCP', '127.30.0.5', 80, [be('127.0.30.1', 8080), be('127.0.30.2', 8080)]);
    const udp = spec('UDP', '127.30.0.5', 53, [be('127.0.30.1', 8080)]);
    const out = withoutDead([tcp, udp], new Set(['TCP/127.0.30.1:8080']));
    assert.deepEqual(out.map((s) => s.backends.map((b) => b.key)), [['127.0.30.2:8080'], ['127.0.30.1:8080']]);
    assert.deepEqual(withoutDead([tcp], new Set(['TCP/127.0.30.1:8080', 'TCP/127.0.30.2:8080']))[0]?.backends, []);
    assert.equal(withoutDead([tcp], new Set())[0], tcp);
  });
});

describe('ruleset script', () => {
  const table = 'trireme_0123456789abcdef0123456789abcdef';

  it('an empty table: hooks on nat output and prerouting, no dispatch', () => {
    const s = rulesetScript(table, 'cluster n1', []);
    assert.equal(s, [
      `add table ip ${table}`,
      `delete table ip ${table}`,
      `table ip ${table} {`,
      '  comment "trireme service proxy: cluster n1"',
      '  chain output {',
      '    type nat hook output priority -100; policy accept;',
      '    jump services',
      '  }',
      '  chain prerouting {',
      '    type nat hook prerouting priority -100; policy accept;',
      '    jump services',
      '  }',
      '  chain services {',
      '  }',
      '}',
      '',
    ].join('\n'));
  });

  const cases: { name: string; specs: ListenerSpec[]; has: string[]; hasNot?: string[] }[] = [
    {
      name: 'one backend: a goto, no numgen',
      specs: [spec('TCP', '127.30.0.5', 80, [be('127.0.30.1', 8080)])],
      has: ['ip daddr . meta l4proto . th dport vmap { 127.30.0.5 . tcp . 80 : goto svc_0 }', 'goto ep_0_0 comment', 'meta l4proto tcp dnat to 127.0.30.1:8080'],
      hasNot: ['numgen'],
    },
    {
      name: 'three backends: numgen random mod 3 over endpoint chains',
      specs: [spec('TCP', '127.30.0.5', 80, [be('127.0.30.1', 8080), be('127.0.30.2', 8081), be('127.0.30.3', 8082)])],
      has: ['numgen random mod 3 vmap { 0 : goto ep_0_0, 1 : goto ep_0_1, 2 : goto ep_0_2 }', 'dnat to 127.0.30.2:8081', 'dnat to 127.0.30.3:8082'],
    },
    {
      name: 'a NodePort and a ClusterIP: one dispatch map',
      specs: [
        spec('TCP', '127.0.30.1', 30080, [be('127.0.30.2', 8080)], { scope: 'node' }),
        spec('TCP', '127.30.0.10', 80, [be('127.0.30.2', 5353)]),
      ],
      has: ['vmap { 127.0.30.1 . tcp . 30080 : goto svc_0, 127.30.0.10 . tcp . 80 : goto svc_1 }', 'meta l4proto tcp dnat to 127.0.30.2:5353'],
    },
    {
      name: 'UDP: left to userspace (a refused datagram is re-sent there)',
      specs: [spec('UDP', '127.30.0.10', 53, [be('127.0.30.2', 5353)]), spec('TCP', '127.30.0.6', 80, [be('127.0.30.1', 8080)])],
      has: ['127.30.0.6 . tcp . 80 : goto svc_0'],
      hasNot: ['udp', '127.30.0.10'],
    },
    {
      name: 'no backend: no DNAT at all (the connect is refused at the ClusterIP)',
      specs: [spec('TCP', '127.30.0.5', 80, [])],
      has: ['  chain services {\n  }'],
      hasNot: ['svc_0', 'dnat'],
    },
    {
      name: 'session affinity: left to userspace',
      specs: [spec('TCP', '127.30.0.5', 80, [be('127.0.30.1', 8080)], { affinity: { timeoutMs: 10_000 } }), spec('TCP', '127.30.0.6', 80, [be('127.0.30.1', 8080)])],
      has: ['127.30.0.6 . tcp . 80 : goto svc_0'],
      hasNot: ['127.30.0.5'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const s = rulesetScript(table, 'x', c.specs);
      for (const h of c.has) assert.ok(s.includes(h), `missing ${h} in\n${s}`);
      for (const h of c.hasNot ?? []) assert.ok(!s.includes(h), `unexpected ${h} in\n${s}`);
      assert.equal(rulesetScript(table, 'x', c.specs), s, 'deterministic');
    });
  }

  it('comments cannot break out of their quotes', () => {
    const s = rulesetScript(table, 'a"b;c', [spec('TCP', '127.30.0.5', 80, [be('127.0.30.1', 8080)], { service: 'ns/we"b', portName: '}' })]);
    assert.ok(!s.includes('a"b') && !s.includes('we"b'), s);
  });

  it('affinity listeners are not kernel listeners; delete is idempotent', () => {
    assert.equal(isKernelListener(spec('TCP', '127.30.0.5', 80, [], { affinity: { timeoutMs: 1 } })), false);
    assert.equal(isKernelListener(spec('TCP', '127.30.0.5', 80, [])), true);
    assert.equal(deleteScript(table), `add table ip ${table}\ndelete table ip ${table}\n`);
  });
});
