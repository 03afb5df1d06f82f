// The balancer's decisions as a table of scenarios on a fake clock: which server requests go to,
// when servers go down and up, what Endpoints add and drop, and that the current server never
// stays on a dead one while another is up.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../src/util/clock.js';
import {
  choose, endpointUrls, initialState, normalizeServerUrl, observe,
  type BalancerState, type Observation,
} from '../../src/client/balancer-plan.js';

const A = 'https://127.0.5.1:6443';
const B = 'https://127.0.5.2:6443';
const C = 'https://127.0.5.3:6443';

type Step =
  | { do: 'probe'; url: string; ok: boolean }
  | { do: 'connect-failed' | 'silent' | 'answered'; url: string }
  | { do: 'endpoints'; urls: string[] }
  | { do: 'wait'; ms: number };

interface Case {
  name: string;
  seed?: string;
  remembered?: string[];
  preferred?: string;
  steps: Step[];
  current: string | undefined;
  up: string[];
  servers?: string[];
  /** The order a request with nothing tried yet walks the servers in. */
  walk?: string[];
}

function run(c: Case): { state: BalancerState; downs: string[]; ups: string[] } {
  const clock = new FakeClock();
  let state = initialState(c.seed ?? A, c.remembered ?? [], clock.now(), c.preferred);
  const downs: string[] = [];
  const ups: string[] = [];
  for (const s of c.steps) {
    if (s.do === 'wait') {
      clock.advance(s.ms);
      continue;
    }
    const obs: Observation = s.do === 'endpoints'
      ? { kind: 'endpoints', urls: s.urls, at: clock.now() }
      : s.do === 'probe' ? { kind: 'probe', url: s.url, ok: s.ok, at: clock.now() } : { kind: s.do, url: s.url, at: clock.now() };
    const t = observe(state, obs);
    downs.push(...t.wentDown);
    ups.push(...t.wentUp);
    state = t.state;
    // The invariant: never on a down server while some server is up.
    const cur = state.servers.find((x) => x.url === state.current);
    if (state.servers.some((x) => x.up)) assert.ok(cur?.up, `after ${JSON.stringify(s)} the current server ${String(state.current)} is down while another is up`);
  }
  return { state, downs, ups };
}

function walk(state: BalancerState): string[] {
  const tried = new Set<string>();
  for (let next = choose(state, tried); next !== undefined; next = choose(state, tried)) tried.add(next);
  return [...tried];
}

const CASES: Case[] = [
  { name: 'starts on the seed', steps: [], current: A, up: [A], servers: [A], walk: [A] },
  { name: 'learns from Endpoints and stays on the seed', steps: [{ do: 'endpoints', urls: [A, B, C] }], current: A, up: [A, B, C], servers: [A, B, C], walk: [A, B, C] },
  {
    name: 'a connect failure on the current server moves to the next up one at once',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'connect-failed', url: A }], current: B, up: [B, C], walk: [B, C, A],
  },
  {
    name: 'a silent watch marks the server down like a connect failure',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'silent', url: A }], current: B, up: [B, C],
  },
  {
    name: 'one failed probe does not mark a server down, two in a row do',
    steps: [{ do: 'endpoints', urls: [A, B] }, { do: 'probe', url: A, ok: false }, { do: 'wait', ms: 1000 }, { do: 'probe', url: A, ok: true },
      { do: 'wait', ms: 1000 }, { do: 'probe', url: A, ok: false }, { do: 'wait', ms: 1000 }, { do: 'probe', url: A, ok: false }],
    current: B, up: [B],
  },
  {
    name: 'a good probe brings a down server back, the current one stays (sticky)',
    steps: [{ do: 'endpoints', urls: [A, B] }, { do: 'connect-failed', url: A }, { do: 'wait', ms: 1000 }, { do: 'probe', url: A, ok: true }],
    current: B, up: [A, B],
  },
  {
    name: 'the preferred server is used again as soon as it is up',
    preferred: A,
    steps: [{ do: 'endpoints', urls: [A, B] }, { do: 'connect-failed', url: A }, { do: 'wait', ms: 1000 }, { do: 'probe', url: A, ok: true }],
    current: A, up: [A, B],
  },
  {
    name: 'all down: a request still walks every server, starting after the current one',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'connect-failed', url: A }, { do: 'connect-failed', url: B }, { do: 'connect-failed', url: C }],
    current: C, up: [], walk: [A, B, C],
  },
  {
    name: 'all down, then one answers: it becomes current',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'connect-failed', url: A }, { do: 'connect-failed', url: B }, { do: 'connect-failed', url: C },
      { do: 'wait', ms: 500 }, { do: 'answered', url: B }],
    current: B, up: [B], walk: [B, C, A],
  },
  {
    name: 'a server gone from Endpoints is dropped, the seed is kept',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'endpoints', urls: [B] }], current: A, up: [A, B], servers: [A, B],
  },
  {
    name: 'the current server dropped from Endpoints: the next one takes over',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'connect-failed', url: A }, { do: 'endpoints', urls: [A, C] }], current: C, up: [C], servers: [A, C],
  },
  {
    name: 'an Endpoints object naming nobody is ignored',
    steps: [{ do: 'endpoints', urls: [A, B, C] }, { do: 'endpoints', urls: [] }], current: A, up: [A, B, C], servers: [A, B, C],
  },
  {
    name: 'a restart with the seed dead goes on with the remembered servers',
    remembered: [A, B, C],
    steps: [{ do: 'connect-failed', url: A }], current: B, up: [B, C], servers: [A, B, C], walk: [B, C, A],
  },
  {
    name: 'an answer from a down server marks it up',
    steps: [{ do: 'endpoints', urls: [A, B] }, { do: 'connect-failed', url: B }, { do: 'answered', url: B }], current: A, up: [A, B],
  },
];

