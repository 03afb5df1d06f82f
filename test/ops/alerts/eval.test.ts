// Evaluation of the subset over a sample store: staleness, lookback, matching, aggregations,
// absent, rate/increase extrapolation (checked against what Prometheus computes for the same
// points), comparisons as filters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, extrapolatedIncrease, type Value } from '../../../src/ops/alerts/eval.js';
import { parseExpr } from '../../../src/ops/alerts/promql.js';
import { SampleStore, type Labels } from '../../../src/ops/alerts/tsdb.js';

const S = 1000;

function db(scrapes: [number, string, [Labels, number][] | undefined][]): SampleStore {
  const d = new SampleStore(60 * 60 * S);
  for (const [t, target, samples] of scrapes) d.scrape(target, t, samples?.map(([labels, value]) => ({ labels, value })));
  return d;
}

function vec(v: Value): [Labels, number][] {
  assert.equal(v.kind, 'vector');
  return v.kind === 'vector' ? v.samples.map((s) => [s.labels, s.value] as [Labels, number]).sort((a, b) => JSON.stringify(a[0]).localeCompare(JSON.stringify(b[0]))) : [];
}

const up = (instance: string): Labels => ({ __name__: 'up', job: 'trireme-server', instance });

describe('evaluate', () => {
  it('an instant selector takes the newest point; a failed scrape makes the series stale', () => {
    const d = db([
      [0, 'a', [[up('a'), 1], [{ __name__: 'x', instance: 'a' }, 5]]],
      [15 * S, 'a', [[up('a'), 0]]],
    ]);
    assert.deepEqual(vec(evaluate(parseExpr('x'), d, 10 * S)), [[{ __name__: 'x', instance: 'a' }, 5]]);
    assert.deepEqual(vec(evaluate(parseExpr('x'), d, 20 * S)), []);
    assert.deepEqual(vec(evaluate(parseExpr('up == 0'), d, 20 * S)), [[up('a'), 0]]);
    assert.deepEqual(vec(evaluate(parseExpr('up == 0'), d, 10 * S)), []);
  });

  it('a point older than the 5-minute lookback is not selected', () => {
    const d = db([[0, 'a', [[{ __name__: 'x' }, 1]]]]);
    assert.equal(vec(evaluate(parseExpr('x'), d, 299 * S)).length, 1);
    assert.equal(vec(evaluate(parseExpr('x'), d, 301 * S)).length, 0);
  });

  it('absent: of a selector with its = labels, of an expression with none', () => {
    const d = db([[0, 'a', [[{ __name__: 'l', lease: 'cm', identity: 'a' }, 0]]]]);
    assert.deepEqual(vec(evaluate(parseExpr('absent(l{lease="cm"} == 1)'), d, 0)), [[{}, 1]]);
    assert.deepEqual(vec(evaluate(parseExpr('absent(l{lease="cm"} == 0)'), d, 0)), []);
    assert.deepEqual(vec(evaluate(parseExpr('absent(l{lease="sched",identity=~"b.*"})'), d, 0)), [[{ lease: 'sched' }, 1]]);
  });

  it('aggregations keep only their by labels', () => {
    const d = db([[0, 'a', [
      [{ __name__: 'h', member: 'm1', instance: 'a' }, 0], [{ __name__: 'h', member: 'm1', instance: 'b' }, 1],
      [{ __name__: 'h', member: 'm2', instance: 'a' }, 0], [{ __name__: 'h', member: 'm2', instance: 'b' }, 0],
    ]]]);
    assert.deepEqual(vec(evaluate(parseExpr('max by (member) (h) == 0'), d, 0)), [[{ member: 'm2' }, 0]]);
    assert.deepEqual(vec(evaluate(parseExpr('sum(h)'), d, 0)), [[{}, 1]]);
    assert.deepEqual(vec(evaluate(parseExpr('count(h)'), d, 0)), [[{}, 4]]);
    assert.deepEqual(vec(evaluate(parseExpr('min(h) by (instance)'), d, 0)), [[{ instance: 'a' }, 0], [{ instance: 'b' }, 0]]);
    assert.deepEqual(vec(evaluate(parseExpr('avg(h)'), d, 0)), [[{}, 0.25]]);
  });

  it('vector-vector: one-to-one on the labels without __name__', () => {
    const d = db([[0, 'a', [
      [{ __name__: 'avail', deployment: 'web' }, 2], [{ __name__: 'desired', deployment: 'web' }, 3],
      [{ __name__: 'avail', deployment: 'db' }, 1], [{ __name__: 'desired', deployment: 'db' }, 1],
      [{ __name__: 'desired', deployment: 'lonely' }, 1],
    ]]]);
    assert.deepEqual(vec(evaluate(parseExpr('avail < desired'), d, 0)), [[{ __name__: 'avail', deployment: 'web' }, 2]]);
    assert.deepEqual(vec(evaluate(parseExpr('desired - avail'), d, 0)), [[{ deployment: 'db' }, 0], [{ deployment: 'web' }, 1]]);
  });

  it('scalars: time(), arithmetic, comparisons against a vector', () => {
    const d = db([[0, 'a', [[{ __name__: 'exp', certificate: 'ca' }, 100], [{ __name__: 'exp', certificate: 'serving' }, 10]]]]);
    assert.deepEqual(evaluate(parseExpr('time()'), d, 42 * S), { kind: 'scalar', value: 42 });
    assert.deepEqual(evaluate(parseExpr('2 * 3 + 1'), d, 0), { kind: 'scalar', value: 7 });
    assert.deepEqual(vec(evaluate(parseExpr('exp - time() < 5 * 10'), d, 0)), [[{ certificate: 'serving' }, 10]]);
    assert.deepEqual(vec(evaluate(parseExpr('50 > exp'), d, 0)), [[{ __name__: 'exp', certificate: 'serving' }, 10]]);
    assert.throws(() => evaluate(parseExpr('1 < 2'), d, 0), /bool/);
  });

  it('increase and rate extrapolate as Prometheus does', () => {
    // A counter 0..6 at one-minute steps, increase(x[10m]) at 6m: it started at 0, so nothing
    // is extrapolated before the first point, and the last point is at the window's end: 6.
    const pts = [0, 1, 2, 3, 4, 5, 6].map((v, i) => ({ t: i * 60 * S, v }));
    assert.equal(extrapolatedIncrease(pts, 6 * 60 * S, 10 * 60 * S, false), 6);
    // 90/min and 10/min over 5 minutes at one-minute scrapes: rate extrapolated across the window.
    const a = [0, 1, 2, 3, 4, 5].map((i) => ({ t: (11 + i) * 60 * S, v: (11 + i) * 90 }));
    assert.ok(Math.abs(extrapolatedIncrease(a, 16 * 60 * S, 5 * 60 * S, true)! - 1.5) < 1e-9);
    // A counter reset counts the value before it: 3 + 2 = 5 over 120 s, extrapolated by one
    // step (60 s) to the window's start: 5 × 180 / 120.
    const r = [{ t: 0, v: 5 }, { t: 60 * S, v: 8 }, { t: 120 * S, v: 2 }];
    assert.equal(extrapolatedIncrease(r, 120 * S, 180 * S, false), 7.5);
    assert.equal(extrapolatedIncrease([{ t: 0, v: 1 }], 0, 60 * S, false), undefined);
  });

  it('changes counts value changes in the window', () => {
    const d = db([0, 1, 1, 2, 2, 3].map((v, i): [number, string, [Labels, number][]] => [i * 10 * S, 'a', [[{ __name__: 'x' }, v]]]));
    assert.deepEqual(vec(evaluate(parseExpr('changes(x[1m])'), d, 50 * S)), [[{}, 3]]);
  });

  it('regex matchers are anchored', () => {
    const d = db([[0, 'a', [[{ __name__: 'r', code: '500' }, 1], [{ __name__: 'r', code: '1500' }, 1], [{ __name__: 'r', code: '200' }, 1]]]]);
    assert.deepEqual(vec(evaluate(parseExpr('r{code=~"5.."}'), d, 0)), [[{ __name__: 'r', code: '500' }, 1]]);
    assert.equal(vec(evaluate(parseExpr('r{code!~"5.."}'), d, 0)).length, 2);
  });
});
