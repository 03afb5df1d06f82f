import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, encodeRequest } from '../../../bench/lib/raw-client.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('Content-Length response, split anywhere', () => {
  const whole = 'HTTP/1.1 201 Created\r\nContent-Type: application/json\r\ncontent-length: 7\r\n\r\n{"a":1}';
  for (let cut = 1; cut < whole.length; cut++) {
    const p = new ResponseParser();
    assert.equal(p.push(b(whole.slice(0, cut))), undefined, `cut ${cut}`);
    const res = p.push(b(whole.slice(cut)));
    assert.equal(res?.status, 201);
    assert.equal(res?.body.toString(), '{"a":1}');
  }
});

test('chunked response, split anywhere', () => {
  const whole = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n';
  for (let cut = 1; cut < whole.length; cut++) {
    const p = new ResponseParser();
    const first = p.push(b(whole.slice(0, cut)));
    const res = first ?? p.push(b(whole.slice(cut)));
    assert.equal(res?.status, 200, `cut ${cut}`);
    assert.equal(res?.body.toString(), 'abc0123456789');
  }
});

test('204 has no body; missing framing and trailing bytes are errors', () => {
  assert.equal(new ResponseParser().push(b('HTTP/1.1 204 No Content\r\n\r\n'))?.body.length, 0);
  assert.throws(() => new ResponseParser().push(b('HTTP/1.1 200 OK\r\n\r\nhello')), /unsupported response framing/);
  assert.throws(() => new ResponseParser().push(b('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nab')), /unexpected bytes/);
  assert.throws(() => new ResponseParser().push(b('SPDY/3 200\r\n\r\n')), /malformed status line/);
});

test('encodeRequest frames the body with its byte length', () => {
  const req = encodeRequest('POST', '/api/v1/x', 'h:1', '{"é":1}').toString('utf8');
  assert.equal(req, 'POST /api/v1/x HTTP/1.1\r\nHost: h:1\r\nAccept: application/json\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"é":1}');
  assert.equal(encodeRequest('GET', '/a', 'h').toString(), 'GET /a HTTP/1.1\r\nHost: h\r\nAccept: application/json\r\n\r\n');
});
