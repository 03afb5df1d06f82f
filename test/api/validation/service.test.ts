import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDefaults } from '../../../src/api/defaults/index.js';
import type { KubeObject } from '../../../src/api/object.js';
import { validateCreate, validateUpdate } from '../../../src/api/validation/index.js';

type Spec = Record<string, unknown>;

function svc(patch: (spec: Spec) => void = () => undefined, name = 'web'): KubeObject {
  const spec: Spec = { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] };
  patch(spec);
  return applyDefaults({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });
}

function fields(obj: KubeObject): [string, string][] {
  return validateCreate(obj).map((c) => [c.field, c.reason]);
}

test('valid services', () => {
  const ok: [string, (s: Spec) => void][] = [
    ['plain', () => undefined],
    ['headless without ports', (s) => { s.clusterIP = 'None'; delete s.ports; }],
    ['ExternalName', (s) => { s.type = 'ExternalName'; s.externalName = 'db.example.com.'; delete s.ports; }],
    ['named target port', (s) => { s.ports = [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'dns', port: 53, protocol: 'UDP' }]; }],
    ['NodePort with nodePort', (s) => { s.type = 'NodePort'; s.ports = [{ port: 80, nodePort: 30080 }]; }],
    ['requested clusterIP', (s) => { s.clusterIP = '10.0.0.10'; }],
  ];
  for (const [name, patch] of ok) assert.deepEqual(validateCreate(svc(patch)), [], name);
});

test('invalid services', () => {
  const cases: [string, (s: Spec) => void, [string, string][]][] = [
    ['no ports', (s) => { delete s.ports; }, [['spec.ports', 'FieldValueRequired']]],
    ['port range', (s) => { s.ports = [{ port: 0 }]; }, [['spec.ports[0].port', 'FieldValueInvalid'], ['spec.ports[0].targetPort', 'FieldValueInvalid']]],
    ['unnamed among several', (s) => { s.ports = [{ port: 80 }, { port: 81, name: 'b' }]; }, [['spec.ports[0].name', 'FieldValueRequired']]],
    ['duplicate names', (s) => { s.ports = [{ port: 80, name: 'a' }, { port: 81, name: 'a' }]; }, [['spec.ports[1].name', 'FieldValueDuplicate']]],
    ['duplicate port/protocol', (s) => { s.ports = [{ port: 80, name: 'a' }, { port: 80, name: 'b' }]; }, [['spec.ports[1]', 'FieldValueDuplicate']]],
    ['bad targetPort name', (s) => { s.ports = [{ port: 80, targetPort: 'http_x' }]; }, [['spec.ports[0].targetPort', 'FieldValueInvalid']]],
    ['bad type', (s) => { s.type = 'Magic'; }, [['spec.type', 'FieldValueNotSupported']]],
    ['bad affinity', (s) => { s.sessionAffinity = 'Sticky'; }, [['spec.sessionAffinity', 'FieldValueNotSupported']]],
    ['bad selector', (s) => { s.selector = { 'bad key': 'x' }; }, [['spec.selector', 'FieldValueInvalid']]],
    ['nodePort on ClusterIP', (s) => { s.ports = [{ port: 80, nodePort: 30000 }]; }, [['spec.ports[0].nodePort', 'FieldValueForbidden']]],
    ['bad clusterIP', (s) => { s.clusterIP = '10.0.0.300'; }, [['spec.clusterIP', 'FieldValueInvalid']]],
    ['ExternalName without name', (s) => { s.type = 'ExternalName'; }, [['spec.externalName', 'FieldValueRequired']]],
    ['externalTrafficPolicy on ClusterIP', (s) => { s.externalTrafficPolicy = 'Local'; }, [['spec.externalTrafficPolicy', 'FieldValueInvalid']]],
  ];
  for (const [name, patch, want] of cases) assert.deepEqual(fields(svc(patch)), want, name);
});

test('Service names are DNS-1035 labels', () => {
  assert.deepEqual(fields(svc(undefined, '1web')), [['metadata.name', 'FieldValueInvalid']]);
  assert.match(validateCreate(svc(undefined, 'a.b'))[0]?.message ?? '', /a DNS-1035 label must consist of/);
});

test('clusterIP cannot change once set', () => {
  const old = svc((s) => { s.clusterIP = '10.0.0.10'; });
  assert.deepEqual(validateUpdate(svc((s) => { s.clusterIP = '10.0.0.10'; s.ports = [{ port: 81 }]; }), old), []);
  const changed = validateUpdate(svc((s) => { s.clusterIP = '10.0.0.11'; }), old);
  assert.deepEqual(changed, [{ reason: 'FieldValueInvalid', field: 'spec.clusterIP', message: 'Invalid value: "10.0.0.11": field is immutable' }]);
  assert.equal(validateUpdate(svc(), old).length, 1, 'dropping an allocated clusterIP is a change');
  assert.deepEqual(validateUpdate(svc((s) => { s.clusterIP = '10.0.0.10'; }), svc()), [], 'first allocation is allowed');
});
