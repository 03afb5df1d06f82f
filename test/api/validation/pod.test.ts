import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { validateCreate } from '../../../src/api/validation/index.js';

type Spec = Record<string, unknown>;

/** A defaulted pod whose spec is `base` with `patch` applied. */
function pod(patch: (spec: Spec) => void): KubeObject {
  const spec: Spec = {
    containers: [{ name: 'web', image: 'nginx:1', ports: [{ containerPort: 80, name: 'http' }] }],
    volumes: [{ name: 'data', emptyDir: {} }],
  };
  patch(spec);
  return applyDefaults({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec });
}

function container(spec: Spec, i = 0): Spec {
  return (spec.containers as Spec[])[i] as Spec;
}

function causesOf(patch: (spec: Spec) => void): [string, string][] {
  return validateCreate(pod(patch)).map((c) => [c.field, c.reason]);
}

test('a well-formed pod is valid', () => {
  assert.deepEqual(validateCreate(pod(() => undefined)), []);
});

test('pod rules: one invalid case per rule', () => {
  const cases: [string, (s: Spec) => void, [string, string][]][] = [
    ['no containers', (s) => { s.containers = []; }, [['spec.containers', 'FieldValueRequired']]],
    ['container name missing', (s) => { delete container(s).name; }, [['spec.containers[0].name', 'FieldValueRequired']]],
    ['container name syntax', (s) => { container(s).name = 'Web_1'; }, [['spec.containers[0].name', 'FieldValueInvalid']]],
    ['duplicate container names', (s) => { (s.containers as Spec[]).push({ name: 'web', image: 'x' }); }, [['spec.containers[1].name', 'FieldValueDuplicate']]],
    ['init/regular name clash', (s) => { s.initContainers = [{ name: 'web', image: 'x' }]; }, [['spec.initContainers[0].name', 'FieldValueDuplicate']]],
    ['image required', (s) => { delete container(s).image; }, [['spec.containers[0].image', 'FieldValueRequired']]],
    ['port out of range', (s) => { container(s).ports = [{ containerPort: 70000 }]; }, [['spec.containers[0].ports[0].containerPort', 'FieldValueInvalid']]],
    ['port missing', (s) => { container(s).ports = [{ name: 'x' }]; }, [['spec.containers[0].ports[0].containerPort', 'FieldValueRequired']]],
    ['bad protocol', (s) => { container(s).ports = [{ containerPort: 1, protocol: 'ICMP' }]; }, [['spec.containers[0].ports[0].protocol', 'FieldValueNotSupported']]],
    ['bad port name', (s) => { container(s).ports = [{ containerPort: 1, name: 'http_1' }]; }, [['spec.containers[0].ports[0].name', 'FieldValueInvalid']]],
    ['duplicate port name', (s) => { container(s).ports = [{ containerPort: 1, name: 'a' }, { containerPort: 2, name: 'a' }]; }, [['spec.containers[0].ports[1].name', 'FieldValueDuplicate']]],
    ['env name invalid', (s) => { container(s).env = [{ name: 'A=B', value: 'x' }]; }, [['spec.containers[0].env[0].name', 'FieldValueInvalid']]],
    ['env name missing', (s) => { container(s).env = [{ value: 'x' }]; }, [['spec.containers[0].env[0].name', 'FieldValueRequired']]],
    ['env two sources', (s) => { container(s).env = [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'a' }, secretKeyRef: { name: 's', key: 'k' } } }]; }, [['spec.containers[0].env[0].valueFrom', 'FieldValueInvalid']]],
    ['duplicate volume', (s) => { (s.volumes as Spec[]).push({ name: 'data', emptyDir: {} }); }, [['spec.volumes[1].name', 'FieldValueDuplicate']]],
    ['two volume sources', (s) => { s.volumes = [{ name: 'data', emptyDir: {}, hostPath: { path: '/x' } }]; }, [['spec.volumes[0].emptyDir', 'FieldValueForbidden']]],
    ['mount of unknown volume', (s) => { container(s).volumeMounts = [{ name: 'nope', mountPath: '/x' }]; }, [['spec.containers[0].volumeMounts[0].name', 'FieldValueNotFound']]],
    ['mountPath missing', (s) => { container(s).volumeMounts = [{ name: 'data' }]; }, [['spec.containers[0].volumeMounts[0].mountPath', 'FieldValueRequired']]],
    ['bad restartPolicy', (s) => { s.restartPolicy = 'Sometimes'; }, [['spec.restartPolicy', 'FieldValueNotSupported']]],
    ['bad dnsPolicy', (s) => { s.dnsPolicy = 'Google'; }, [['spec.dnsPolicy', 'FieldValueNotSupported']]],
    ['probe without handler', (s) => { container(s).livenessProbe = { periodSeconds: 3 }; }, [['spec.containers[0].livenessProbe', 'FieldValueRequired']]],
    ['probe with two handlers', (s) => { container(s).readinessProbe = { tcpSocket: { port: 80 }, exec: { command: ['true'] } }; }, [['spec.containers[0].readinessProbe.tcpSocket', 'FieldValueForbidden']]],
    ['liveness successThreshold', (s) => { container(s).livenessProbe = { tcpSocket: { port: 80 }, successThreshold: 2 }; }, [['spec.containers[0].livenessProbe.successThreshold', 'FieldValueInvalid']]],
    ['negative probe period', (s) => { container(s).readinessProbe = { tcpSocket: { port: 'http' }, initialDelaySeconds: -1 }; }, [['spec.containers[0].readinessProbe.initialDelaySeconds', 'FieldValueInvalid']]],
    ['requests above limits', (s) => { container(s).resources = { requests: { cpu: '2' }, limits: { cpu: '500m' } }; }, [['spec.containers[0].resources.requests[cpu]', 'FieldValueInvalid']]],
    ['bad quantity', (s) => { container(s).resources = { requests: { memory: '1GB' } }; }, [['spec.containers[0].resources.requests[memory]', 'FieldValueInvalid']]],
    // Pod defaulting copies limits into missing requests, so a bad limit is reported twice.
    ['bad limit', (s) => { container(s).resources = { limits: { memory: '1GB' } }; }, [['spec.containers[0].resources.limits[memory]', 'FieldValueInvalid'], ['spec.containers[0].resources.requests[memory]', 'FieldValueInvalid']]],
    ['restartPolicy on a regular container', (s) => { container(s).restartPolicy = 'Always'; }, [['spec.containers[0].restartPolicy', 'FieldValueForbidden']]],
    ['probe on a plain init container', (s) => { s.initContainers = [{ name: 'init', image: 'x', readinessProbe: { exec: { command: ['true'] } } }]; }, [['spec.initContainers[0].readinessProbe', 'FieldValueForbidden']]],
    ['configMap volume without name', (s) => { s.volumes = [{ name: 'data', configMap: {} }]; }, [['spec.volumes[0].configMap.name', 'FieldValueRequired']]],
    ['bad nodeName', (s) => { s.nodeName = 'Node_1'; }, [['spec.nodeName', 'FieldValueInvalid']]],
  ];
  for (const [name, patch, want] of cases) assert.deepEqual(causesOf(patch), want, name);
});

