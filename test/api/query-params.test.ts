// Query parameter decoding against the table Kubernetes' parameter codec follows
// (apimachinery runtime.Convert_Slice_string_To_bool and strconv.ParseInt for integers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolParam, decodeBool, intParam } from '../../src/api/query-params.js';
import { isTriremeError } from '../../src/errors.js';

const q = (s: string) => new URLSearchParams(s);

test('booleans: only "0" and any case of "false" are false; absent is false', () => {
  for (const v of ['0', 'false', 'False', 'FALSE', 'fAlSe']) assert.equal(decodeBool(v), false, v);
  // The python client sends True/False. Everything else is true, as in Kubernetes: also an empty
  // value (`?watch` starts a watch) and strconv.ParseBool's "f"/"F", which the codec does not use.
  for (const v of ['1', 't', 'T', 'true', 'True', 'TRUE', 'yes', '', '2', 'f', 'F']) assert.equal(decodeBool(v), true, v);
  assert.equal(boolParam(q(''), 'watch'), false);
  assert.equal(boolParam(q('watch=True'), 'watch'), true);
  assert.equal(boolParam(q('watch=False'), 'watch'), false);
  assert.equal(boolParam(q('watch'), 'watch'), true);
  // The first of repeated values counts.
  assert.equal(boolParam(q('watch=false&watch=true'), 'watch'), false);
});

test('integers: decimal with an optional sign; empty or absent is undefined', () => {
  assert.equal(intParam(q(''), 'limit'), undefined);
  assert.equal(intParam(q('limit='), 'limit'), undefined);
  assert.equal(intParam(q('limit=25'), 'limit'), 25);
  assert.equal(intParam(q('limit=007'), 'limit'), 7);
  assert.equal(intParam(q('limit=%2B3'), 'limit'), 3);
  assert.equal(intParam(q('gracePeriodSeconds=-1'), 'gracePeriodSeconds'), -1);
  assert.equal(intParam(q('limit=5&limit=x'), 'limit'), 5);
});

test('integers: anything else is a BadRequest naming the parameter and the value', () => {
  for (const v of ['ten', '1.5', '1e3', '0x10', ' 5', '5 ', '--1', '9007199254740993', 'Infinity']) {
    assert.throws(() => intParam(q(`timeoutSeconds=${encodeURIComponent(v)}`), 'timeoutSeconds'), (e: unknown) => {
      assert.ok(isTriremeError(e, 'BadRequest'), String(e));
      assert.match(e.message, /timeoutSeconds/);
      assert.ok(e.message.includes(JSON.stringify(v)), e.message);
      return true;
    }, v);
  }
});

test('integers: min rejects smaller values with a BadRequest', () => {
  assert.equal(intParam(q('limit=0'), 'limit', { min: 0 }), 0);
  assert.throws(() => intParam(q('limit=-1'), 'limit', { min: 0 }), (e: unknown) => isTriremeError(e, 'BadRequest') && /limit.*greater than or equal to 0/.test(e.message));
});
