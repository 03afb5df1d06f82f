// The exposition parser reads what prom-client writes (the format /metrics serves).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ExpositionError, parseExposition } from '../../../src/ops/alerts/exposition.js';

describe('parseExposition', () => {
  it('reads counters, gauges with escaped labels and histograms', async () => {
    const r = new Registry();
    new Counter({ name: 'c_total', help: 'h', labelNames: ['a'], registers: [r] }).inc({ a: 'x"y\\z\nw' }, 3);
    new Gauge({ name: 'g', help: 'h', registers: [r] }).set(-1.5);
    new Histogram({ name: 'h_seconds', help: 'h', buckets: [1], registers: [r] }).observe(0.5);
    const samples = parseExposition(await r.metrics());
    assert.deepEqual(samples.find((s) => s.labels.__name__ === 'c_total'), { labels: { __name__: 'c_total', a: 'x"y\\z\nw' }, value: 3 });
    assert.equal(samples.find((s) => s.labels.__name__ === 'g')!.value, -1.5);
    assert.equal(samples.find((s) => s.labels.__name__ === 'h_seconds_bucket' && s.labels.le === '+Inf')!.value, 1);
    assert.equal(samples.find((s) => s.labels.__name__ === 'h_seconds_count')!.value, 1);
  });

  it('reads special values and ignores comments', () => {
    assert.deepEqual(parseExposition('# HELP x y\n# TYPE x gauge\nx +Inf\ny{a="b",} -Inf 123\nz NaN\n').map((s) => s.value), [Infinity, -Infinity, NaN]);
  });

  for (const bad of ['{a="b"} 1', 'x{a=b} 1', 'x{a="b} 1', 'x one', 'x']) {
    it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseExposition(bad), ExpositionError));
  }
});
