// When the agent must fence before reporting, and when self-fencing is due (pure, fake times).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fenced, initialContact, observe, reported, selfFenceDue, type ContactConfig, type ContactState } from '../../../src/agent/fence/contact.js';

const cfg: ContactConfig = { fenceAfterMs: 3_000, selfFenceAfterMs: 4_000 };
const T = 1_000;

/** Looks every 250 ms from `from` to `to`, reporting successfully every `reportEvery` (0: never). */
function run(s: ContactState, from: number, to: number, reportEvery = 0): ContactState {
  for (let t = from; t <= to; t += 250) {
    s = observe(s, t, cfg);
    if (reportEvery > 0 && (t - from) % reportEvery === 0) s = reported(s, t);
  }
  return s;
}

describe('contact', () => {
  it('a new agent is suspect until it fenced', () => {
    const s = initialContact(T);
    assert.equal(s.suspect, true);
    assert.equal(reported(s, T + 10).suspect, true, 'a report does not clear suspicion');
    assert.equal(fenced(s, T, T + 20).suspect, false);
  });

  it('regular reports: never suspect; a blip shorter than fenceAfter: not suspect', () => {
    let s = fenced(initialContact(T), T, T);
    s = run(s, T, T + 60_000, 2_000);
    assert.equal(s.suspect, false);
    s = run(s, T + 60_250, T + 62_750); // reports fail for 2.75 s
    assert.equal(s.suspect, false);
  });

  it('reports failing for fenceAfter: suspect, and it sticks through a later successful report', () => {
    let s = fenced(initialContact(T), T, T);
    s = run(s, T, T + 3_000);
    assert.equal(s.suspect, true);
    assert.match(s.why ?? '', /no report reached the API for 3\.0s/);
    s = reported(observe(s, T + 3_100, cfg), T + 3_100);
    assert.equal(s.suspect, true);
    s = fenced(s, T + 3_200, T + 3_300);
    assert.equal(s.suspect, false);
    assert.equal(observe(s, T + 3_400, cfg).suspect, false, 'the fence counts as contact');
  });

  it('a clock jump (the process was suspended) makes it suspect, even with a report right after', () => {
    let s = run(fenced(initialContact(T), T, T), T, T + 2_000, 1_000);
    s = reported(s, T + 30_000); // a response that was buffered before SIGSTOP
    s = observe(s, T + 30_010, cfg);
    assert.equal(s.suspect, true);
    assert.match(s.why ?? '', /suspended for 28\.0s/);
  });

  it('a suspension during the fence itself: the fence does not count', () => {
    let s = initialContact(T);
    s = observe(s, T + 100, cfg); // fence starts at T+100
    s = observe(s, T + 20_000, cfg); // SIGSTOP while listing
    s = fenced(s, T + 100, T + 20_000);
    assert.equal(s.suspect, true);
    s = fenced(s, T + 20_001, T + 20_050);
    assert.equal(s.suspect, false);
  });

  it('self-fencing is due after selfFenceAfter without contact; the agent is suspect by then', () => {
    let s = fenced(initialContact(T), T, T);
    s = run(s, T, T + 3_750);
    assert.equal(selfFenceDue(s, T + 3_750, cfg), false);
    s = observe(s, T + 4_000, cfg);
    assert.equal(selfFenceDue(s, T + 4_000, cfg), true);
    assert.equal(s.suspect, true);
    s = fenced(s, T + 4_100, T + 4_200);
    assert.equal(selfFenceDue(s, T + 4_300, cfg), false);
  });

  it('selfFenceAfter below fenceAfter: the silence that makes it due makes the agent suspect too', () => {
    const c2 = { fenceAfterMs: 5_000, selfFenceAfterMs: 2_000 };
    let s = fenced(initialContact(T), T, T);
    for (let t = T; t <= T + 2_000; t += 250) s = observe(s, t, c2);
    assert.equal(selfFenceDue(s, T + 2_000, c2), true);
    assert.equal(s.suspect, true);
  });
});
