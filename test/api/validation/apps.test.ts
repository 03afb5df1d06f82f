import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { validateCreate, validateUpdate } from '../../../src/api/validation/index.js';

type Spec = Record<string, unknown>;

function workload(kind: string, patch: (spec: Spec) => void = () => undefined): KubeObject {
  const spec: Spec = {
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
  };
  patch(spec);
  return applyDefaults({ apiVersion: 'apps/v1', kind, metadata: { name: 'web', namespace: 'default' }, spec });
}

function fields(obj: KubeObject): [string, string][] {
  return validateCreate(obj).map((c) => [c.field, c.reason]);
}

test('well-formed workloads of every kind are valid', () => {
  for (const kind of ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet']) assert.deepEqual(validateCreate(workload(kind)), [], kind);
});

test('selector rules apply to every workload kind', () => {
  for (const kind of ['Deployment', 'ReplicaSet', 'DaemonSet', 'StatefulSet']) {
    assert.deepEqual(fields(workload(kind, (s) => { delete s.selector; })), [['spec.selector', 'FieldValueRequired']], kind);
    assert.deepEqual(fields(workload(kind, (s) => { s.selector = {}; })), [['spec.selector', 'FieldValueInvalid']], kind);
    const mismatch = validateCreate(workload(kind, (s) => { s.selector = { matchLabels: { app: 'db' } }; }));
    assert.equal(mismatch.length, 1, kind);
    assert.equal(mismatch[0]?.field, 'spec.template.metadata.labels');
    assert.equal(mismatch[0]?.message, 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`');
    assert.deepEqual(fields(workload(kind, (s) => { (s.template as { spec: Spec }).spec.restartPolicy = 'Never'; })),
      [['spec.template.spec.restartPolicy', 'FieldValueNotSupported']], kind);
    assert.deepEqual(fields(workload(kind, (s) => { (s.template as { spec: Spec }).spec.containers = [{ name: 'Bad' , image: 'x' }]; })),
      [['spec.template.spec.containers[0].name', 'FieldValueInvalid']], kind);
  }
});

test('deployment spec rules', () => {
  const cases: [string, (s: Spec) => void, [string, string][]][] = [
    ['negative replicas', (s) => { s.replicas = -1; }, [['spec.replicas', 'FieldValueInvalid']]],
    ['unknown strategy', (s) => { s.strategy = { type: 'BlueGreen' }; }, [['spec.strategy.type', 'FieldValueNotSupported']]],
    ['both zero', (s) => { s.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: '0%' } }; }, [['spec.strategy.rollingUpdate.maxUnavailable', 'FieldValueInvalid']]],
    ['bad percent', (s) => { s.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '10 percent' } }; }, [['spec.strategy.rollingUpdate.maxSurge', 'FieldValueInvalid']]],
    ['over 100%', (s) => { s.strategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '150%' } }; }, [['spec.strategy.rollingUpdate.maxUnavailable', 'FieldValueInvalid']]],
    ['Recreate with rollingUpdate', (s) => { s.strategy = { type: 'Recreate', rollingUpdate: {} }; }, [['spec.strategy.rollingUpdate', 'FieldValueForbidden']]],
    ['progress deadline below minReady', (s) => { s.minReadySeconds = 700; }, [['spec.progressDeadlineSeconds', 'FieldValueInvalid']]],
    ['negative history', (s) => { s.revisionHistoryLimit = -2; }, [['spec.revisionHistoryLimit', 'FieldValueInvalid']]],
  ];
  for (const [name, patch, want] of cases) assert.deepEqual(fields(workload('Deployment', patch)), want, name);
  assert.deepEqual(validateCreate(workload('Deployment', (s) => { s.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: '200%', maxUnavailable: 0 } }; })), []);
});

test('daemonset and statefulset spec rules', () => {
  assert.deepEqual(fields(workload('DaemonSet', (s) => { s.updateStrategy = { type: 'Sometimes' }; })), [['spec.updateStrategy.type', 'FieldValueNotSupported']]);
  assert.deepEqual(fields(workload('DaemonSet', (s) => { s.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } }; })),
    [['spec.updateStrategy.rollingUpdate.maxUnavailable', 'FieldValueInvalid']]);
  assert.deepEqual(fields(workload('StatefulSet', (s) => { s.podManagementPolicy = 'Random'; })), [['spec.podManagementPolicy', 'FieldValueInvalid']]);
  assert.deepEqual(fields(workload('StatefulSet', (s) => { s.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: -1 } }; })),
    [['spec.updateStrategy.rollingUpdate.partition', 'FieldValueInvalid']]);
  assert.deepEqual(fields(workload('StatefulSet', (s) => { s.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep', whenScaled: 'Retain' }; })),
    [['spec.persistentVolumeClaimRetentionPolicy.whenDeleted', 'FieldValueNotSupported']]);
  // Mounts may name a volumeClaimTemplate instead of a pod volume.
  const withClaim = workload('StatefulSet', (s) => {
    s.volumeClaimTemplates = [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'] } }];
    ((s.template as { spec: { containers: Spec[] } }).spec.containers[0] as Spec).volumeMounts = [{ name: 'www', mountPath: '/data' }];
  });
  assert.deepEqual(validateCreate(withClaim), []);
});

test('updates: selector immutable; statefulset spec mostly immutable', () => {
  const old = workload('Deployment');
  const changed = workload('Deployment', (s) => {
    s.selector = { matchLabels: { app: 'web', v: '2' } };
    (s.template as { metadata: { labels: Record<string, string> } }).metadata.labels.v = '2';
  });
  const causes = validateUpdate(changed, old);
  assert.deepEqual(causes.map((c) => [c.field, c.reason]), [['spec.selector', 'FieldValueInvalid']]);
  assert.match(causes[0]?.message ?? '', /: field is immutable$/);
  assert.deepEqual(validateUpdate(workload('Deployment', (s) => { s.replicas = 5; }), old), []);

  const sts = workload('StatefulSet');
  assert.deepEqual(validateUpdate(workload('StatefulSet', (s) => { s.replicas = 3; s.minReadySeconds = 5; }), sts), []);
  const forbidden = validateUpdate(workload('StatefulSet', (s) => { s.podManagementPolicy = 'Parallel'; }), sts);
  assert.deepEqual(forbidden.map((c) => [c.field, c.reason]), [['spec', 'FieldValueForbidden']]);
});
