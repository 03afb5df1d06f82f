import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildDocument, openapiV3Document, openapiV3DocumentPaths, openapiV3Paths, type OpenAPIDocument } from '../../../src/apiserver/openapi/index.js';
import { DEFINITIONS } from '../../../src/apiserver/openapi/definitions.generated.js';
import type { PathItem } from '../../../src/apiserver/openapi/paths.js';

const GV_DOCS = ['api/v1', 'apis/apps/v1', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io/v1', 'apis/events.k8s.io/v1'];

function doc(path: string): OpenAPIDocument {
  const d = openapiV3Document(path);
  assert.ok(d, `no document for ${path}`);
  return JSON.parse(d.body.toString('utf8')) as OpenAPIDocument;
}

function item(d: OpenAPIDocument, path: string): PathItem {
  const p = d.paths[path];
  assert.ok(p, `missing path ${path}`);
  return p;
}

test('the index lists every document with the hash of its body', () => {
  const paths = openapiV3Paths();
  assert.deepEqual(Object.keys(paths).sort(), ['api', 'api/v1', 'apis', 'apis/apps', 'apis/apps/v1', 'apis/coordination.k8s.io', 'apis/coordination.k8s.io/v1', 'apis/discovery.k8s.io', 'apis/discovery.k8s.io/v1', 'apis/events.k8s.io', 'apis/events.k8s.io/v1', 'apis/rbac.authorization.k8s.io', 'apis/rbac.authorization.k8s.io/v1', 'version']);
  assert.deepEqual(Object.keys(paths).sort(), openapiV3DocumentPaths());
  for (const [p, { serverRelativeURL }] of Object.entries(paths)) {
    const d = openapiV3Document(p);
    assert.ok(d);
    const expected = createHash('sha512').update(d.body).digest('hex').toUpperCase();
    assert.equal(d.hash, expected);
    assert.match(d.hash, /^[0-9A-F]{128}$/);
    assert.equal(serverRelativeURL, `/openapi/v3/${p}?hash=${expected}`);
  }
});

test('documents are cached and stable; unknown paths are undefined', () => {
  assert.equal(openapiV3Document('apis/apps/v1'), openapiV3Document('/apis/apps/v1/'));
  assert.equal(JSON.stringify(buildDocument('apis/apps/v1')), openapiV3Document('apis/apps/v1')?.body.toString('utf8'));
  assert.equal(openapiV3Document('apis/batch/v1'), undefined);
  assert.equal(openapiV3Document('apis/apps/v2'), undefined);
  assert.equal(openapiV3Document('nonsense'), undefined);
});

test('every PATCH operation names its kind and takes fieldValidation and the four patch types', () => {
  for (const p of GV_DOCS) {
    const d = doc(p);
    assert.equal(d.openapi, '3.0.0');
    let patches = 0;
    for (const [path, it] of Object.entries(d.paths)) {
      const op = it.patch;
      if (!op) continue;
      patches++;
      assert.ok(op['x-kubernetes-group-version-kind'], `${path} patch has no gvk`);
      assert.ok(op.parameters?.some((q) => q.name === 'fieldValidation' && q.in === 'query'), `${path} patch lacks fieldValidation`);
      assert.deepEqual(Object.keys(op.requestBody?.content ?? {}).sort(), ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
    }
    assert.ok(patches > 0, `${p} has no PATCH operation`);
  }
});

test('every $ref of a document resolves inside it, and served kinds carry their gvk', () => {
  for (const p of [...GV_DOCS, 'api', 'apis', 'apis/apps', 'version']) {
    const d = doc(p);
    const text = JSON.stringify(d);
    for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) {
      assert.ok(d.components.schemas[m[1] ?? ''], `${p}: dangling ref ${m[1]}`);
    }
  }
  const apps = doc('apis/apps/v1').components.schemas;
  assert.deepEqual(apps['io.k8s.api.apps.v1.Deployment']?.['x-kubernetes-group-version-kind'], [{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
  assert.ok(apps['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']);
  assert.ok(apps['io.k8s.api.autoscaling.v1.Scale']);
  assert.equal(apps['io.k8s.api.core.v1.Node'], undefined, 'only reachable definitions');
});

test('apps/v1 has collection, item, all-namespaces, watch, status and scale paths', () => {
  const d = doc('apis/apps/v1');
  const coll = item(d, '/apis/apps/v1/namespaces/{namespace}/deployments');
  assert.equal(coll.get?.operationId, 'listAppsV1NamespacedDeployment');
  assert.equal(coll.post?.operationId, 'createAppsV1NamespacedDeployment');
  assert.equal(coll.delete?.['x-kubernetes-action'], 'deletecollection');
  const one = item(d, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}');
  assert.deepEqual(['get', 'put', 'patch', 'delete'].map((m) => Boolean(one[m as keyof PathItem])), [true, true, true, true]);
  assert.deepEqual(one.parameters?.map((q) => q.name), ['name', 'namespace', 'pretty']);
  assert.ok(item(d, '/apis/apps/v1/deployments').get);
  assert.equal(item(d, '/apis/apps/v1/watch/namespaces/{namespace}/deployments').get?.['x-kubernetes-action'], 'watchlist');
  assert.ok(item(d, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/status').patch);
  const scale = item(d, '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale');
  assert.deepEqual(scale.patch?.['x-kubernetes-group-version-kind'], { group: 'autoscaling', kind: 'Scale', version: 'v1' });
  assert.equal(d.paths['/apis/apps/v1/namespaces/{namespace}/daemonsets/{name}/scale'], undefined);
  assert.ok(item(d, '/apis/apps/v1/').get);
});

test('api/v1 follows resource scope, verbs and subresources', () => {
  const d = doc('api/v1');
  const ns = item(d, '/api/v1/namespaces');
  assert.equal(ns.delete, undefined, 'namespaces have no deletecollection');
  assert.ok(item(d, '/api/v1/namespaces/{name}/finalize').put);
  assert.equal(item(d, '/api/v1/nodes/{name}').patch?.operationId, 'patchCoreV1Node');
  assert.ok(item(d, '/api/v1/namespaces/{namespace}/pods/{name}/log').get);
  assert.ok(item(d, '/api/v1/namespaces/{namespace}/pods/{name}/exec').post);
  assert.ok(item(d, '/api/v1/namespaces/{namespace}/pods/{name}/binding').post);
  assert.ok(item(d, '/api/v1/namespaces/{namespace}/pods/{name}/eviction').post);
  assert.equal(d.paths['/api/v1/watch/nodes'] !== undefined, true);
  assert.equal(d.paths['/api/v1/nodes/{name}/log'], undefined);
});

test('generated definitions map Kubernetes types faithfully', () => {
  const S = DEFINITIONS;
  const container = S['io.k8s.api.core.v1.Container'];
  assert.ok(container?.required?.includes('name'));
  assert.ok(container?.description?.startsWith('A single application container'));
  assert.equal(container?.properties?.ports?.['x-kubernetes-patch-merge-key'], 'containerPort');
  assert.equal(container?.properties?.env?.['x-kubernetes-patch-strategy'], 'merge');
  assert.equal(S['io.k8s.api.core.v1.PodSpec']?.properties?.containers?.['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(S['io.k8s.api.apps.v1.RollingUpdateDeployment']?.properties?.maxSurge?.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString');
  assert.equal(S['io.k8s.apimachinery.pkg.util.intstr.IntOrString']?.['x-kubernetes-int-or-string'], true);
  const meta = S['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']?.properties;
  assert.deepEqual({ type: meta?.generation?.type, format: meta?.generation?.format }, { type: 'integer', format: 'int64' });
  assert.equal(meta?.creationTimestamp?.$ref, '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  assert.deepEqual(meta?.labels?.additionalProperties, { type: 'string' });
  assert.equal(S['io.k8s.apimachinery.pkg.apis.meta.v1.Time']?.format, 'date-time');
  assert.deepEqual(S['io.k8s.api.apps.v1.DeploymentSpec']?.properties?.replicas?.format, 'int32');
  assert.deepEqual(S['io.k8s.api.core.v1.ResourceRequirements']?.properties?.limits?.additionalProperties, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
});

test('the committed definitions match what the generator produces', () => {
  // The compiled test sits in dist/ or .build/<name>/: walk up to the checkout.
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'scripts', 'gen-openapi.mjs')) && dirname(dir) !== dir) dir = dirname(dir);
  const script = join(dir, 'scripts', 'gen-openapi.mjs');
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
