import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isValidQuantity, parseQuantity } from '../../../src/api/validation/quantity.js';

test('parses the Kubernetes quantity forms', () => {
  const cases: [unknown, number][] = [
    ['100m', 0.1], ['1', 1], ['2Gi', 2 * 2 ** 30], ['500Mi', 500 * 2 ** 20], ['1e3', 1000], ['1E3', 1000],
    ['1.5', 1.5], ['.5', 0.5], ['1k', 1000], ['1M', 1e6], ['10n', 1e-8], ['-1', -1], ['+2', 2], ['1Ki', 1024],
    ['2E', 2e18], ['3e-3', 0.003], [4, 4], ['0', 0],
  ];
  for (const [input, want] of cases) {
    const got = parseQuantity(input);
    assert.ok(got !== undefined && Math.abs(got - want) <= Math.abs(want) * 1e-12, `${String(input)} → ${String(got)}`);
  }
});

test('rejects malformed quantities', () => {
  for (const bad of ['', 'abc', '1.2.3', '1Gib', '1 Gi', ' 1', '1x', 'm', '1KiB', '--1', null, {}, Number.NaN]) {
    assert.equal(isValidQuantity(bad), false, String(bad));
  }
});
