import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { strategicMergePatch } from '../../../src/api/patch/strategic-merge.js';
import { isTriremeError } from '../../../src/errors.js';

type J = Record<string, unknown>;

/** Wrap a pod spec into a Deployment so the cases exercise the full type path. */
function deploy(podSpec: J, extra: J = {}): J {
  return { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { ...extra, template: { spec: podSpec } } };
}
function podSpecOf(o: unknown): J {
  return ((o as J).spec as J & { template: { spec: J } }).template.spec;
}

interface Case { name: string; kind: string; original: J; patch: J; expected: J }

const cases: Case[] = [
  {
    name: 'maps merge recursively and null deletes a key',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c', labels: { a: '1', b: '2' } }, data: { x: '1' } },
    patch: { metadata: { labels: { b: null, c: '3' } }, data: { y: '2' } },
    expected: { metadata: { name: 'c', labels: { a: '1', c: '3' } }, data: { x: '1', y: '2' } },
  },
  {
    name: 'null for a key the original lacks is ignored, nested nulls in new values are dropped',
    kind: 'ConfigMap',
    original: { metadata: { name: 'c' } },
    patch: { data: null, metadata: { annotations: { a: 'x', b: null } } },
    expected: { metadata: { name: 'c', annotations: { a: 'x' } } },
  },
  {
    name: 'containers merge by name (kubectl set image)',
    kind: 'Deployment',
    original: deploy({ containers: [{ name: 'a', image: 'a:1', args: ['x'] }, { name: 'b', image: 'b:1' }] }),
    patch: { spec: { template: { spec: { containers: [{ name: 'b', image: 'b:2' }] } } } },
    expected: deploy({ containers: [{ name: 'a', image: 'a:1', args: ['x'] }, { name: 'b', image: 'b:2' }] }),
  },
  {
    name: 'kubectl apply re-apply: $setElementOrder/containers reorders and merges',
    kind: 'Deployment',
    original: deploy({ containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] }),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'b' }, { name: 'a' }], containers: [{ name: 'a', image: 'a:2' }] } } } },
    expected: deploy({ containers: [{ name: 'b', image: 'b:1' }, { name: 'a', image: 'a:2' }] }),
  },
  {
    name: 'kubectl apply removing a container: $patch delete with $setElementOrder',
    kind: 'Deployment',
    original: deploy({ containers: [{ name: 'a', image: 'a:1' }, { name: 'b', image: 'b:1' }] }),
    patch: { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'b', $patch: 'delete' }] } } } },
    expected: deploy({ containers: [{ name: 'a', image: 'a:1' }] }),
  },
  {
    name: 'env removal with $patch: delete, other env untouched',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }, { name: 'C', value: '3' }] }] } },
    patch: { spec: { containers: [{ name: 'c', env: [{ name: 'B', $patch: 'delete' }] }] } },
    expected: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }, { name: 'C', value: '3' }] }] } },
  },
  {
    name: 'env value change and null-deletion of a field inside a merged element',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }, { name: 'B', valueFrom: { fieldRef: { fieldPath: 'x' } } }] }] } },
    patch: { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '2', valueFrom: null }] }] } },
    expected: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }] } },
  },
  {
    name: 'ports merge by containerPort; a new port goes first without an order directive (as Kubernetes)',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http' }] }] } },
    patch: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, protocol: 'TCP' }, { containerPort: 443, name: 'https' }] }] } },
    expected: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }, { containerPort: 443, name: 'https' }] }] } },
  },
  {
    name: 'a lone new merge-list element is placed before the server-only ones',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 80 }] }] } },
    patch: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 443 }] }] } },
    expected: { spec: { containers: [{ name: 'c', ports: [{ containerPort: 443 }, { containerPort: 80 }] }] } },
  },
  {
    name: 'finalizers merge as a set',
    kind: 'ConfigMap',
    original: { metadata: { finalizers: ['a', 'b'] } },
    patch: { metadata: { finalizers: ['b', 'c'] } },
    expected: { metadata: { finalizers: ['a', 'b', 'c'] } },
  },
  {
    name: '$deleteFromPrimitiveList/finalizers removes values',
    kind: 'Pod',
    original: { metadata: { finalizers: ['a', 'b', 'c'] } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b', 'x'] } },
    expected: { metadata: { finalizers: ['a', 'c'] } },
  },
  {
    name: '$deleteFromPrimitiveList on a missing list does not create it',
    kind: 'Pod',
    original: { metadata: { name: 'p' } },
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['b'] } },
    expected: { metadata: { name: 'p' } },
  },
  {
    name: '$setElementOrder on a primitive list with a parallel deletion list',
    kind: 'Pod',
    original: { metadata: { finalizers: ['a', 'b', 'c'] } },
    patch: { metadata: { '$setElementOrder/finalizers': ['c', 'a'], '$deleteFromPrimitiveList/finalizers': ['b'] } },
    expected: { metadata: { finalizers: ['c', 'a'] } },
  },
  {
    name: 'volumes: $retainKeys switches the volume source',
    kind: 'Deployment',
    original: deploy({ volumes: [{ name: 'v', emptyDir: {} }, { name: 'w', configMap: { name: 'cm' } }] }),
    patch: { spec: { template: { spec: { volumes: [{ name: 'v', hostPath: { path: '/x' }, $retainKeys: ['hostPath', 'name'] }] } } } },
    expected: deploy({ volumes: [{ name: 'v', hostPath: { path: '/x' } }, { name: 'w', configMap: { name: 'cm' } }] }),
  },
  {
    name: 'Deployment strategy: $retainKeys drops rollingUpdate when switching to Recreate',
    kind: 'Deployment',
    original: { spec: { replicas: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } } },
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
    expected: { spec: { replicas: 1, strategy: { type: 'Recreate' } } },
  },
  {
    name: 'lists without a strategy are replaced: args, command, tolerations',
    kind: 'Pod',
    original: { spec: { tolerations: [{ key: 'a', operator: 'Exists' }], containers: [{ name: 'c', args: ['1', '2'], command: ['sh'] }] } },
    patch: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }], containers: [{ name: 'c', args: ['3'], command: ['bash', '-c'] }] } },
    expected: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }], containers: [{ name: 'c', args: ['3'], command: ['bash', '-c'] }] } },
  },
  {
    name: '$patch: replace on a map replaces it',
    kind: 'Pod',
    original: { spec: { nodeSelector: { a: '1', b: '2' } } },
    patch: { spec: { nodeSelector: { $patch: 'replace', c: '3' } } },
    expected: { spec: { nodeSelector: { c: '3' } } },
  },
  {
    name: '$patch: delete on a map empties it',
    kind: 'Pod',
    original: { metadata: { annotations: { a: '1' }, labels: { x: 'y' } } },
    patch: { metadata: { annotations: { $patch: 'delete' } } },
    expected: { metadata: { annotations: {}, labels: { x: 'y' } } },
  },
  {
    name: '$patch: merge on a map is the default merge',
    kind: 'Pod',
    original: { metadata: { labels: { a: '1' } } },
    patch: { metadata: { labels: { $patch: 'merge', b: '2' } } },
    expected: { metadata: { labels: { a: '1', b: '2' } } },
  },
  {
    name: '$patch: replace in a merge list replaces the whole list',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'a', image: 'a' }, { name: 'b', image: 'b' }] } },
    patch: { spec: { containers: [{ $patch: 'replace' }, { name: 'c', image: 'c' }] } },
    expected: { spec: { containers: [{ name: 'c', image: 'c' }] } },
  },
  {
    name: '$patch: delete removes every element with the key',
    kind: 'Pod',
    original: { spec: { volumes: [{ name: '1' }, { name: '1' }, { name: '2', emptyDir: {} }] } },
    patch: { spec: { volumes: [{ name: '1', $patch: 'delete' }] } },
    expected: { spec: { volumes: [{ name: '2', emptyDir: {} }] } },
  },
  {
    name: 'patch order is kept and server-only items interleave by live order',
    kind: 'Pod',
    original: { spec: { containers: [{ name: '1' }, { name: '2', image: 'b' }, { name: '3' }] } },
    patch: { spec: { containers: [{ name: '3', image: 'c' }, { name: '1', image: 'a' }] } },
    expected: { spec: { containers: [{ name: '2', image: 'b' }, { name: '3', image: 'c' }, { name: '1', image: 'a' }] } },
  },
  {
    name: '$setElementOrder may name items absent from the merged list',
    kind: 'Pod',
    original: { spec: { containers: [{ name: '1' }, { name: '3' }] } },
    patch: { spec: { '$setElementOrder/containers': [{ name: '3' }, { name: '2' }, { name: '1' }], containers: [{ name: '3', image: '3' }, { name: '1', image: '1' }] } },
    expected: { spec: { containers: [{ name: '3', image: '3' }, { name: '1', image: '1' }] } },
  },
  {
    name: '$setElementOrder without a patch list only reorders',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] } },
    patch: { spec: { '$setElementOrder/containers': [{ name: 'c' }, { name: 'b' }, { name: 'a' }] } },
    expected: { spec: { containers: [{ name: 'c' }, { name: 'b' }, { name: 'a' }] } },
  },
  {
    name: 'ownerReferences merge by uid',
    kind: 'ReplicaSet',
    original: { metadata: { ownerReferences: [{ uid: 'u1', name: 'a', controller: true }] } },
    patch: { metadata: { ownerReferences: [{ uid: 'u1', controller: false }, { uid: 'u2', name: 'b' }] } },
    expected: { metadata: { ownerReferences: [{ uid: 'u1', name: 'a', controller: false }, { uid: 'u2', name: 'b' }] } },
  },
  {
    name: 'pod status conditions merge by type',
    kind: 'Pod',
    original: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }, { type: 'Initialized', status: 'True' }] } },
    patch: { status: { conditions: [{ type: 'Ready', status: 'True' }] } },
    expected: { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }] } },
  },
  {
    name: 'service ports merge by port',
    kind: 'Service',
    original: { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 8443 }] } },
    patch: { spec: { ports: [{ port: 443, targetPort: 9443 }] } },
    expected: { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 9443 }] } },
  },
  {
    name: 'node addresses merge by type, taints are replaced',
    kind: 'Node',
    original: { spec: { taints: [{ key: 'a', effect: 'NoSchedule' }] }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n' }] } },
    patch: { spec: { taints: [] }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] } },
    expected: { spec: { taints: [] }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n' }] } },
  },
  {
    name: 'StatefulSet template env merges by name; volumeClaimTemplates are replaced',
    kind: 'StatefulSet',
    original: { spec: { volumeClaimTemplates: [{ metadata: { name: 'a' } }], template: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }] } } } },
    patch: { spec: { volumeClaimTemplates: [{ metadata: { name: 'b' } }], template: { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '2' }] }] } } } },
    expected: { spec: { volumeClaimTemplates: [{ metadata: { name: 'b' } }], template: { spec: { containers: [{ name: 'c', env: [{ name: 'B', value: '2' }, { name: 'A', value: '1' }] }] } } } },
  },
  {
    name: 'DaemonSet template containers merge; updateStrategy merges as a plain map',
    kind: 'DaemonSet',
    original: { spec: { updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }, template: { spec: { containers: [{ name: 'c', image: '1' }] } } } },
    patch: { spec: { updateStrategy: { type: 'OnDelete' }, template: { spec: { containers: [{ name: 'c', image: '2' }] } } } },
    expected: { spec: { updateStrategy: { type: 'OnDelete', rollingUpdate: { maxUnavailable: 1 } }, template: { spec: { containers: [{ name: 'c', image: '2' }] } } } },
  },
  {
    name: 'a kind without metadata of its own still merges finalizers and replaces other lists',
    kind: 'Lease',
    original: { metadata: { finalizers: ['a'] }, spec: { holders: ['x'] } },
    patch: { metadata: { finalizers: ['b'] }, spec: { holders: ['y'] } },
    expected: { metadata: { finalizers: ['b', 'a'] }, spec: { holders: ['y'] } },
  },
  {
    name: 'new values are taken with directives stripped',
    kind: 'Pod',
    original: { spec: { containers: [{ name: 'c' }] } },
    patch: { spec: { volumes: [{ name: 'v', $retainKeys: ['name', 'emptyDir'], emptyDir: {} }, { name: 'gone', $patch: 'delete' }], containers: [{ name: 'c', env: [{ name: 'A', value: '1', $patch: 'merge' }] }] } },
    expected: { spec: { containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }], volumes: [{ name: 'v', emptyDir: {} }] } },
  },
  {
    name: 'a value of a different JSON type replaces the original',
    kind: 'ConfigMap',
    original: { data: { a: '1' }, x: [1] },
    patch: { data: ['weird'], x: { y: 1 } },
    expected: { data: ['weird'], x: { y: 1 } },
  },
  {
    name: 'empty patch is the identity',
    kind: 'Deployment',
    original: deploy({ containers: [{ name: 'c' }] }),
    patch: {},
    expected: deploy({ containers: [{ name: 'c' }] }),
  },
];

