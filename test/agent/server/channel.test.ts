import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClientMessage, frame, parseProtocolHeader, pickProtocol, V4, V5 } from '../../../src/agent/server/channel.js';
import { parseContainerPath, parseExecQuery, parseLogQuery } from '../../../src/agent/server/routes.js';
import { exitStatus } from '../../../src/agent/server/status.js';

test('protocol negotiation prefers v5, accepts v4, refuses older ones', () => {
  assert.equal(pickProtocol(parseProtocolHeader('v4.channel.k8s.io, v5.channel.k8s.io')), V5);
  assert.equal(pickProtocol(parseProtocolHeader(['v4.channel.k8s.io', 'v3.channel.k8s.io'])), V4);
  assert.equal(pickProtocol(parseProtocolHeader('channel.k8s.io')), undefined);
  assert.equal(pickProtocol(parseProtocolHeader(undefined)), undefined);
});

test('frames and client messages', () => {
  assert.deepEqual([...frame(1, 'hi')], [1, 0x68, 0x69]);
  assert.deepEqual(decodeClientMessage(Buffer.from([0, 0x61]), V5), { kind: 'stdin', data: Buffer.from('a') });
  assert.deepEqual(decodeClientMessage(Buffer.from([255, 0]), V5), { kind: 'close', channel: 0 });
  // v4 has no close-stream frame.
  assert.deepEqual(decodeClientMessage(Buffer.from([255, 0]), V4), { kind: 'ignored', channel: 255 });
  assert.deepEqual(decodeClientMessage(frame(4, '{"Width":80,"Height":24}'), V4), { kind: 'resize', width: 80, height: 24 });
  assert.deepEqual(decodeClientMessage(frame(4, 'nope'), V5), { kind: 'ignored', channel: 4 });
});

test('exit Status as kubectl reads it', () => {
  assert.deepEqual(exitStatus(['true'], 0), { metadata: {}, status: 'Success' });
  assert.deepEqual(exitStatus(['sh', '-c', 'exit 3'], 3), {
    metadata: {},
    status: 'Failure',
    message: 'command terminated with non-zero exit code: error executing command [sh -c exit 3], exit code 3',
    reason: 'NonZeroExitCode',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  });
});

test('paths and queries', () => {
  assert.deepEqual(parseContainerPath('/containerLogs/ns/p/c', 'containerLogs'), { namespace: 'ns', pod: 'p', container: 'c' });
  assert.deepEqual(parseContainerPath('/exec/ns/p/uid-1/c', 'exec'), { namespace: 'ns', pod: 'p', container: 'c' });
  assert.equal(parseContainerPath('/exec/ns/p', 'exec'), undefined);
  assert.equal(parseContainerPath('/exec/ns//c', 'exec'), undefined);
  assert.deepEqual(parseLogQuery(new URLSearchParams('follow=true&tailLines=5&timestamps=1&limitBytes=9')),
    { follow: true, previous: false, timestamps: true, tailLines: 5, limitBytes: 9 });
  assert.equal(parseLogQuery(new URLSearchParams('sinceTime=2024-05-01T10:00:00Z')).hasOwnProperty('sinceTime'), true);
  assert.ok('error' in parseLogQuery(new URLSearchParams('tailLines=x')));
  assert.ok('error' in parseLogQuery(new URLSearchParams('tailLines=-1')));
  assert.ok('error' in parseLogQuery(new URLSearchParams('sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z')));
  assert.ok('error' in parseLogQuery(new URLSearchParams('sinceTime=yesterday')));
  assert.deepEqual(parseExecQuery(new URLSearchParams('command=ls&command=-l&stdout=true&stderr=true&tty=true')),
    { command: ['ls', '-l'], stdin: false, stdout: true, stderr: false, tty: true });
  assert.ok('error' in parseExecQuery(new URLSearchParams('stdout=true')));
  assert.ok('error' in parseExecQuery(new URLSearchParams('command=ls')));
  // The python client's spelling: booleans decode as the API server decodes them.
  assert.deepEqual(parseExecQuery(new URLSearchParams('command=ls&stdin=False&stdout=True&stderr=True&tty=False')),
    { command: ['ls'], stdin: false, stdout: true, stderr: true, tty: false });
  assert.deepEqual(parseLogQuery(new URLSearchParams('follow=True&previous=False&timestamps=FALSE')), { follow: true, previous: false, timestamps: false });
  const bad = parseLogQuery(new URLSearchParams('limitBytes=1.5'));
  assert.ok('error' in bad && bad.error.includes('limitBytes'), JSON.stringify(bad));
});
