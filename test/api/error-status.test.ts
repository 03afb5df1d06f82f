// The error table both sides use: every code's wire form decodes back to the code (or, for a
// declared alias, to the code it shares the wire with), through the real Status encoder of the
// API server and the real decoder of the client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_STATUS, WIRE_ALIASES, errorCodeOf, wireStatusOf } from '../../src/api/error-status.js';
import { statusFromError } from '../../src/apiserver/status.js';
import { errorFromStatus } from '../../src/client/api-client.js';
import { TriremeError, type ErrorCode } from '../../src/errors.js';

const CODES = Object.keys(ERROR_STATUS) as ErrorCode[];
const expected = (c: ErrorCode): ErrorCode => WIRE_ALIASES[c] ?? c;

test('every code -> Status (server encoder) -> code (client decoder)', () => {
  for (const code of CODES) {
    const status = statusFromError(new TriremeError(code, `a ${code} error`));
    assert.equal(status.code, ERROR_STATUS[code].http, code);
    assert.equal(status.reason, ERROR_STATUS[code].reason, code);
    const back = errorFromStatus(status.code, status, 'GET /x');
    assert.equal(back.code, expected(code), `${code} came back as ${back.code}`);
    assert.equal(back.message, `a ${code} error`);
  }
});

test('decoding by reason alone and by bare HTTP status', () => {
  for (const code of CODES) {
    const { http, reason } = wireStatusOf(code);
    assert.equal(errorCodeOf(http, reason), expected(code), code);
    assert.equal(errorCodeOf(0, reason), expected(code), `${code} by reason only`);
  }
  // Without a Status body only the HTTP status is left; a status two codes share has one reading.
  assert.equal(errorCodeOf(409), 'Conflict');
  assert.equal(errorCodeOf(503), 'ServiceUnavailable');
  assert.equal(errorCodeOf(504), 'Timeout');
  assert.equal(errorCodeOf(410), 'Gone');
  for (const code of CODES) {
    const shared = CODES.filter((o) => expected(o) !== expected(code) && ERROR_STATUS[o].http === ERROR_STATUS[code].http);
    if (shared.length === 0) assert.equal(errorCodeOf(ERROR_STATUS[code].http), expected(code), `bare ${ERROR_STATUS[code].http}`);
  }
  // Reasons other Kubernetes servers send, and answers nobody maps.
  assert.equal(errorCodeOf(410, 'Gone'), 'Gone');
  assert.equal(errorCodeOf(500, 'ServerTimeout'), 'Timeout');
  assert.equal(errorCodeOf(502), 'Internal');
  assert.equal(errorCodeOf(418, 'Teapot'), 'Internal');
  assert.equal(errorCodeOf(404, 'NoSuchReason'), 'NotFound', 'an unknown reason falls back to the HTTP status');
});

test('reasons are unique among the codes the wire tells apart; aliases point at such a code', () => {
  const canonical = CODES.filter((c) => WIRE_ALIASES[c] === undefined);
  const reasons = canonical.map((c) => ERROR_STATUS[c].reason);
  assert.equal(new Set(reasons).size, reasons.length, reasons.join(','));
  for (const [alias, target] of Object.entries(WIRE_ALIASES) as [ErrorCode, ErrorCode][]) {
    assert.equal(WIRE_ALIASES[target], undefined, `${alias} -> ${target} is not a chain`);
    assert.deepEqual(ERROR_STATUS[alias], ERROR_STATUS[target], `${alias} has ${target}'s wire form`);
  }
});
