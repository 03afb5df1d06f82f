// nestingDepth (pure): collections counted on the raw text, strings and escapes skipped.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nestingDepth } from '../../src/api/nesting.js';

describe('nestingDepth', () => {
  const cases: [string, number][] = [
    ['', 0], ['1', 0], ['{}', 1], ['[[]]', 2], ['{"a":[{"b":1}]}', 3],
    ['{"a":"[[[[{{{{"}', 1], ['{"a":"\\"[[["}', 1], ['{"a":"\\\\"}', 1],
    [`${'['.repeat(5000)}${']'.repeat(5000)}`, 5000], ['a: [b, {c: d}]', 2],
  ];
  for (const [text, want] of cases) it(`${JSON.stringify(text).slice(0, 40)}: ${want}`, () => assert.equal(nestingDepth(text), want));
});
