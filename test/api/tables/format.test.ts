import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerCells, formatLabelSelector, formatLabels, selectorString } from '../../../src/api/tables/format.js';

test('formatLabels sorts by key and prints <none> when empty', () => {
  assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  assert.equal(formatLabels({}), '<none>');
  assert.equal(formatLabels(undefined), '<none>');
});

test('selectorString renders every operator, sorted by key', () => {
  assert.equal(selectorString({
    matchLabels: { z: '1' },
    matchExpressions: [
      { key: 'env', operator: 'NotIn', values: ['prod', 'dev'] },
      { key: 'b', operator: 'Exists' },
      { key: 'a', operator: 'In', values: ['y', 'x'] },
    ],
  }), 'a in (x,y),b,env notin (dev,prod),z=1');
  assert.equal(selectorString(undefined), '');
  assert.equal(selectorString({}), '');
  assert.equal(selectorString({ matchExpressions: [{ key: 'k', operator: 'Bogus' }] }), undefined);
});

test('formatLabelSelector: <none> and <error>', () => {
  assert.equal(formatLabelSelector(undefined), '<none>');
  assert.equal(formatLabelSelector({ matchLabels: {} }), '<none>');
  assert.equal(formatLabelSelector({ matchExpressions: [{ key: 'k', operator: 'Bogus' }] }), '<error>');
  assert.equal(formatLabelSelector({ matchLabels: { app: 'x' } }), 'app=x');
});

test('containerCells joins names and images', () => {
  assert.deepEqual(containerCells([{ name: 'a', image: 'i1' }, { name: 'b', image: 'i2' }]), ['a,b', 'i1,i2']);
  assert.deepEqual(containerCells(undefined), ['', '']);
});
