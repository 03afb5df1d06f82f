// The PromQL subset's parser: what it reads, and what it refuses with a message.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDuration, parseExpr, PromqlError } from '../../../src/ops/alerts/promql.js';

describe('parseDuration', () => {
  for (const [text, ms] of [['30s', 30_000], ['1h30m', 5_400_000], ['500ms', 500], ['2d', 172_800_000], ['1w', 604_800_000]] as const) {
    it(`${text} = ${ms} ms`, () => assert.equal(parseDuration(text), ms));
  }
  for (const bad of ['', '5', 'm', '1x', '1h 2m']) it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => parseDuration(bad), PromqlError));
});

describe('parseExpr', () => {
  it('a selector with every matcher kind and a range', () => {
    assert.deepEqual(parseExpr('x{a="1", b!="2", c=~"5..", d!~"x|y"}[5m]'), {
      type: 'selector', rangeMs: 300_000,
      matchers: [{ label: '__name__', op: '=', value: 'x' }, { label: 'a', op: '=', value: '1' }, { label: 'b', op: '!=', value: '2' }, { label: 'c', op: '=~', value: '5..' }, { label: 'd', op: '!~', value: 'x|y' }],
    });
  });

  it('precedence: * over + over comparisons, left-associative', () => {
    const e = parseExpr('a - b - c * 2 > 1');
    assert.equal(e.type, 'binary');
    if (e.type !== 'binary') return;
    assert.equal(e.op, '>');
    assert.deepEqual(e.rhs, { type: 'number', value: 1 });
    const sum = e.lhs;
    assert.ok(sum.type === 'binary' && sum.op === '-');
    assert.ok(sum.type === 'binary' && sum.lhs.type === 'binary' && sum.lhs.op === '-');
    assert.ok(sum.type === 'binary' && sum.rhs.type === 'binary' && sum.rhs.op === '*');
  });

  it('`by` before or after the aggregation argument', () => {
    const a = parseExpr('max by (node) (x)');
    const b = parseExpr('max(x) by (node)');
    assert.deepEqual(a, b);
    assert.deepEqual(a, { type: 'agg', op: 'max', by: ['node'], expr: { type: 'selector', matchers: [{ label: '__name__', op: '=', value: 'x' }] } });
  });

  it('functions', () => {
    assert.deepEqual(parseExpr('time()'), { type: 'call', fn: 'time', args: [] });
    assert.equal((parseExpr('rate(x[1m])') as { fn: string }).fn, 'rate');
    assert.equal((parseExpr('absent(x == 1)') as { fn: string }).fn, 'absent');
  });

  it('parses every expression of the shipped rules', async () => {
    const { readFile } = await import('node:fs/promises');
    const { SHIPPED_RULES } = await import('../../../src/ops/alerts/start.js');
    const text = await readFile(SHIPPED_RULES, 'utf8');
    const exprs = [...text.matchAll(/^\s+expr: (.*)$/gm)].map((m) => m[1]!);
    assert.equal(exprs.length, 12);
    for (const e of exprs) assert.doesNotThrow(() => parseExpr(e), e);
  });

  const refused: [string, RegExp][] = [
    ['rate(x)', /range selector/],
    ['absent(x[5m])', /instant vector/],
    ['x and y', /trailing input/],
    ['x > bool 1', /bool/],
    ['sum without (a) (x)', /without/],
    ['histogram_quantile(0.9, x)', /not supported/],
    ['x{a=1}', /quoted value/],
    ['x{a="1"', /label name|expected/],
    ['x offset 5m', /trailing input/],
    ['time(1)', /takes 0 arguments/],
  ];
  for (const [src, why] of refused) it(`refuses ${src}`, () => assert.throws(() => parseExpr(src), (e: unknown) => e instanceof PromqlError && why.test(e.message)));
});
