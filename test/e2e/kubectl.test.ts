// End-to-end: the everyday kubectl workflow against a real `trireme server`, with the real
// kubectl binaries — the /usr/bin/kubectl dispatcher (which picks 1.32 from our /version) and
// the 1.30 and 1.33 binaries directly (1.30 sends JSON, 1.32+ send protobuf for `create`).
// Each version gets its own server and a fresh discovery cache per command, so versions cannot
// influence each other. A last suite restarts a server on its data dir and checks persistence.
//
// What it does not cover: pods actually running (the server runs with --disable-agent), logs,
// exec, rollouts — those belong to the agent and controller suites.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { startServer, killAll, fixture, show, sedEditor, waitFor, KUBECTL, kubectlVersioned, type ServerHandle, type KubectlResult, type KubectlOptions } from './harness.js';
import { deps, needs } from '../helpers/require-dep.js';

interface Container {
  name: string;
  image?: string;
  env?: { name: string; value?: string }[];
  ports?: { containerPort: number }[];
}

/** Loose view of the JSON kubectl prints; only the fields the assertions read. */
interface Obj {
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    template?: { spec?: { containers?: Container[] } };
  };
  data?: Record<string, string>;
  items?: Obj[];
}

const STEP = { timeout: 90_000 };

function ok(r: KubectlResult, what = 'kubectl'): KubectlResult {
  assert.equal(r.code, 0, `${what} failed: ${show(r)}`);
  return r;
}

function json(r: KubectlResult): Obj {
  ok(r);
  try {
    return JSON.parse(r.stdout) as Obj;
  } catch (e) {
    assert.fail(`kubectl printed no JSON (${String(e)}): ${show(r)}`);
  }
}

function containerOf(o: Obj): Container {
  const c = o.spec?.template?.spec?.containers?.[0];
  assert.ok(c !== undefined, `no container in ${JSON.stringify(o)}`);
  return c;
}

