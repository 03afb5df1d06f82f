// The dependency gate itself: a missing program fails under CI=true naming it, skips visibly
// otherwise; PATH lookup finds what `command -v` finds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findOnPath, needs, type Dependency } from './require-dep.js';

const present: Dependency = { name: 'present-thing', hint: 'n/a', find: () => '/bin/sh' };
const absent: Dependency = { name: 'absent-thing', hint: 'apt-get install absent', find: () => undefined };

function withCi<T>(value: string | undefined, fn: () => T): T {
  const before = process.env.CI;
  if (value === undefined) delete process.env.CI;
  else process.env.CI = value;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.CI;
    else process.env.CI = before;
  }
}

test('all present: no skip, in CI or not', () => {
  assert.equal(withCi('true', () => needs(present)), false);
  assert.equal(withCi(undefined, () => needs(present)), false);
});

test('missing under CI=true: throws naming the dependency and how to get it', () => {
  assert.throws(() => withCi('true', () => needs(present, absent)), /CI=true.*absent-thing \(apt-get install absent\)/);
});

test('missing outside CI: the skip reason names it', () => {
  const reason = withCi(undefined, () => needs(absent, present));
  assert.equal(typeof reason, 'string');
  assert.match(String(reason), /^missing absent-thing/);
  assert.doesNotMatch(String(reason), /present-thing/);
});

test('findOnPath: the first executable file of that name in PATH order; none on an empty PATH', () => {
  const root = mkdtempSync(join(tmpdir(), 'trireme-dep-'));
  try {
    const mk = (dir: string, mode: number) => {
      const p = join(root, dir);
      mkdirSync(p);
      writeFileSync(join(p, 'tool'), '#!/bin/sh\n');
      chmodSync(join(p, 'tool'), mode);
      return p;
    };
    const notExec = mk('d1', 0o644);
    const first = mk('d2', 0o755);
    const second = mk('d3', 0o755);
    assert.equal(findOnPath('tool', [notExec, first, second].join(':')), join(first, 'tool'));
    assert.equal(findOnPath('tool', notExec), undefined);
    assert.equal(findOnPath('tool', ''), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
