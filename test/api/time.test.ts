import { test } from 'node:test';
import assert from 'node:assert/strict';
import { kubeTime, microTime, parseKubeTime } from '../../src/api/time.js';

const T = Date.UTC(2024, 0, 2, 3, 4, 5, 678);

test('kubeTime truncates to whole seconds (metav1.Time)', () => {
  assert.equal(kubeTime(T), '2024-01-02T03:04:05Z');
  assert.equal(kubeTime(Date.UTC(2024, 0, 2, 3, 4, 5, 999)), '2024-01-02T03:04:05Z');
  assert.equal(kubeTime(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02T03:04:05Z');
});

test('microTime has six fractional digits (metav1.MicroTime)', () => {
  assert.equal(microTime(T), '2024-01-02T03:04:05.678000Z');
  assert.equal(microTime(Date.UTC(2024, 0, 2, 3, 4, 5)), '2024-01-02T03:04:05.000000Z');
});

test('parseKubeTime reads any fraction and rejects what is not a time', () => {
  assert.equal(parseKubeTime('2024-01-02T03:04:05Z'), Date.UTC(2024, 0, 2, 3, 4, 5));
  assert.equal(parseKubeTime('2024-01-02T03:04:05.678000Z'), T);
  assert.equal(parseKubeTime(microTime(T)), T);
  assert.equal(parseKubeTime(''), undefined);
  assert.equal(parseKubeTime(null), undefined);
  assert.equal(parseKubeTime(undefined), undefined);
  assert.equal(parseKubeTime('yesterday'), undefined);
});
