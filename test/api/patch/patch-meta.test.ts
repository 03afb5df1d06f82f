import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fieldsOfType, knownTypes, lookupField, mergesLists, rootTypeForKind } from '../../../src/api/patch/patch-meta.js';
import { RESOURCES } from '../../../src/api/resources.js';

describe('patch metadata', () => {
  it('every type reference resolves', () => {
    const known = new Set(knownTypes());
    for (const t of known) {
      for (const [field, meta] of Object.entries(fieldsOfType(t))) {
        if (meta.type !== undefined) assert.ok(known.has(meta.type), `${t}.${field} -> ${meta.type}`);
        if (meta.mergeKey !== undefined) assert.ok(mergesLists(meta), `${t}.${field} has a merge key but no merge strategy`);
      }
    }
  });

  it('every served kind has a root type with metadata', () => {
    for (const r of RESOURCES) {
      const root = rootTypeForKind(r.kind);
      assert.ok(knownTypes().includes(root), r.kind);
      assert.equal(lookupField(root, 'metadata').type, 'ObjectMeta', r.kind);
    }
  });

  it('carries the published tags', () => {
    assert.deepEqual(lookupField('ObjectMeta', 'finalizers'), { strategy: 'merge' });
    assert.deepEqual(lookupField('ObjectMeta', 'ownerReferences'), { strategy: 'merge', mergeKey: 'uid' });
    assert.deepEqual(lookupField('PodSpec', 'volumes'), { strategy: 'merge,retainKeys', mergeKey: 'name' });
    assert.equal(lookupField('Container', 'ports').mergeKey, 'containerPort');
    assert.equal(lookupField('Container', 'volumeMounts').mergeKey, 'mountPath');
    assert.equal(lookupField('ServiceSpec', 'ports').mergeKey, 'port');
    assert.equal(lookupField('DeploymentSpec', 'strategy').strategy, 'retainKeys');
    // Untagged: replaced.
    assert.deepEqual(lookupField('PodSpec', 'tolerations'), {});
    assert.deepEqual(lookupField('Container', 'envFrom'), {});
    assert.deepEqual(lookupField('NodeSpec', 'taints'), {});
    assert.deepEqual(lookupField(undefined, 'x'), {});
    assert.deepEqual(lookupField('ObjectMeta', 'toString'), {});
  });

  it('pod templates of the workload kinds reach Container', () => {
    for (const kind of ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet']) {
      const spec = lookupField(rootTypeForKind(kind), 'spec').type;
      const template = lookupField(spec, 'template').type;
      const podSpec = lookupField(template, 'spec').type;
      assert.equal(lookupField(podSpec, 'containers').type, 'Container', kind);
    }
  });
});