describe('balancer plan', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { state } = run(c);
      assert.equal(state.current, c.current);
      assert.deepEqual(state.servers.filter((s) => s.up).map((s) => s.url).sort(), [...c.up].sort());
      if (c.servers) assert.deepEqual(state.servers.map((s) => s.url), c.servers);
      if (c.walk) assert.deepEqual(walk(state), c.walk);
    });
  }

  it('reports each transition once, with the time it happened', () => {
    const clock = new FakeClock();
    let state = initialState(A, [B], clock.now());
    clock.advance(5000);
    let t = observe(state, { kind: 'connect-failed', url: A, at: clock.now() });
    assert.deepEqual(t.wentDown, [A]);
    assert.equal(t.state.servers.find((s) => s.url === A)?.since, clock.now());
    state = t.state;
    t = observe(state, { kind: 'connect-failed', url: A, at: clock.now() + 10 });
    assert.deepEqual(t.wentDown, [], 'already down');
    t = observe(t.state, { kind: 'probe', url: A, ok: true, at: clock.now() + 20 });
    assert.deepEqual(t.wentUp, [A]);
  });

  it('does not change its inputs', () => {
    const state = initialState(A, [B], 0);
    const copy = JSON.stringify(state);
    observe(state, { kind: 'connect-failed', url: A, at: 1 });
    observe(state, { kind: 'endpoints', urls: [C], at: 1 });
    assert.equal(JSON.stringify(state), copy);
  });

  it('reads every address of every subset times its ports', () => {
    const urls = endpointUrls({
      subsets: [
        { addresses: [{ ip: '127.0.5.1' }, { ip: '127.0.5.2' }], ports: [{ name: 'https', port: 6443 }, { port: 7443 }] },
        { addresses: [{ ip: '::1' }], ports: [{ port: 6443 }] },
        { notReadyAddresses: [{ ip: '127.0.5.9' }], ports: [{ port: 6443 }] },
      ],
    });
    assert.deepEqual(urls, [
      'https://127.0.5.1:6443', 'https://127.0.5.1:7443', 'https://127.0.5.2:6443', 'https://127.0.5.2:7443', 'https://[::1]:6443',
    ]);
    assert.deepEqual(endpointUrls(undefined), []);
    assert.deepEqual(endpointUrls({ subsets: [{ addresses: [{ ip: '127.0.5.1' }] }] }), []);
  });

  it('normalizes server URLs and refuses what is not https', () => {
    assert.equal(normalizeServerUrl('https://127.0.5.1:6443/'), 'https://127.0.5.1:6443');
    assert.equal(normalizeServerUrl('https://Example.com:443/k8s/'), 'https://example.com/k8s');
    assert.equal(normalizeServerUrl('http://127.0.5.1:6443'), undefined);
    assert.equal(normalizeServerUrl('not a url'), undefined);
  });
});
