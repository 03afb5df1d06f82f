import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keepAllocated } from '../../../src/apiserver/strategies/service.js';

test('an update keeps the ClusterIP and NodePorts it does not name, and only those', () => {
  const old = { spec: { clusterIP: '127.10.0.7', clusterIPs: ['127.10.0.7'], ports: [{ port: 80, nodePort: 30001 }, { port: 443, nodePort: 30002 }] } };
  const next = { spec: { ports: [{ port: 80 }, { port: 443, nodePort: 30009 }, { port: 8080 }] } };
  const before = structuredClone(next);
  const out = keepAllocated(next, old);
  assert.deepEqual(next, before);
  assert.deepEqual(out.spec, { clusterIP: '127.10.0.7', clusterIPs: ['127.10.0.7'], ports: [{ port: 80, nodePort: 30001 }, { port: 443, nodePort: 30009 }, { port: 8080 }] });
});
