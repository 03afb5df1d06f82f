// The proxy's plan: open / update / close listeners and add / remove ClusterIPs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planListeners } from '../../../src/agent/proxy/plan.js';
import { listenerKey, type Backend, type ListenerSpec } from '../../../src/agent/proxy/table.js';

const be = (ip: string, port: number, nodeName?: string): Backend => ({ ip, port, key: `${ip}:${port}`, ...(nodeName ? { nodeName } : {}) });
function spec(ip: string, port: number, backends: Backend[] = [], extra: Partial<ListenerSpec> = {}): ListenerSpec {
  return { key: listenerKey('TCP', ip, port), protocol: 'TCP', ip, port, service: 'ns/web', portName: '', scope: ip.startsWith('127.23.') ? 'cluster' : 'node', backends, ...extra };
}
const have = (...specs: ListenerSpec[]): Map<string, ListenerSpec> => new Map(specs.map((s) => [s.key, s]));

describe('listener plan', () => {
  it('from nothing: add the ClusterIPs, open every listener', () => {
    const p = planListeners([spec('127.23.0.5', 80), spec('127.23.0.5', 443), spec('127.0.23.1', 32301)], new Map());
    assert.deepEqual(p.addAddresses, ['127.23.0.5'], 'the node IP is not the address host\'s');
    assert.deepEqual(p.open.map((s) => s.key), ['TCP/127.23.0.5:80', 'TCP/127.23.0.5:443', 'TCP/127.0.23.1:32301']);
    assert.deepEqual([p.update, p.close, p.removeAddresses], [[], [], []]);
  });

  it('unchanged: nothing to do', () => {
    const s = spec('127.23.0.5', 80, [be('127.0.23.1', 41000)]);
    assert.deepEqual(planListeners([structuredClone(s)], have(s)), { addAddresses: [], open: [], update: [], close: [], removeAddresses: [] });
  });

  it('new backends, a backend\'s node, or affinity: update in place', () => {
    const s = spec('127.23.0.5', 80, [be('127.0.23.1', 41000)]);
    assert.deepEqual(planListeners([spec('127.23.0.5', 80, [be('127.0.23.1', 41000), be('127.0.23.2', 41000)])], have(s)).update.map((x) => x.key), [s.key]);
    assert.equal(planListeners([spec('127.23.0.5', 80, [be('127.0.23.1', 41000, 'n1')])], have(s)).update.length, 1);
    assert.equal(planListeners([spec('127.23.0.5', 80, [be('127.0.23.1', 41000)], { affinity: { timeoutMs: 1000 } })], have(s)).update.length, 1);
    assert.equal(planListeners([spec('127.23.0.5', 80, [])], have(s)).update.length, 1, 'all endpoints gone: listener stays, with none');
  });

  it('a Service gone: close its listeners, then release its ClusterIP once no listener uses it', () => {
    const a = spec('127.23.0.5', 80);
    const b = spec('127.23.0.5', 443);
    const c = spec('127.23.0.6', 80);
    const p1 = planListeners([b, c], have(a, b, c));
    assert.deepEqual([p1.close, p1.removeAddresses], [['TCP/127.23.0.5:80'], []], 'the address still has :443');
    const p2 = planListeners([c], have(b, c));
    assert.deepEqual([p2.close, p2.removeAddresses], [['TCP/127.23.0.5:443'], ['127.23.0.5']]);
  });

  it('a ClusterIP that changed (Service re-created): close the old, open the new, move the address', () => {
    const p = planListeners([spec('127.23.0.7', 80)], have(spec('127.23.0.5', 80)));
    assert.deepEqual(p, { addAddresses: ['127.23.0.7'], open: [spec('127.23.0.7', 80)], update: [], close: ['TCP/127.23.0.5:80'], removeAddresses: ['127.23.0.5'] });
  });

  it('TCP and UDP on one port are two listeners', () => {
    const tcp = spec('127.23.0.10', 53);
    const udp: ListenerSpec = { ...spec('127.23.0.10', 53), key: listenerKey('UDP', '127.23.0.10', 53), protocol: 'UDP' };
    const p = planListeners([tcp, udp], have(tcp));
    assert.deepEqual(p.open.map((s) => s.key), ['UDP/127.23.0.10:53']);
    assert.deepEqual(p.addAddresses, []);
  });
});
