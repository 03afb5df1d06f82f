import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitErrorMessage, NO_NODES_MESSAGE } from '../../src/scheduler/fit-error.js';

test('summary message in Kubernetes wording, reasons sorted', () => {
  const reasons = new Map([['Insufficient cpu', 2], ["node(s) didn't match pod anti-affinity rules", 1]]);
  assert.equal(fitErrorMessage({ numAllNodes: 3, reasons }),
    "0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 Insufficient cpu.");
});

test('no nodes at all', () => {
  assert.equal(fitErrorMessage({ numAllNodes: 0, reasons: new Map() }), NO_NODES_MESSAGE);
});
