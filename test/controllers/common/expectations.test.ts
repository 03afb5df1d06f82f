import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Expectations } from '../../../src/controllers/common/expectations.js';
import { FakeClock } from '../../../src/util/clock.js';

describe('Expectations', () => {
  it('blocks until every expected creation is observed', () => {
    const e = new Expectations(new FakeClock());
    assert.ok(e.satisfied('ns/rs'));
    e.expectCreations('ns/rs', 3);
    assert.ok(!e.satisfied('ns/rs'));
    e.creationObserved('ns/rs');
    e.creationObserved('ns/rs');
    assert.ok(!e.satisfied('ns/rs'));
    e.creationFailed('ns/rs');
    assert.ok(e.satisfied('ns/rs'));
  });
  it('tracks deletions by pod key, so a pod seen deleted twice counts once', () => {
    const e = new Expectations(new FakeClock());
    e.expectDeletions('ns/rs', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/rs', 'ns/a');
    e.deletionObserved('ns/rs', 'ns/a');
    assert.ok(!e.satisfied('ns/rs'));
    assert.deepEqual(e.pending('ns/rs'), { add: 0, del: 1 });
    e.deletionObserved('ns/rs', 'ns/b');
    assert.ok(e.satisfied('ns/rs'));
  });
  it('expires after the TTL so a lost event cannot wedge the controller', () => {
    const clock = new FakeClock();
    const e = new Expectations(clock, 1000);
    e.expectCreations('k', 1);
    clock.advance(1000);
    assert.ok(!e.satisfied('k'));
    clock.advance(1);
    assert.ok(e.satisfied('k'));
  });
  it('forgets a deleted owner', () => {
    const e = new Expectations(new FakeClock());
    e.expectCreations('k', 2);
    e.delete('k');
    assert.ok(e.satisfied('k'));
  });
});
