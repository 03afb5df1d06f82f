// Unit: reading /proc/<pid>/stat (command names with spaces and parentheses) and the pure
// decisions on whether a recorded pid is still the container's (judgeInstance, ownsGroup).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { judgeInstance, observeProc, ownsGroup, parseStat, procStartTime, readBootId, type InstanceObservation, type RecordedIdentity } from '../../../src/agent/runtime/proc-identity.js';

describe('parseStat', () => {
  it('reads state, pgrp and starttime after the last parenthesis', () => {
    const tail = 'S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10 18446744073709551615';
    assert.deepEqual(parseStat(`4242 (sleep) ${tail}`), { state: 'S', pgrp: 4242, start: '987654' });
    // A command name may hold spaces and ") (" itself.
    assert.deepEqual(parseStat(`4242 (a b) S 1 (x) ${tail}`), { state: 'S', pgrp: 4242, start: '987654' });
    assert.equal(parseStat('garbage'), undefined);
    assert.equal(parseStat('1 (x) S 1'), undefined);
  });

  it('observes this process and a pid that does not exist', () => {
    const me = observeProc(process.pid);
    assert.equal(me.exists, true);
    assert.equal(me.zombie, false);
    assert.match(me.start ?? '', /^\d+$/);
    assert.equal(procStartTime(process.pid), me.start);
    assert.deepEqual(observeProc(0x3fffffff), { exists: false, zombie: false });
    assert.match(readBootId() ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('judgeInstance / ownsGroup', () => {
  const rec: RecordedIdentity = { shimPid: 10, pid: 11, pgid: 11, procStart: '500', shimStart: '499', bootId: 'boot-a' };
  const live = (start: string) => ({ exists: true, zombie: false, start });
  const gone = { exists: false, zombie: false };
  const obs = (o: Partial<InstanceObservation>): InstanceObservation => ({ bootId: 'boot-a', shim: live('499'), leader: live('500'), groupAlive: true, ...o });

  const table: [string, RecordedIdentity, InstanceObservation, ReturnType<typeof judgeInstance>, boolean][] = [
    ['shim and container alive', rec, obs({}), { kind: 'running' }, true],
    ['another boot: everything is gone, even if the pids match', rec, obs({ bootId: 'boot-b' }), { kind: 'gone', why: 'rebooted' }, false],
    ['no boot id recorded', { ...rec, bootId: undefined }, obs({}), { kind: 'gone', why: 'unverifiable' }, false],
    ['no start time recorded', { ...rec, procStart: undefined }, obs({}), { kind: 'gone', why: 'unverifiable' }, false],
    ['no boot id readable now', rec, obs({ bootId: undefined }), { kind: 'gone', why: 'unverifiable' }, false],
    ['shim pid recycled, container pid recycled', rec, obs({ shim: live('900'), leader: live('901') }), { kind: 'shim-lost', killGroup: false, leaderRecycled: true }, false],
    ['shim gone, container alive: kill its group', rec, obs({ shim: gone }), { kind: 'shim-lost', killGroup: true, leaderRecycled: false }, true],
    ['shim a zombie, container alive', rec, obs({ shim: { exists: true, zombie: true, start: '499' } }), { kind: 'shim-lost', killGroup: true, leaderRecycled: false }, true],
    ['shim gone, leader gone, children left in the group', rec, obs({ shim: gone, leader: gone }), { kind: 'shim-lost', killGroup: true, leaderRecycled: false }, true],
    ['shim gone, nothing left', rec, obs({ shim: gone, leader: gone, groupAlive: false }), { kind: 'shim-lost', killGroup: false, leaderRecycled: false }, false],
  ];
  for (const [name, r, o, verdict, owns] of table) {
    it(name, () => {
      assert.deepEqual(judgeInstance(r, o), verdict);
      assert.equal(ownsGroup(r, o), owns);
    });
  }
});
