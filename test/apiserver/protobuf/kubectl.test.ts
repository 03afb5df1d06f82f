// Bodies recorded from real kubectl (see tools/capture-kubectl.mjs): what kubectl 1.32 sends as
// protobuf must decode to exactly the JSON kubectl 1.30 sends for the same command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeKubeProtobuf } from '../../../src/apiserver/protobuf/index.js';
import { KUBECTL_FIXTURES } from './kubectl-fixtures.js';

for (const f of KUBECTL_FIXTURES) {
  test(`${f.command}: protobuf body decodes to the JSON kubectl sends`, () => {
    const decoded = decodeKubeProtobuf(Buffer.from(f.protobuf, 'base64'));
    assert.deepStrictEqual(decoded, f.json);
  });
}

test('kubectl fixtures cover the create commands we rely on', () => {
  const kinds = new Set(KUBECTL_FIXTURES.map((f) => f.json['kind']));
  for (const k of ['Namespace', 'ConfigMap', 'Secret', 'Deployment', 'Service', 'ServiceAccount']) assert.ok(kinds.has(k), k);
});
