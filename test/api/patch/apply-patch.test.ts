import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, mergePatch, PATCH_CONTENT_TYPES, patchMediaType } from '../../../src/api/patch/apply-patch.js';
import { isTriremeError, type ErrorCode } from '../../../src/errors.js';
import type { KubeObject } from '../../../src/api/object.js';

function deployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' }, annotations: { a: '1' } },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

function throwsCode(fn: () => unknown, code: ErrorCode, match?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTriremeError(err, code), `expected ${code}, got ${String(err)}`);
    if (match) assert.match(err.message, match);
    return true;
  });
}

describe('applyPatch: JSON patch', () => {
  const ct = 'application/json-patch+json';

  it('applies add / replace / remove / test operations without touching the original', () => {
    const orig = deployment();
    const before = structuredClone(orig);
    const out = applyPatch(ct, orig, JSON.stringify([
      { op: 'test', path: '/spec/replicas', value: 2 },
      { op: 'replace', path: '/spec/replicas', value: 5 },
      { op: 'add', path: '/metadata/labels/tier', value: 'front' },
      { op: 'remove', path: '/metadata/annotations/a' },
      { op: 'add', path: '/spec/template/spec/containers/0/args', value: ['-g'] },
    ]), 'Deployment');
    assert.equal((out.spec as { replicas: number }).replicas, 5);
    assert.deepEqual(out.metadata?.labels, { app: 'web', tier: 'front' });
    assert.deepEqual(out.metadata?.annotations, {});
    assert.deepEqual(orig, before);
  });

  it('rollout undo: replaces /spec/template', () => {
    const template = { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:0', resources: {} }] } };
    const out = applyPatch(ct, deployment(), JSON.stringify([{ op: 'replace', path: '/spec/template', value: template }]), 'Deployment');
    assert.deepEqual((out.spec as { template: unknown }).template, template);
  });

  it('a failed test operation is 422 Invalid (as the apiserver answers)', () => {
    throwsCode(() => applyPatch(ct, deployment(), JSON.stringify([{ op: 'test', path: '/spec/replicas', value: 3 }]), 'Deployment'), 'Invalid', /Test operation failed/);
  });

  it('an operation on a missing path is 422 Invalid', () => {
    throwsCode(() => applyPatch(ct, deployment(), JSON.stringify([{ op: 'remove', path: '/metadata/nope' }]), 'Deployment'), 'Invalid');
    throwsCode(() => applyPatch(ct, deployment(), JSON.stringify([{ op: 'add', path: '/a/b/c', value: 1 }]), 'Deployment'), 'Invalid');
  });

  it('an unknown op is 422 Invalid', () => {
    throwsCode(() => applyPatch(ct, deployment(), JSON.stringify([{ op: 'frob', path: '/spec' }]), 'Deployment'), 'Invalid');
  });

  it('an undecodable document is 400 BadRequest', () => {
    throwsCode(() => applyPatch(ct, deployment(), '[{', 'Deployment'), 'BadRequest', /error decoding JSON patch/);
    throwsCode(() => applyPatch(ct, deployment(), '{"op":"add"}', 'Deployment'), 'BadRequest');
    throwsCode(() => applyPatch(ct, deployment(), '[1]', 'Deployment'), 'BadRequest');
  });

  it('replacing the whole document with a non-object is BadRequest', () => {
    throwsCode(() => applyPatch(ct, deployment(), JSON.stringify([{ op: 'replace', path: '', value: 3 }]), 'Deployment'), 'BadRequest');
  });

  it('more than 10000 operations is RequestEntityTooLarge', () => {
    const ops = Array.from({ length: 10001 }, () => ({ op: 'test', path: '/kind', value: 'Deployment' }));
    throwsCode(() => applyPatch(ct, deployment(), JSON.stringify(ops), 'Deployment'), 'RequestEntityTooLarge');
  });
});

describe('applyPatch: merge patch', () => {
  it('merges maps, deletes with null, replaces lists; ignores media type parameters', () => {
    const out = applyPatch('Application/Merge-Patch+JSON; charset=utf-8', deployment(), JSON.stringify({
      metadata: { labels: { app: null, x: 'y' } },
      spec: { replicas: 3, template: { spec: { containers: [{ name: 'other' }] } } },
    }), 'Deployment');
    assert.deepEqual(out.metadata?.labels, { x: 'y' });
    assert.equal((out.spec as { replicas: number }).replicas, 3);
    assert.deepEqual((out.spec as { template: { spec: unknown } }).template.spec, { containers: [{ name: 'other' }] });
  });

  it('scale: {"spec":{"replicas":N}}', () => {
    const scale: KubeObject = { kind: 'Scale', apiVersion: 'autoscaling/v1', metadata: { name: 'web' }, spec: { replicas: 1 }, status: { replicas: 1 } };
    const out = applyPatch('application/merge-patch+json', scale, '{"spec":{"replicas":4}}', 'Scale');
    assert.deepEqual(out.spec, { replicas: 4 });
  });

  it('rejects bad JSON and non-object bodies', () => {
    throwsCode(() => applyPatch('application/merge-patch+json', deployment(), '{', 'Deployment'), 'BadRequest');
    throwsCode(() => applyPatch('application/merge-patch+json', deployment(), '[]', 'Deployment'), 'BadRequest');
  });

  it('mergePatch ignores __proto__ keys', () => {
    const out = mergePatch({ a: 1 }, JSON.parse('{"__proto__":{"x":1}}')) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(out, { a: 1 });
  });

  it('mergePatch follows RFC 7386 examples', () => {
    assert.deepEqual(mergePatch({ a: 'b' }, { a: 'c' }), { a: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { b: 'c' }), { a: 'b', b: 'c' });
    assert.deepEqual(mergePatch({ a: 'b' }, { a: null }), {});
    assert.deepEqual(mergePatch({ a: [{ b: 'c' }] }, { a: [1] }), { a: [1] });
    assert.deepEqual(mergePatch({ e: null }, { a: 1 }), { e: null, a: 1 });
    assert.deepEqual(mergePatch([1, 2], { a: 'b', c: null }), { a: 'b' });
    assert.deepEqual(mergePatch({}, { a: { bb: { ccc: null } } }), { a: { bb: {} } });
  });
});

describe('applyPatch: strategic merge patch', () => {
  it('kubectl set image merges the container by name', () => {
    const out = applyPatch('application/strategic-merge-patch+json', deployment(),
      JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } } }), 'Deployment');
    const c = (out.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } }).template.spec.containers;
    assert.deepEqual(c, [{ name: 'nginx', image: 'nginx:2', ports: [{ containerPort: 80 }] }]);
  });

  it('rollout restart adds a template annotation', () => {
    const out = applyPatch('application/strategic-merge-patch+json', deployment(),
      JSON.stringify({ spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } } } } }), 'Deployment');
    const meta = (out.spec as { template: { metadata: unknown } }).template.metadata;
    assert.deepEqual(meta, { labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': 'now' } });
  });

  it('malformed directives and bodies are BadRequest', () => {
    throwsCode(() => applyPatch('application/strategic-merge-patch+json', deployment(), '{"metadata":{"$patch":"x"}}', 'Deployment'), 'BadRequest');
    throwsCode(() => applyPatch('application/strategic-merge-patch+json', deployment(), 'nope', 'Deployment'), 'BadRequest');
    throwsCode(() => applyPatch('application/strategic-merge-patch+json', deployment(), '"str"', 'Deployment'), 'BadRequest');
  });
});

