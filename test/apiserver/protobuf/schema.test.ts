// The generated schema: covers every served kind, and carries the published field numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESOURCES, groupVersion } from '../../../src/api/resources.js';
import { messageFor, schemaRoot } from '../../../src/apiserver/protobuf/schema.js';
import { GO_JSON_FIELDS } from '../../../src/apiserver/protobuf/schema.generated.js';

test('every served kind has a protobuf message', () => {
  for (const r of RESOURCES) assert.ok(messageFor(groupVersion(r), r.kind), `${groupVersion(r)} ${r.kind}`);
});

test('field numbers follow the published generated.proto', () => {
  const id = (msg: string, field: string): number | undefined => schemaRoot().lookupType(msg).fields[field]?.id;
  const META = 'k8s.io.apimachinery.pkg.apis.meta.v1';
  assert.equal(id(`${META}.ObjectMeta`, 'name'), 1);
  assert.equal(id(`${META}.ObjectMeta`, 'namespace'), 3);
  assert.equal(id(`${META}.ObjectMeta`, 'labels'), 11);
  assert.equal(id(`${META}.ObjectMeta`, 'managedFields'), 17);
  assert.equal(id('k8s.io.api.core.v1.PodSpec', 'containers'), 2);
  assert.equal(id('k8s.io.api.core.v1.PodSpec', 'initContainers'), 20);
  assert.equal(id('k8s.io.api.core.v1.Container', 'startupProbe'), 22);
  assert.equal(id('k8s.io.api.core.v1.Secret', 'data'), 2);
  assert.equal(id('k8s.io.api.apps.v1.DeploymentSpec', 'progressDeadlineSeconds'), 9);
  assert.equal(id('k8s.io.apimachinery.pkg.util.intstr.IntOrString', 'strVal'), 3);
  assert.equal(id('k8s.io.apimachinery.pkg.runtime.Unknown', 'raw'), 2);
});

test('every ordinary message has a JSON mapping for each of its fields', () => {
  for (const [name, rows] of Object.entries(GO_JSON_FIELDS)) {
    const type = schemaRoot().lookupType(name);
    assert.deepStrictEqual(new Set(rows.map(([pf]) => pf)), new Set(Object.keys(type.fields)), name);
  }
});
