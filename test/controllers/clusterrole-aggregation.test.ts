// The ClusterRole aggregation controller: the pure plan over role sets, and the controller
// against a real in-process API server (the default admin/edit/view roles reconciled at start).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/api/object.js';
import { CLUSTER_ROLES, planAggregation } from '../../src/controllers/clusterrole-aggregation.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { silentLogger } from '../../src/util/log.js';
import { startTestApiServer, type TestApiServer } from '../helpers/api-server.js';
import { waitFor } from './fixtures.js';

type Role = KubeObject & { rules?: unknown[]; aggregationRule?: unknown };

function role(name: string, labels: Record<string, string>, rules: unknown[], selectLabel?: string): Role {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules,
    ...(selectLabel ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectLabel]: 'true' } }] } } : {}),
  };
}

describe('planAggregation (pure)', () => {
  const readPods = { verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] };
  const editPods = { verbs: ['create', 'delete'], apiGroups: [''], resources: ['pods'] };

  it('writes the union of the matching roles, transitively, duplicates dropped, empty lists left out', () => {
    const plan = planAggregation([
      role('top', {}, [], 'to-top'),
      role('mid', { 'to-top': 'true' }, [], 'to-mid'),
      role('a', { 'to-mid': 'true' }, [readPods]),
      role('b', { 'to-mid': 'true' }, [readPods, editPods]),
      role('urls', { 'to-top': 'true' }, [{ verbs: ['get'], nonResourceURLs: ['/healthz'], resources: [] }]),
      role('other', {}, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]),
    ]);
    assert.deepEqual(plan.get('mid'), [readPods, editPods]);
    assert.deepEqual(plan.get('top'), [readPods, editPods, { verbs: ['get'], nonResourceURLs: ['/healthz'] }]);
    assert.equal(plan.has('a'), false, 'a plain role is never written');
    assert.equal(plan.has('other'), false);
  });

  it('leaves a role alone whose stored rules already are the union, and empties one nothing matches', () => {
    const plan = planAggregation([
      role('agg', {}, [readPods], 'to-agg'),
      role('a', { 'to-agg': 'true' }, [readPods]),
      role('lonely', {}, [editPods], 'to-nobody'),
    ]);
    assert.equal(plan.has('agg'), false);
    assert.deepEqual(plan.get('lonely'), []);
  });

  it('cuts a cycle of aggregated roles instead of looping', () => {
    const plan = planAggregation([role('x', { 'to-y': 'true' }, [], 'to-x'), role('y', { 'to-x': 'true' }, [], 'to-y'), role('leaf', { 'to-x': 'true' }, [readPods])]);
    assert.deepEqual(plan.get('x'), [readPods]);
    assert.deepEqual(plan.get('y'), [readPods]);
  });
});

describe('ClusterRole aggregation controller (in-process API server)', () => {
  let api: TestApiServer;
  let cm: { stop(): Promise<void> };

  before(async () => {
    api = await startTestApiServer();
    cm = await startControllerManager(api.client, { logger: silentLogger, workers: 2 });
  });
  after(async () => {
    await cm.stop();
    await api.close();
  });

  const rulesOf = async (name: string): Promise<unknown[]> => (await api.client.get<Role>(CLUSTER_ROLES, undefined, name)).rules ?? [];
  const grants = (rules: unknown[], verb: string, resource: string): boolean =>
    rules.some((r) => { const x = r as { verbs?: string[]; resources?: string[] }; return (x.verbs ?? []).includes(verb) && (x.resources ?? []).includes(resource); });

  it('writes the default admin, edit and view roles their rules (admin ⊇ edit ⊇ view)', async () => {
    const admin = await waitFor(async () => { const r = await rulesOf('admin'); return r.length > 0 ? r : undefined; });
    const view = await waitFor(async () => { const r = await rulesOf('view'); return r.length > 0 ? r : undefined; });
    assert.ok(grants(view, 'list', 'pods'), 'view lists pods');
    assert.ok(!grants(view, 'delete', 'pods'), 'view deletes nothing');
    assert.ok(grants(admin, 'delete', 'pods') && grants(admin, 'list', 'pods'), 'admin holds edit and view');
  });

  it('follows a new aggregate-to-view role in, and out again when it is deleted', async () => {
    const extra = role('widgets-view', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [{ verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }]);
    await api.client.create(CLUSTER_ROLES, undefined, extra);
    await waitFor(async () => (grants(await rulesOf('view'), 'get', 'widgets') ? true : undefined));
    await waitFor(async () => (grants(await rulesOf('admin'), 'get', 'widgets') ? true : undefined));
    await api.client.delete(CLUSTER_ROLES, undefined, 'widgets-view');
    await waitFor(async () => (!grants(await rulesOf('view'), 'get', 'widgets') ? true : undefined));
  });

  it('puts back rules someone overwrote on an aggregated role', async () => {
    const current = await api.client.get<Role>(CLUSTER_ROLES, undefined, 'edit');
    await api.client.update(CLUSTER_ROLES, undefined, { ...current, rules: [{ verbs: ['get'], apiGroups: [''], resources: ['nothing'] }] });
    await waitFor(async () => { const r = await rulesOf('edit'); return grants(r, 'create', 'pods') && !grants(r, 'get', 'nothing') ? true : undefined; });
  });
});
