import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageInfo } from '../../src/util/package-info.js';

test('packageInfo finds the package this build belongs to', () => {
  const info = packageInfo();
  const pkg = JSON.parse(readFileSync(join(info.root, 'package.json'), 'utf8')) as { name: string; version: string };
  assert.equal(info.name, 'trireme');
  assert.equal(pkg.name, 'trireme');
  assert.equal(info.version, pkg.version);
  assert.match(info.version, /^\d+\.\d+\.\d+/);
});
