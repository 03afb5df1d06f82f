// ports.json restoration after an agent restart, on real files: a good file is restored; a
// damaged one is a typed error, logged once, and the assignment the pod records (annotation or
// PortsAllocated condition in pod.json) keeps the ports reserved; with no record the pod's ports
// are assigned anew, said in the log. The allocator never hands out a restored port again.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { PORTS_CONDITION, parsePorts, readPortsFile, recordedPorts, restorePorts } from '../../../src/agent/pods/ports-file.js';
import { PORTS_ANNOTATION, PortAllocator } from '../../../src/agent/pods/ports.js';
import { isTriremeError } from '../../../src/errors.js';

describe('ports.json', () => {
  let root: string;
  const logs: { level: number; msg: string; pod?: string }[] = [];
  const log = pino({ level: 'info' }, new Writable({ write(c: Buffer, _e, cb) { for (const l of c.toString().split('\n')) if (l) logs.push(JSON.parse(l) as (typeof logs)[number]); cb(); } }));

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'trireme-ports-'));
  });
  after(() => rm(root, { recursive: true, force: true }));

  const pod = (over: Partial<Pod> = {}): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] }, ...over });

  async function podDir(uid: string, ports: string | undefined, p?: Pod): Promise<string> {
    const dir = path.join(root, uid);
    await mkdir(dir, { recursive: true });
    if (ports !== undefined) await writeFile(path.join(dir, 'ports.json'), ports);
    if (p) await writeFile(path.join(dir, 'pod.json'), JSON.stringify(p));
    return dir;
  }

  it('parses assignments and refuses malformed ones with a typed error', async () => {
    assert.deepEqual(parsePorts('{"c/80":30001}', 'x'), { 'c/80': 30001 });
    for (const bad of ['{', '[]', '{"c/80":"30001"}', '{"c/80":70000}', 'null']) {
      assert.throws(() => parsePorts(bad, 'x'), (e) => isTriremeError(e, 'Internal') && e.context.corrupt === true);
    }
    assert.equal(await readPortsFile(await podDir('none', undefined)), undefined);
    await assert.rejects(readPortsFile(await podDir('broken', '{"c/80": 3')), /ports\.json is unreadable: not JSON/);
  });

  it('takes the recorded assignment from the annotation, else the PortsAllocated condition', () => {
    assert.deepEqual(recordedPorts(pod({ metadata: { annotations: { [PORTS_ANNOTATION]: '{"c/80":30002}' } } })), { 'c/80': 30002 });
    assert.deepEqual(recordedPorts(pod({ status: { conditions: [{ type: PORTS_CONDITION, status: 'True', message: '{"c/80":30003}' }] } })), { 'c/80': 30003 });
    assert.equal(recordedPorts(pod()), undefined);
    assert.equal(recordedPorts(undefined), undefined);
  });

  it('restores good and damaged files, logging each damaged one once, and never reuses a restored port', async () => {
    await rm(root, { recursive: true, force: true });
    await podDir('good', '{"c/80":30010}', pod());
    await podDir('damaged', '{"c/80": 300', pod({ status: { conditions: [{ type: PORTS_CONDITION, status: 'True', message: '{"c/80":30011}' }] } }));
    await podDir('lost', 'garbage', pod());
    const alloc = new PortAllocator([30010, 30013], async () => true);
    await restorePorts(root, alloc, log);
    assert.deepEqual(alloc.get('good'), { 'c/80': 30010 });
    assert.deepEqual(alloc.get('damaged'), { 'c/80': 30011 });
    assert.equal(alloc.get('lost'), undefined);
    const errors = logs.filter((l) => l.level === 50);
    assert.deepEqual(errors.map((l) => [l.pod, l.msg]).sort(), [
      ['damaged', 'ports.json is unreadable; restored the assignment the pod records'],
      ['lost', 'ports.json is unreadable and the pod records no assignment; its ports will be assigned anew'],
    ]);
    // The two free ports of the range go to new pods; the restored ones never do.
    const a = await alloc.allocate('n1', pod());
    const b = await alloc.allocate('n2', pod());
    assert.deepEqual([a['c/80'], b['c/80']].sort(), [30012, 30013]);
    await assert.rejects(alloc.allocate('n3', pod()), /no free host port/);
  });
});