describe('applyPatch: server-side apply (simplified)', () => {
  const ct = 'application/apply-patch+yaml';

  it('merges a YAML configuration without removing fields it does not mention', () => {
    const yaml = [
      'apiVersion: apps/v1',
      'kind: Deployment',
      'metadata:',
      '  name: web',
      '  labels: {team: a}',
      'spec:',
      '  replicas: 3',
      '  template:',
      '    spec:',
      '      containers:',
      '      - name: sidecar',
      '        image: busybox',
    ].join('\n');
    const out = applyPatch(ct, deployment(), yaml, 'Deployment');
    assert.deepEqual(out.metadata?.labels, { app: 'web', team: 'a' });
    assert.deepEqual(out.metadata?.annotations, { a: '1' });
    const spec = out.spec as { replicas: number; template: { spec: { containers: Array<{ name: string }> } } };
    assert.equal(spec.replicas, 3);
    assert.deepEqual(spec.template.spec.containers.map((c) => c.name).sort(), ['nginx', 'sidecar']);
  });

  it('accepts a JSON body and drops managedFields', () => {
    const out = applyPatch(ct, deployment(), JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', managedFields: [{ manager: 'x' }] }, spec: { replicas: 7 } }), 'Deployment');
    assert.equal((out.spec as { replicas: number }).replicas, 7);
    assert.equal(out.metadata?.managedFields, undefined);
  });

  it('rejects a kind mismatch, bad YAML and non-objects', () => {
    throwsCode(() => applyPatch(ct, deployment(), 'kind: Pod\n', 'Deployment'), 'BadRequest', /kind/);
    throwsCode(() => applyPatch(ct, deployment(), 'a: [1\n', 'Deployment'), 'BadRequest');
    throwsCode(() => applyPatch(ct, deployment(), '- 1\n', 'Deployment'), 'BadRequest');
  });
});

describe('applyPatch: media types', () => {
  it('unknown media types are UnsupportedMediaType', () => {
    throwsCode(() => applyPatch('application/json', deployment(), '{}', 'Deployment'), 'UnsupportedMediaType', /accepted media types include/);
  });

  it('lists the four patch types and normalises media types', () => {
    assert.deepEqual([...PATCH_CONTENT_TYPES].sort(), [
      'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json',
    ]);
    assert.equal(patchMediaType(' Application/JSON-Patch+json ; charset=UTF-8'), 'application/json-patch+json');
  });
});
