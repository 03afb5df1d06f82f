// The `default/kubernetes` Endpoints a starting server writes itself into: a subset per port, so
// that every address × port of a subset is a real server (what client balancers read).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { withServer } from '../../src/apiserver/bootstrap.js';
import { endpointUrls } from '../../src/client/balancer-plan.js';

const port = (p: number) => ({ name: 'https', port: p, protocol: 'TCP' });

describe('kubernetes Endpoints: one subset per port', () => {
  it('adds servers on one port to one subset, on another port to a subset of its own', () => {
    let s = withServer([], '127.0.5.1', port(6443));
    s = withServer(s, '127.0.5.2', port(6443));
    s = withServer(s, '127.0.5.3', port(7443));
    assert.deepEqual(endpointUrls({ subsets: s }), ['https://127.0.5.1:6443', 'https://127.0.5.2:6443', 'https://127.0.5.3:7443']);
  });

  it('is a no-op for a server already listed, and moves one that came back on another port', () => {
    const s = withServer(withServer([], '127.0.5.1', port(6443)), '127.0.5.2', port(6443));
    assert.equal(withServer(s, '127.0.5.1', port(6443)), s);
    const moved = withServer(s, '127.0.5.1', port(8443));
    assert.deepEqual(endpointUrls({ subsets: moved }), ['https://127.0.5.2:6443', 'https://127.0.5.1:8443']);
    const alone = withServer(withServer([], '127.0.5.1', port(6443)), '127.0.5.1', port(9443));
    assert.deepEqual(alone, [{ addresses: [{ ip: '127.0.5.1' }], ports: [port(9443)] }], 'an emptied subset is removed');
  });
});
