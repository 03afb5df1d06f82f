// The restore drill's cluster contents: 200 objects of mixed kinds (Namespaces, ConfigMaps,
// Secrets, Services, ServiceAccounts, Leases), all labelled drill=1, written with kubectl apply;
// and a dump of them (sorted, whole objects) to compare a restored cluster with the original.
// None of these kinds is changed by a controller after its creation, so the dump taken before a
// snapshot must equal the restored cluster's exactly (uid, resourceVersion, every field).
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { show } from '../../e2e/harness.js';
import type { KubectlResult } from '../../e2e/harness/kubectl.js';

export const DRILL_KINDS = 'namespaces,configmaps,secrets,services,serviceaccounts,leases';

interface Kubectl {
  kubectl(args: string[]): Promise<KubectlResult>;
  scratch: string;
}

/** 10 Namespaces, 70 ConfigMaps, 40 Secrets, 30 Services, 25 ServiceAccounts, 25 Leases. */
export function drillObjects(): object[] {
  const labels = { drill: '1' };
  const ns = (i: number): string => `drill-${i % 10}`;
  const out: object[] = [];
  for (let i = 0; i < 10; i++) out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `drill-${i}`, labels } });
  for (let i = 0; i < 70; i++) out.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, namespace: ns(i), labels }, data: { index: String(i), text: 'x'.repeat(i * 7) } });
  for (let i = 0; i < 40; i++) out.push({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${i}`, namespace: ns(i), labels }, type: 'Opaque', stringData: { password: `p-${i}` } });
  for (let i = 0; i < 30; i++) out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}`, namespace: ns(i), labels }, spec: { selector: { app: `a${i}` }, ports: [{ port: 80 + i, targetPort: 8080 }] } });
  for (let i = 0; i < 25; i++) out.push({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: `sa-${i}`, namespace: ns(i), labels } });
  for (let i = 0; i < 25; i++) out.push({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: `lease-${i}`, namespace: ns(i), labels }, spec: { holderIdentity: `holder-${i}`, leaseDurationSeconds: 30 + i } });
  return out;
}

/** Objects as one stream of JSON documents, as kubectl create -f reads it. */
export function yamlStream(objects: object[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n');
}

/** Written in files of at most 40 objects (Namespaces first): one kubectl call each stays well inside its timeout on a loaded machine. */
export async function writeDrillObjects(s: Kubectl): Promise<void> {
  const objects = drillObjects();
  const batches = [objects.slice(0, 10)];
  for (let i = 10; i < objects.length; i += 40) batches.push(objects.slice(i, i + 40));
  for (const [i, batch] of batches.entries()) {
    const f = join(s.scratch, `drill-${i}.yaml`);
    await writeFile(f, yamlStream(batch));
    const r = await s.kubectl(['create', '--validate=false', '-f', f]);
    assert.equal(r.code, 0, show(r));
  }
}

export interface Dumped {
  key: string;
  object: Record<string, unknown>;
}

/** Every drill object, whole, sorted by kind/namespace/name. */
export async function dumpDrill(s: Kubectl): Promise<Dumped[]> {
  const r = await s.kubectl(['get', DRILL_KINDS, '-A', '-l', 'drill=1', '-o', 'json']);
  assert.equal(r.code, 0, show(r));
  const items = (JSON.parse(r.stdout) as { items: Record<string, unknown>[] }).items;
  return items.map((o) => {
    const m = o.metadata as { namespace?: string; name: string };
    return { key: `${o.kind as string}/${m.namespace ?? ''}/${m.name}`, object: o };
  }).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** The restored objects equal the original ones, each compared whole. */
export function assertSameObjects(restored: Dumped[], original: Dumped[]): void {
  assert.equal(original.length, 200);
  assert.deepEqual(restored.map((d) => d.key), original.map((d) => d.key));
  for (let i = 0; i < original.length; i++) assert.deepEqual(restored[i]!.object, original[i]!.object, `${original[i]!.key} differs after the restore`);
}

/** The highest resourceVersion among the given objects. */
export function maxResourceVersion(objs: { object: Record<string, unknown> }[]): number {
  return Math.max(...objs.map((d) => Number((d.object.metadata as { resourceVersion: string }).resourceVersion)));
}
