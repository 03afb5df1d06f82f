import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decideDisruption, holdMessage, takeToken, zoneOf, ZONE_LABEL, type EvictionMode, type ZoneState } from '../../../src/controllers/nodelifecycle/disruption.js';

/** `spec`: one string per zone, a char per node: `s` silent, `.` reporting ('a=ss.' is zone a). */
function nodes(...zones: string[]): Array<{ zone: string; silent: boolean }> {
  return zones.flatMap((z) => {
    const [name, marks] = z.includes('=') ? z.split('=') as [string, string] : ['', z];
    return [...marks].map((m) => ({ zone: name, silent: m === 's' }));
  });
}

describe('decideDisruption', () => {
  const table: Array<[what: string, zones: string[], cutOff: boolean, expect: Record<string, [ZoneState, EvictionMode]>]> = [
    ['1 node, reporting', ['.'], false, { '': ['Normal', 'normal'] }],
    ['1 node, silent: nowhere to move its pods, and most likely we are the cut-off ones', ['s'], true, { '': ['FullDisruption', 'limited'] }],
    ['2 nodes, 1 silent: half is not more than half, evict', ['s.'], false, { '': ['Normal', 'normal'] }],
    ['2 nodes, both silent', ['ss'], true, { '': ['FullDisruption', 'limited'] }],
    ['3 nodes, 1 silent: evict', ['s..'], false, { '': ['Normal', 'normal'] }],
    ['3 nodes, 2 silent at once: guard', ['ss.'], true, { '': ['PartialDisruption', 'limited'] }],
    ['3 nodes, all silent', ['sss'], true, { '': ['FullDisruption', 'limited'] }],
    ['10 nodes, 5 silent: evict', ['sssss.....'], false, { '': ['Normal', 'normal'] }],
    ['10 nodes, 6 silent: guard', ['ssssss....'], true, { '': ['PartialDisruption', 'limited'] }],
    ['three one-node zones, one silent: that zone is lost, evict', ['a=s', 'b=.', 'c=.'], false,
      { a: ['FullDisruption', 'normal'], b: ['Normal', 'normal'], c: ['Normal', 'normal'] }],
    ['three one-node zones, two silent: the cluster is cut off', ['a=s', 'b=s', 'c=.'], true,
      { a: ['FullDisruption', 'limited'], b: ['FullDisruption', 'limited'], c: ['Normal', 'limited'] }],
    ['a whole zone of 3 silent, 6 others report: the zone is lost, evict', ['a=sss', 'b=...', 'c=...'], false,
      { a: ['FullDisruption', 'normal'], b: ['Normal', 'normal'], c: ['Normal', 'normal'] }],
    ['most of one zone silent, the rest of the cluster fine: that zone held', ['a=ss.', 'b=...', 'c=...'], false,
      { a: ['PartialDisruption', 'limited'], b: ['Normal', 'normal'], c: ['Normal', 'normal'] }],
    ['unlabelled nodes are the zone ""', ['a=..', '=s', '=.'], false, { a: ['Normal', 'normal'], '': ['Normal', 'normal'] }],
  ];
  for (const [what, zones, cutOff, expect] of table) {
    it(what, () => {
      const d = decideDisruption(nodes(...zones));
      assert.equal(d.cutOff, cutOff);
      assert.deepEqual(Object.fromEntries([...d.zones].map(([z, h]) => [z, [h.state, h.mode]])), expect);
    });
  }

  it('the threshold is a parameter (Kubernetes uses 0.55)', () => {
    assert.equal(decideDisruption(nodes('sssss.....'), 0.4).cutOff, true);
    assert.equal(decideDisruption(nodes('ssssss....'), 0.6).cutOff, false);
    assert.equal(decideDisruption(nodes('ssssss....'), 0.6).zones.get('')?.mode, 'normal');
  });

  it('no nodes: nothing to hold', () => {
    assert.deepEqual(decideDisruption([]), { zones: new Map(), cutOff: false, nodes: 0, silent: 0 });
  });

  it('the message names the counts and the reason', () => {
    assert.equal(holdMessage(decideDisruption(nodes('ss.')), ''), '2 of 3 nodes are silent at once: the control plane is probably the one cut off; evictions held');
    assert.equal(holdMessage(decideDisruption(nodes('a=ss.', 'b=...', 'c=...')), 'a'),
      '2 of 9 nodes are silent at once (zone a: 2 of 3): zone a is in PartialDisruption; evictions held');
  });
});

describe('zoneOf', () => {
  it('reads topology.kubernetes.io/zone, "" without it', () => {
    assert.equal(zoneOf({ metadata: { name: 'n', labels: { [ZONE_LABEL]: 'eu-1a' } } }), 'eu-1a');
    assert.equal(zoneOf({ metadata: { name: 'n' } }), '');
  });
});

describe('takeToken', () => {
  it('rate 0 never lets anything through', () => {
    let b = takeToken(undefined, 0, 0);
    assert.equal(b.ok, false);
    b = takeToken(b.bucket, 3_600_000, 0);
    assert.equal(b.ok, false);
    assert.equal(b.retryInMs, undefined);
  });

  it('a new bucket starts empty; one token per 1/rate seconds, burst 1', () => {
    const first = takeToken(undefined, 0, 0.5);
    assert.equal(first.ok, false);
    assert.equal(first.retryInMs, 2000);
    assert.equal(takeToken(first.bucket, 1999, 0.5).ok, false);
    const got = takeToken(first.bucket, 2000, 0.5);
    assert.equal(got.ok, true);
    assert.equal(takeToken(got.bucket, 2000, 0.5).ok, false, 'spent');
    // A long quiet time gives one token, not many.
    const later = takeToken(got.bucket, 60_000, 0.5);
    assert.equal(later.ok, true);
    assert.equal(takeToken(later.bucket, 60_001, 0.5).ok, false);
  });
});