describe('strategicMergePatch', () => {
  for (const c of cases) {
    it(c.name, () => {
      const original = structuredClone(c.original);
      const patch = structuredClone(c.patch);
      assert.deepEqual(strategicMergePatch(original, patch, c.kind), c.expected);
      // Pure: neither input changed.
      assert.deepEqual(original, c.original);
      assert.deepEqual(patch, c.patch);
    });
  }

  it('shares no structure with the original', () => {
    const original = deploy({ containers: [{ name: 'c', env: [{ name: 'A', value: '1' }] }] });
    const out = strategicMergePatch(original, { metadata: { labels: { a: 'b' } } }, 'Deployment');
    (podSpecOf(out).containers as J[]).push({ name: 'x' });
    assert.equal((podSpecOf(original).containers as J[]).length, 1);
  });

  it('ignores __proto__ keys instead of changing prototypes', () => {
    const out = strategicMergePatch({ metadata: {} }, JSON.parse('{"metadata":{"__proto__":{"polluted":1}},"__proto__":{"x":1}}'), 'Pod') as J;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.equal(Object.getPrototypeOf(out.metadata), Object.prototype);
    assert.equal(({} as J).polluted, undefined);
  });

  const errors: Array<{ name: string; kind: string; original: J; patch: unknown; match: RegExp }> = [
    { name: 'patch not an object', kind: 'Pod', original: {}, patch: [1], match: /JSON object/ },
    { name: 'unknown $patch on a map', kind: 'Pod', original: { metadata: {} }, patch: { metadata: { $patch: 'bogus' } }, match: /Unknown patch type: bogus/ },
    { name: 'unknown $patch in a list', kind: 'Pod', original: { spec: { containers: [{ name: 'a' }] } }, patch: { spec: { containers: [{ name: 'a', $patch: 'bogus' }] } }, match: /Unknown patch type/ },
    { name: '$patch: merge in a list', kind: 'Pod', original: { spec: { containers: [{ name: 'a' }] } }, patch: { spec: { containers: [{ $patch: 'merge' }] } }, match: /merging lists cannot yet be specified/ },
    { name: 'element without its merge key', kind: 'Pod', original: { spec: { containers: [{ name: 'a' }] } }, patch: { spec: { containers: [{ image: 'x' }] } }, match: /does not contain declared merge key: name/ },
    { name: 'delete element without its merge key', kind: 'Pod', original: { spec: { containers: [{ name: 'a' }] } }, patch: { spec: { containers: [{ $patch: 'delete' }] } }, match: /merge key/ },
    { name: '$retainKeys not a list', kind: 'Pod', original: { spec: {} }, patch: { spec: { $retainKeys: 'x' } }, match: /retainKeys/ },
    { name: 'patch key missing from $retainKeys', kind: 'Deployment', original: { spec: { strategy: {} } }, patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: { maxSurge: 1 } } } }, match: /retainKeys/ },
    { name: '$setElementOrder not a list', kind: 'Pod', original: { spec: {} }, patch: { spec: { '$setElementOrder/containers': 'x' } }, match: /setElementOrder/ },
    { name: '$setElementOrder disagreeing with the patch list', kind: 'Pod', original: { spec: { containers: [{ name: '1' }, { name: '3' }, { name: '2' }] } }, patch: { spec: { '$setElementOrder/containers': [{ name: '1' }, { name: '2' }, { name: '3' }], containers: [{ name: '3', image: 'x' }, { name: '1', image: 'y' }] } }, match: /doesn't match/ },
    { name: '$deleteFromPrimitiveList not a list', kind: 'Pod', original: { metadata: { finalizers: ['a'] } }, patch: { metadata: { '$deleteFromPrimitiveList/finalizers': 'a' } }, match: /primitive list/ },
    { name: 'lists of lists', kind: 'Pod', original: { metadata: { finalizers: [['a']] } }, patch: { metadata: { finalizers: [['b']] } }, match: /lists of lists/ },
  ];
  for (const e of errors) {
    it(`rejects ${e.name} with BadRequest`, () => {
      assert.throws(() => strategicMergePatch(e.original, e.patch, e.kind), (err: unknown) => {
        assert.ok(isTriremeError(err, 'BadRequest'), String(err));
        assert.match(err.message, e.match);
        return true;
      });
    });
  }
});