/** The kubectl scenario of the issue, run with one kubectl binary against its own server. */
function scenario(label: string, bin: string, host: string, expectMinor: string): void {
  const dep = bin === KUBECTL ? deps.kubectl : deps.kubectlVersion(Number(expectMinor));
  describe(`kubectl scenario with ${label}`, { timeout: 15 * 60_000, skip: needs(dep) }, () => {
    let srv: ServerHandle;
    const k = (args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> => srv.kubectl(args, { bin, ...opts });
    const step = (name: string, fn: () => Promise<void>): void => {
      it(name, STEP, () => srv.guard(fn));
    };

    before(async () => {
      srv = await startServer({ host });
    });
    after(async () => {
      await srv?.dispose();
      killAll();
    });

    step('version: the server reports 1.32 and the expected kubectl talks to it', async () => {
      const v = json(await k(['version', '-o', 'json'])) as unknown as { serverVersion?: { major: string; minor: string; gitVersion: string } };
      assert.equal(v.serverVersion?.major, '1');
      assert.equal(v.serverVersion?.minor, '32');
      assert.match(v.serverVersion?.gitVersion ?? '', /^v1\.32\./);
      // The dispatcher answers `version` itself, so the client that really ran is told by the
      // User-Agent of an ordinary request (`kubectl.1.30/v1.30.13 …` for a versioned binary).
      const r = ok(await k(['get', 'ns', 'default', '-v=8']));
      assert.match(r.stderr, new RegExp(`User-Agent: kubectl[.0-9]*/v1\\.${expectMinor}\\.`), 'kubectl version actually used');
    });

    step('create namespace shop', async () => {
      const r = ok(await k(['create', 'namespace', 'shop']));
      assert.match(r.stdout, /namespace\/shop created/);
    });

    step('apply -f app.yaml creates all five objects', async () => {
      const r = ok(await k(['apply', '-f', fixture('app.yaml')]));
      for (const line of ['deployment.apps/web created', 'service/web created', 'configmap/web-config created', 'secret/web-secret created', 'pod/lonely created']) {
        assert.ok(r.stdout.includes(line), `missing "${line}": ${show(r)}`);
      }
    });

    step('get deploy,svc,cm -A -o wide shows the familiar columns', async () => {
      const r = ok(await k(['get', 'deploy,svc,cm', '-A', '-o', 'wide']));
      const out = r.stdout;
      assert.match(out, /^NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\s+CONTAINERS\s+IMAGES\s+SELECTOR\s*$/m, out);
      assert.match(out, /^shop\s+deployment\.apps\/web\s+\d+\/2\s+\d+\s+\d+\s+\S+\s+web\s+nginx:1\.25\s+app=web\s*$/m, out);
      assert.match(out, /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR\s*$/m, out);
      assert.match(out, /^shop\s+service\/web\s+ClusterIP\s+\d+\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP\s+\S+\s+app=web\s*$/m, out);
      assert.match(out, /^NAMESPACE\s+NAME\s+DATA\s+AGE\s*$/m, out);
      assert.match(out, /^shop\s+configmap\/web-config\s+2\s+\S+\s*$/m, out);
    });

    step('apply -f app-changed.yaml: strategic merge patch of image, env and labels', async () => {
      const r = ok(await k(['apply', '-f', fixture('app-changed.yaml')]));
      assert.match(r.stdout, /deployment\.apps\/web configured/, show(r));
      assert.match(r.stdout, /configmap\/web-config unchanged/, show(r));
      const d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      const c = containerOf(d);
      assert.equal(c.image, 'nginx:1.26');
      // Merged by name, in the file's order: the existing variable stays, the new one follows.
      assert.deepEqual(c.env?.map((e) => [e.name, e.value]), [['MODE', 'prod'], ['LOG_LEVEL', 'debug']]);
      assert.deepEqual(c.ports?.map((p) => p.containerPort), [80], 'ports were lost: the containers list was replaced, not merged');
      assert.equal(d.metadata.labels?.app, 'web');
      assert.equal(d.metadata.labels?.tier, undefined, 'label removed from the file must be removed');
      const last = d.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
      assert.ok(last?.includes('nginx:1.26'), `last-applied-configuration not updated: ${last}`);
    });

    step('scale deploy web --replicas=3', async () => {
      ok(await k(['scale', 'deploy', 'web', '-n', 'shop', '--replicas=3']));
      const r = ok(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}']));
      assert.equal(r.stdout.trim(), '3');
    });

    step('label: add and remove', async () => {
      ok(await k(['label', 'deploy', 'web', '-n', 'shop', 'env=staging']));
      let d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      assert.equal(d.metadata.labels?.env, 'staging');
      ok(await k(['label', 'deploy', 'web', '-n', 'shop', 'env-']));
      d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      assert.equal(d.metadata.labels?.env, undefined);
      assert.equal(d.metadata.labels?.app, 'web');
    });

    step('annotate: add, overwrite and remove', async () => {
      ok(await k(['annotate', 'deploy', 'web', '-n', 'shop', 'note=hello']));
      let d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      assert.equal(d.metadata.annotations?.note, 'hello');
      const again = await k(['annotate', 'deploy', 'web', '-n', 'shop', 'note=bye']);
      assert.notEqual(again.code, 0, 'annotate without --overwrite must refuse to change a value');
      ok(await k(['annotate', '--overwrite', 'deploy', 'web', '-n', 'shop', 'note=bye']));
      d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      assert.equal(d.metadata.annotations?.note, 'bye');
      ok(await k(['annotate', 'deploy', 'web', '-n', 'shop', 'note-']));
      d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      assert.equal(d.metadata.annotations?.note, undefined);
    });

    step('edit with KUBE_EDITOR changes the image', async () => {
      const editor = sedEditor(srv.scratch, 's/nginx:1\\.26/nginx:1.27/');
      const r = ok(await k(['edit', 'deploy', 'web', '-n', 'shop'], { env: { KUBE_EDITOR: editor } }));
      assert.match(r.stdout, /deployment\.apps\/web edited/, show(r));
      const d = json(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'json']));
      assert.equal(containerOf(d).image, 'nginx:1.27');
      assert.equal(d.spec?.replicas, 3, 'edit must not disturb other fields');
    });

    step('get pods -w prints a pod created while watching', async () => {
      const w = srv.kubectlStream(['get', 'pods', '-n', 'shop', '-w'], { bin });
      try {
        await w.waitFor(/^lonely\s+0\/1\s+Pending\b/m);
        const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'watched', namespace: 'shop' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
        ok(await k(['create', '-f', '-'], { input: JSON.stringify(pod) }));
        await w.waitFor(/^watched\s+0\/1\s+Pending\b/m);
      } finally {
        w.kill();
      }
    });

    step('describe deploy, pod and namespace', async () => {
      const d = ok(await k(['describe', 'deploy', 'web', '-n', 'shop'])).stdout;
      assert.match(d, /^Name:\s+web$/m);
      assert.match(d, /^Namespace:\s+shop$/m);
      assert.match(d, /^Replicas:\s+3 desired/m);
      assert.match(d, /Image:\s+nginx:1\.27/);
      const p = ok(await k(['describe', 'pod', 'lonely', '-n', 'shop'])).stdout;
      assert.match(p, /^Name:\s+lonely$/m);
      assert.match(p, /^Status:\s+Pending$/m);
      assert.match(p, /Image:\s+busybox/);
      const n = ok(await k(['describe', 'ns', 'shop'])).stdout;
      assert.match(n, /^Name:\s+shop$/m);
      assert.match(n, /^Status:\s+Active$/m);
    });

    step('get -o yaml, -o json, -o jsonpath', async () => {
      const y = parseYaml(ok(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'yaml'])).stdout) as Obj;
      assert.equal(y.kind, 'Deployment');
      assert.equal(y.metadata.name, 'web');
      const j = json(await k(['get', 'cm', 'web-config', '-n', 'shop', '-o', 'json']));
      assert.equal(j.kind, 'ConfigMap');
      assert.deepEqual(j.data, { greeting: 'hello', colour: 'blue' });
      const s = json(await k(['get', 'secret', 'web-secret', '-n', 'shop', '-o', 'json']));
      assert.equal(s.data?.password, Buffer.from('s3cret').toString('base64'), 'stringData must be stored as base64 data');
      const p = ok(await k(['get', 'deploy', 'web', '-n', 'shop', '-o', 'jsonpath={.spec.replicas}']));
      assert.equal(p.stdout, '3');
    });

    step('delete pod --wait: an unscheduled pod goes at once', async () => {
      const t0 = Date.now();
      const r = ok(await k(['delete', 'pod', 'lonely', '-n', 'shop', '--wait'], { timeoutMs: 30_000 }));
      assert.match(r.stdout, /pod "lonely" deleted/);
      assert.ok(Date.now() - t0 < 20_000, `delete took ${Date.now() - t0} ms`);
      const g = await k(['get', 'pod', 'lonely', '-n', 'shop']);
      assert.notEqual(g.code, 0);
      assert.match(g.stderr, /NotFound|not found/);
    });

    step('explain deployment.spec', async () => {
      const r = ok(await k(['explain', 'deployment.spec']));
      assert.match(r.stdout, /KIND:\s+Deployment/);
      for (const field of ['replicas', 'selector', 'template', 'strategy']) assert.match(r.stdout, new RegExp(`^\\s+${field}\\s`, 'm'), `no ${field} in: ${r.stdout}`);
    });

    step('create deployment d2 --image=nginx', async () => {
      ok(await k(['create', 'deployment', 'd2', '--image=nginx', '-n', 'shop']));
      const d = json(await k(['get', 'deploy', 'd2', '-n', 'shop', '-o', 'json']));
      assert.equal(containerOf(d).image, 'nginx');
      assert.deepEqual(d.spec?.selector?.matchLabels, { app: 'd2' });
      assert.equal(d.spec?.replicas, 1);
    });

    step('create secret generic s2 --from-literal=a=b', async () => {
      ok(await k(['create', 'secret', 'generic', 's2', '--from-literal=a=b', '-n', 'shop']));
      const s = json(await k(['get', 'secret', 's2', '-n', 'shop', '-o', 'json']));
      assert.equal(s.data?.a, Buffer.from('b').toString('base64'));
    });

    step('create configmap c2 --from-literal', async () => {
      ok(await k(['create', 'configmap', 'c2', '--from-literal=k=v', '--from-literal=k2=v2', '-n', 'shop']));
      const c = json(await k(['get', 'cm', 'c2', '-n', 'shop', '-o', 'json']));
      assert.deepEqual(c.data, { k: 'v', k2: 'v2' });
    });

    step('get --raw /api/v1/namespaces', async () => {
      const l = json(await k(['get', '--raw', '/api/v1/namespaces']));
      assert.equal(l.kind, 'NamespaceList');
      assert.ok(l.items?.some((n) => n.metadata.name === 'shop'), JSON.stringify(l));
    });

    step('delete namespace shop: the namespace and everything in it go', async () => {
      ok(await k(['delete', 'namespace', 'shop', '--wait=false']));
      await waitFor(
        'namespace shop to disappear',
        async () => {
          const g = await k(['get', 'ns', 'shop', '-o', 'name']);
          return g.code !== 0 && /NotFound|not found/.test(g.stderr) ? true : undefined;
        },
        60_000,
        1_000,
      );
      const w = await k(['wait', '--for=delete', 'ns/shop', '--timeout=60s']);
      assert.ok(w.code === 0 || /not ?found/i.test(w.stderr), `wait --for=delete: ${show(w)}`);
      for (const path of ['/api/v1/namespaces/shop/pods', '/api/v1/namespaces/shop/services', '/api/v1/namespaces/shop/configmaps', '/api/v1/namespaces/shop/secrets', '/apis/apps/v1/namespaces/shop/deployments', '/apis/apps/v1/namespaces/shop/replicasets']) {
        const l = json(await k(['get', '--raw', path]));
        assert.deepEqual(l.items?.map((i) => i.metadata.name), [], `${path} still holds objects`);
      }
    });
  });
}

