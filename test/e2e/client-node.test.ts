// End-to-end: the official JavaScript client (`@kubernetes/client-node` 2.x) against a real
// `trireme server`, configured only from the kubeconfig the server writes. Covers typed CRUD,
// optimistic concurrency (409 on a stale resourceVersion), watch resumption from a
// resourceVersion, the informer (list + watch) and chunked lists (limit/continue).
// Does not cover: exec/attach/port-forward, logs, or anything needing a running pod.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { KubeConfig, CoreV1Api, AppsV1Api, Watch, makeInformer, ApiException, PatchStrategy, setHeaderOptions, type V1ConfigMap, type V1Deployment, type V1DeploymentSpec } from '@kubernetes/client-node';
import { startServer, killAll, waitFor, sleep, type ServerHandle } from './harness.js';

const NS = 'client-node';
const STEP = { timeout: 60_000 };

interface StatusBody {
  kind?: string;
  apiVersion?: string;
  status?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** Asserts that `p` rejects with an ApiException carrying a Kubernetes Failure Status. */
async function rejectsWithStatus(p: Promise<unknown>, code: number, reason: string): Promise<StatusBody> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected ApiException, got ${String(e)}`);
    assert.equal(e.code, code, `HTTP code (body ${JSON.stringify(e.body)})`);
    const raw: unknown = e.body;
    const body = (typeof raw === 'string' ? JSON.parse(raw) : raw) as StatusBody;
    assert.equal(body.kind, 'Status');
    assert.equal(body.apiVersion, 'v1');
    assert.equal(body.status, 'Failure');
    assert.equal(body.code, code);
    assert.equal(body.reason, reason);
    return body;
  }
  assert.fail(`expected a ${code} ${reason}, but the call succeeded`);
}

function rvOf(o: { metadata?: { resourceVersion?: string } }): string {
  const rv = o.metadata?.resourceVersion;
  assert.ok(rv !== undefined && rv !== '', 'object has no resourceVersion');
  return rv;
}

describe('@kubernetes/client-node against trireme', { timeout: 10 * 60_000 }, () => {
  let srv: ServerHandle;
  let kc: KubeConfig;
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const step = (name: string, fn: () => Promise<void>): void => {
    it(name, STEP, () => srv.guard(fn));
  };

  before(async () => {
    srv = await startServer({ host: '127.0.0.3' });
    kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
  });
  after(async () => {
    await srv?.dispose();
    killAll();
  });

  /**
   * Read, change, PUT — again on 409: the deployment controller writes status concurrently, so a
   * PUT of a copy read a moment ago may lose the compare-and-swap, as with any Kubernetes server.
   */
  async function replaceDeployment(name: string, change: (d: V1Deployment) => void): Promise<V1Deployment> {
    for (let attempt = 0; ; attempt++) {
      const read = await apps.readNamespacedDeployment({ name, namespace: NS });
      change(read);
      try {
        return await apps.replaceNamespacedDeployment({ name, namespace: NS, body: read });
      } catch (e) {
        if (!(e instanceof ApiException && e.code === 409) || attempt >= 5) throw e;
      }
    }
  }

  step('create a namespace', async () => {
    const ns = await core.createNamespace({ body: { metadata: { name: NS } } });
    assert.equal(ns.metadata?.name, NS);
    const got = await core.readNamespace({ name: NS });
    assert.equal(got.status?.phase, 'Active');
  });

  step('ConfigMap CRUD', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'cm1', labels: { a: 'b' } }, data: { k: 'v' } } });
    assert.equal(created.metadata?.name, 'cm1');
    assert.ok(created.metadata?.uid, 'no uid');
    assert.ok(created.metadata?.creationTimestamp, 'no creationTimestamp');

    const read = await core.readNamespacedConfigMap({ name: 'cm1', namespace: NS });
    assert.deepEqual(read.data, { k: 'v' });
    assert.equal(rvOf(read), rvOf(created));

    read.data = { k: 'v2', extra: 'x' };
    const replaced = await core.replaceNamespacedConfigMap({ name: 'cm1', namespace: NS, body: read });
    assert.deepEqual(replaced.data, { k: 'v2', extra: 'x' });
    assert.notEqual(rvOf(replaced), rvOf(created));

    // client-node's default patch type is a JSON patch.
    const jp = await core.patchNamespacedConfigMap({ name: 'cm1', namespace: NS, body: [{ op: 'remove', path: '/data/extra' }] });
    assert.deepEqual(jp.data, { k: 'v2' });
    const mp = await core.patchNamespacedConfigMap({ name: 'cm1', namespace: NS, body: { metadata: { labels: { c: 'd' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    assert.deepEqual(mp.metadata?.labels, { a: 'b', c: 'd' });

    const list = await core.listNamespacedConfigMap({ namespace: NS });
    assert.ok(list.items.some((c) => c.metadata?.name === 'cm1'));

    await core.deleteNamespacedConfigMap({ name: 'cm1', namespace: NS });
    await rejectsWithStatus(core.readNamespacedConfigMap({ name: 'cm1', namespace: NS }), 404, 'NotFound');
  });

  step('Deployment CRUD', async () => {
    const body: V1Deployment = {
      metadata: { name: 'dep1' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'dep1' } },
        template: { metadata: { labels: { app: 'dep1' } }, spec: { containers: [{ name: 'c', image: 'nginx:1.25', env: [{ name: 'A', value: '1' }] }] } },
      },
    };
    const created = await apps.createNamespacedDeployment({ namespace: NS, body });
    assert.equal(created.spec?.replicas, 1);
    assert.equal(created.metadata?.generation, 1);

    const replaced = await replaceDeployment('dep1', (d) => { d.spec!.replicas = 2; });
    assert.equal(replaced.spec?.replicas, 2);

    // Strategic merge: containers merge by name, env by name.
    const patch = { spec: { template: { spec: { containers: [{ name: 'c', image: 'nginx:1.26', env: [{ name: 'B', value: '2' }] }] } } } };
    const patched = await apps.patchNamespacedDeployment({ name: 'dep1', namespace: NS, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch));
    const c = patched.spec?.template.spec?.containers[0];
    assert.equal(c?.image, 'nginx:1.26');
    assert.deepEqual(c?.env?.map((e) => e.name).sort(), ['A', 'B']);

    const scale = await apps.readNamespacedDeploymentScale({ name: 'dep1', namespace: NS });
    assert.equal(scale.spec?.replicas, 2);

    await apps.deleteNamespacedDeployment({ name: 'dep1', namespace: NS });
    await waitFor('dep1 to be gone', async () => {
      try {
        await apps.readNamespacedDeployment({ name: 'dep1', namespace: NS });
        return undefined;
      } catch (e) {
        return e instanceof ApiException && e.code === 404 ? true : undefined;
      }
    }, 20_000);
  });

  step('a Deployment spec change bumps metadata.generation, a metadata change does not', async () => {
    const spec: V1DeploymentSpec = { replicas: 1, selector: { matchLabels: { app: 'gen' } }, template: { metadata: { labels: { app: 'gen' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } };
    const created = await apps.createNamespacedDeployment({ namespace: NS, body: { metadata: { name: 'gen' }, spec } });
    assert.equal(created.metadata?.generation, 1);
    const put = await replaceDeployment('gen', (d) => { d.spec = { ...spec, replicas: 2 }; });
    assert.equal(put.metadata?.generation, 2, 'PUT of a new spec');
    const merge = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const patched = await apps.patchNamespacedDeployment({ name: 'gen', namespace: NS, body: { spec: { replicas: 3 } } }, merge);
    assert.equal(patched.metadata?.generation, 3, 'PATCH of the spec');
    const labelled = await apps.patchNamespacedDeployment({ name: 'gen', namespace: NS, body: { metadata: { labels: { x: 'y' } } } }, merge);
    assert.equal(labelled.metadata?.generation, 3, 'a label change is not a spec change');
  });

  step('a stale update gets 409 Conflict and changes nothing', async () => {
    const v1 = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'stale' }, data: { n: '1' } } });
    const fresh: V1ConfigMap = { ...v1, data: { n: '2' } };
    const v2 = await core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: fresh });
    const old: V1ConfigMap = { ...v1, data: { n: '3' } };
    await rejectsWithStatus(core.replaceNamespacedConfigMap({ name: 'stale', namespace: NS, body: old }), 409, 'Conflict');
    const now = await core.readNamespacedConfigMap({ name: 'stale', namespace: NS });
    assert.deepEqual(now.data, { n: '2' });
    assert.equal(rvOf(now), rvOf(v2));
  });

  step('a watch resumed from a resourceVersion gets exactly the later events', async () => {
    const labels = { suite: 'watch' };
    const w1 = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w1', labels }, data: { x: '1' } } });
    const from = rvOf(w1);
    const w2 = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'w2', labels }, data: { x: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'w2', namespace: NS, body: { ...w2, data: { x: '2' } } });
    await core.deleteNamespacedConfigMap({ name: 'w1', namespace: NS });

    const events: { type: string; name: string; rv: string; x?: string }[] = [];
    let ended: unknown;
    const ctl = await new Watch(kc).watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { resourceVersion: from, labelSelector: 'suite=watch' },
      (type, obj: V1ConfigMap) => events.push({ type, name: obj.metadata?.name ?? '', rv: obj.metadata?.resourceVersion ?? '', x: obj.data?.x }),
      (err) => (ended = err ?? 'ended'),
    );
    try {
      await waitFor('three watch events', async () => (events.length >= 3 ? true : ended !== undefined ? Promise.reject(new Error(`watch ended: ${String(ended)}`)) : undefined), 15_000, 50);
      await sleep(1_000); // anything extra (a replay of w1's ADDED, a duplicate) would arrive now
      assert.deepEqual(
        events.map((e) => [e.type, e.name, e.x]),
        [
          ['ADDED', 'w2', '1'],
          ['MODIFIED', 'w2', '2'],
          ['DELETED', 'w1', '1'],
        ],
      );
      const rvs = events.map((e) => BigInt(e.rv));
      for (let i = 1; i < rvs.length; i++) assert.ok((rvs[i] ?? 0n) > (rvs[i - 1] ?? 0n), `event resourceVersions not increasing: ${events.map((e) => e.rv).join(',')}`);
      assert.ok((rvs[0] ?? 0n) > BigInt(from));
    } finally {
      ctl.abort();
    }
  });

  step('an informer sees add, update and delete', async () => {
    const path = `/api/v1/namespaces/${NS}/configmaps`;
    const informer = makeInformer<V1ConfigMap>(kc, path, () => core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'suite=informer' }), 'suite=informer');
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(`add ${o.metadata?.name} ${o.data?.v}`));
    informer.on('update', (o) => seen.push(`update ${o.metadata?.name} ${o.data?.v}`));
    informer.on('delete', (o) => seen.push(`delete ${o.metadata?.name}`));
    informer.on('error', (e) => seen.push(`error ${String(e)}`));
    await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'pre', labels: { suite: 'informer' } }, data: { v: '0' } } });
    await informer.start();
    try {
      await waitFor('the informer to list pre', async () => (informer.get('pre', NS) !== undefined ? true : undefined), 10_000, 50);
      const inf = await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'inf', labels: { suite: 'informer' } }, data: { v: '1' } } });
      await waitFor('add inf', async () => (seen.includes('add inf 1') ? true : undefined), 15_000, 50);
      await core.replaceNamespacedConfigMap({ name: 'inf', namespace: NS, body: { ...inf, data: { v: '2' } } });
      await waitFor('update inf', async () => (seen.includes('update inf 2') ? true : undefined), 15_000, 50);
      await core.deleteNamespacedConfigMap({ name: 'inf', namespace: NS });
      await waitFor('delete inf', async () => (seen.includes('delete inf') ? true : undefined), 15_000, 50);
      assert.equal(informer.get('inf', NS), undefined, 'deleted object still in the informer cache');
      assert.equal(informer.get('pre', NS)?.data?.v, '0');
      assert.deepEqual(seen, ['add pre 0', 'add inf 1', 'update inf 2', 'delete inf']);
    } finally {
      await informer.stop();
    }
  });

  /** Lists configmaps labelled suite=<suite> in pages of 10; `between` runs after page one. */
  async function pageThrough(suite: string, between?: () => Promise<void>): Promise<string[][]> {
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: `suite=${suite}`, limit: 10, _continue: token });
      pages.push(page.items.map((c) => c.metadata?.name ?? ''));
      token = page.metadata?._continue === '' ? undefined : page.metadata?._continue;
      if (pages.length === 1 && between !== undefined) await between();
      assert.ok(pages.length <= 5, 'too many pages: continue tokens do not advance');
    } while (token !== undefined);
    return pages;
  }

  async function create25(suite: string): Promise<string[]> {
    const names = Array.from({ length: 25 }, (_, i) => `${suite}-${String(i).padStart(2, '0')}`);
    for (const name of names) {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name, labels: { suite } }, data: { i: name } } });
    }
    return names;
  }

  step('list with limit and continue pages through 25 objects', async () => {
    const names = await create25('paging');
    const pages = await pageThrough('paging');
    assert.deepEqual(pages.map((p) => p.length), [10, 10, 5]);
    assert.deepEqual(pages.flat(), names, 'pages must list every object once, in name order');
  });

  step('continued pages are a consistent snapshot of the first page', async () => {
    const names = await create25('snapshot');
    // Changes after the first page must not show up in later pages (Kubernetes serves the
    // continuation at the first page's resourceVersion).
    const pages = await pageThrough('snapshot', async () => {
      await core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'snapshot-zz-late', labels: { suite: 'snapshot' } } } });
      await core.deleteNamespacedConfigMap({ name: 'snapshot-24', namespace: NS });
    });
    assert.deepEqual(pages.flat(), names, 'later pages must show the snapshot of the first page');
    const all = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'suite=snapshot' });
    assert.equal(all.items.length, 25);
  });
});