test('valid variations are accepted', () => {
  const ok: [string, (s: Spec) => void][] = [
    ['sidecar init container with probe', (s) => { s.initContainers = [{ name: 'side', image: 'x', restartPolicy: 'Always', readinessProbe: { exec: { command: ['true'] } } }]; }],
    ['requests equal to limits (different units)', (s) => { container(s).resources = { requests: { memory: '1024Mi' }, limits: { memory: '1Gi' } }; }],
    ['env from field and configmap', (s) => { container(s).env = [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'c', key: 'k' } } }, { name: 'B', value: '1' }]; }],
    ['same port name in two containers', (s) => { (s.containers as Spec[]).push({ name: 'b', image: 'x', ports: [{ containerPort: 81, name: 'http' }] }); }],
    ['restartPolicy Never', (s) => { s.restartPolicy = 'Never'; }],
  ];
  for (const [name, patch] of ok) assert.deepEqual(validateCreate(pod(patch)), [], name);
});

test('requests above limits reads as in Kubernetes', () => {
  const causes = validateCreate(pod((s) => { container(s).resources = { requests: { cpu: '2' }, limits: { cpu: '500m' } }; }));
  assert.equal(causes[0]?.message, 'Invalid value: "2": must be less than or equal to cpu limit of 500m');
});

test('a pod without spec is one Required cause', () => {
  assert.deepEqual(validateCreate({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'd' } }), [
    { reason: 'FieldValueRequired', field: 'spec', message: 'Required value' },
  ]);
});