scenario('/usr/bin/kubectl (dispatches to 1.32)', KUBECTL, '127.0.0.2', '32');
scenario('kubectl 1.30', kubectlVersioned(30), '127.0.0.2', '30');
scenario('kubectl 1.33', kubectlVersioned(33), '127.0.0.2', '33');

describe('restart on the same data dir keeps every object', { timeout: 5 * 60_000, skip: needs(deps.kubectl) }, () => {
  let srv: ServerHandle;
  before(async () => {
    srv = await startServer({ host: '127.0.0.5' });
  });
  after(async () => {
    await srv?.dispose();
    killAll();
  });

  it('objects survive a restart and resourceVersions keep increasing', { timeout: 180_000 }, () =>
    srv.guard(async () => {
      const k = (args: string[], opts?: KubectlOptions): Promise<KubectlResult> => srv.kubectl(args, opts);
      ok(await k(['create', 'namespace', 'shop']));
      ok(await k(['apply', '-f', fixture('app.yaml')]));
      ok(await k(['create', 'configmap', 'keep', '--from-literal=a=1', '-n', 'shop']));
      const before = new Map<string, Obj>();
      for (const ref of ['ns/shop', 'deploy/web', 'svc/web', 'cm/web-config', 'cm/keep', 'secret/web-secret', 'pod/lonely']) {
        before.set(ref, json(await k(['get', ref, '-n', 'shop', '-o', 'json'])));
      }
      const caBefore = srv.creds().ca;

      const exit = await srv.restart();
      assert.deepEqual(exit, { code: 0, signal: null }, 'SIGTERM must shut the server down cleanly (exit 0)');

      const rv = (o: Obj): bigint => {
        const v = o.metadata.resourceVersion ?? '';
        assert.match(v, /^\d+$/, `resourceVersion ${v} is not a revision number`);
        return BigInt(v);
      };
      let maxBefore = 0n;
      // Controllers may legitimately write status after a restart (deployment, pod), so only
      // objects nobody but us writes must keep their exact resourceVersion.
      const untouched = new Set(['cm/web-config', 'cm/keep', 'secret/web-secret']);
      for (const [ref, old] of before) {
        const now = json(await k(['get', ref, '-n', 'shop', '-o', 'json']));
        assert.equal(now.metadata.uid, old.metadata.uid, `${ref} uid changed across restart`);
        if (untouched.has(ref)) {
          assert.equal(now.metadata.resourceVersion, old.metadata.resourceVersion, `${ref} resourceVersion changed across restart`);
          assert.deepEqual(now.data, old.data, `${ref} data changed across restart`);
        } else {
          assert.ok(rv(now) >= rv(old), `${ref} resourceVersion went back from ${rv(old)} to ${rv(now)}`);
        }
        if (rv(now) > maxBefore) maxBefore = rv(now);
      }
      // Clients hold kubeconfigs that pin the CA: a restart must not mint a new one.
      assert.ok(srv.creds().ca.equals(caBefore), 'the cluster CA changed across restart');

      ok(await k(['label', 'cm', 'keep', '-n', 'shop', 'after=restart']));
      const changed = json(await k(['get', 'cm', 'keep', '-n', 'shop', '-o', 'json']));
      assert.ok(rv(changed) > maxBefore, `update after restart got rv ${rv(changed)}, not above ${maxBefore}`);
      ok(await k(['create', 'configmap', 'fresh', '--from-literal=b=2', '-n', 'shop']));
      const fresh = json(await k(['get', 'cm', 'fresh', '-n', 'shop', '-o', 'json']));
      assert.ok(rv(fresh) > rv(changed), `create after restart got rv ${rv(fresh)}, not above ${rv(changed)}`);
    }),
  );
});
