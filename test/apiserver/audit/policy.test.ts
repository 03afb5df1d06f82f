// Audit policy matching (pure): Kubernetes' rule semantics, first match wins, Metadata by
// default, credentials capped at Metadata; parse errors; the event shape built from a request.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { levelFor, parsePolicy, PolicyError, wantsResponses, type AuditAttributes } from '../../../src/apiserver/audit/policy.js';
import { auditEvent } from '../../../src/apiserver/audit/event.js';

const POLICY = parsePolicy(`
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
  - level: None
    users: ["system:kube-scheduler"]
  - level: None
    nonResourceURLs: ["/healthz*", "/version"]
  - level: RequestResponse
    resources:
      - group: ""
        resources: ["configmaps"]
        resourceNames: ["wanted"]
  - level: Request
    verbs: ["create", "update"]
    namespaces: ["shop"]
  - level: Request
    userGroups: ["dev"]
    resources:
      - group: apps
        resources: ["deployments/*"]
      - group: ""
        resources: ["*/log"]
  - level: RequestResponse
    resources:
      - group: ""
`);

const res = (user: string, verb: string, resource: string, extra: Partial<NonNullable<AuditAttributes['resource']>> = {}, groups: string[] = []): AuditAttributes =>
  ({ user, groups, verb, resource: { group: '', resource, ...extra } });

describe('audit policy', () => {
  it('first matching rule wins', () => {
    assert.equal(levelFor(POLICY, res('system:kube-scheduler', 'create', 'configmaps', { namespace: 'shop', name: 'wanted' })), 'None');
    assert.equal(levelFor(POLICY, res('alice', 'get', 'configmaps', { namespace: 'x', name: 'wanted' })), 'RequestResponse');
    assert.equal(levelFor(POLICY, res('alice', 'create', 'pods', { namespace: 'shop' })), 'Request');
    assert.equal(levelFor(POLICY, res('alice', 'delete', 'pods', { namespace: 'shop' })), 'RequestResponse', 'verb not in the Request rule: falls to the catch-all for group ""');
  });

  it('non-resource URLs: exact or prefix*, never a resource request', () => {
    assert.equal(levelFor(POLICY, { user: 'a', groups: [], verb: 'get', path: '/healthz/etcd' }), 'None');
    assert.equal(levelFor(POLICY, { user: 'a', groups: [], verb: 'get', path: '/version' }), 'None');
    assert.equal(levelFor(POLICY, { user: 'a', groups: [], verb: 'get', path: '/versions' }), 'Metadata', 'no rule: Metadata');
    assert.equal(levelFor(POLICY, { user: 'a', groups: [], verb: 'get', path: '/metrics' }), 'Metadata');
  });

  it('groups, resource/* and */subresource, resourceNames', () => {
    const dev = ['dev', 'system:authenticated'];
    assert.equal(levelFor(POLICY, { user: 'bob', groups: dev, verb: 'get', resource: { group: 'apps', resource: 'deployments', subresource: 'scale', namespace: 'a' } }), 'Request');
    assert.equal(levelFor(POLICY, { user: 'bob', groups: dev, verb: 'get', resource: { group: 'apps', resource: 'deployments', namespace: 'a' } }), 'Request', 'deployments/* matches the resource and its subresources (as Kubernetes)');
    assert.equal(levelFor(POLICY, { user: 'bob', groups: dev, verb: 'get', resource: { group: 'apps', resource: 'statefulsets', namespace: 'a' } }), 'Metadata');
    assert.equal(levelFor(POLICY, res('bob', 'get', 'pods', { subresource: 'log', namespace: 'a' }, dev)), 'Request');
    assert.equal(levelFor(POLICY, res('bob', 'get', 'configmaps', { namespace: 'a', name: 'other' })), 'RequestResponse', 'name not listed: the group-"" catch-all');
  });

  it('namespaces: "" is a cluster-scoped request; a namespaces rule never matches a non-resource path', () => {
    const p = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    namespaces: [""]\n');
    assert.equal(levelFor(p, res('a', 'get', 'nodes', { name: 'n1' })), 'None');
    assert.equal(levelFor(p, res('a', 'get', 'pods', { namespace: 'x' })), 'Metadata');
    assert.equal(levelFor(p, { user: 'a', groups: [], verb: 'get', path: '/api' }), 'Metadata');
  });

  it('Secrets, tokens and non-resource paths are capped at Metadata; None still silences them', () => {
    assert.equal(levelFor(POLICY, res('alice', 'create', 'secrets', { namespace: 'shop' })), 'Metadata');
    assert.equal(levelFor(POLICY, res('alice', 'get', 'secrets', { namespace: 'x', name: 's' })), 'Metadata');
    assert.equal(levelFor(POLICY, res('alice', 'create', 'serviceaccounts', { namespace: 'shop', name: 'd', subresource: 'token' })), 'Metadata');
    assert.equal(levelFor(POLICY, res('system:kube-scheduler', 'get', 'secrets', { namespace: 'x' })), 'None');
    const all = parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: RequestResponse\n');
    assert.equal(levelFor(all, { user: 'a', groups: [], verb: 'post', path: '/trireme/v1/node-credentials' }), 'Metadata');
    assert.equal(levelFor(all, { user: 'a', groups: [], verb: 'create', resource: { group: 'authentication.k8s.io', resource: 'tokenreviews' } }), 'Metadata');
    assert.equal(wantsResponses(all), true);
    assert.equal(wantsResponses(parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\n')), false);
  });

  it('refuses bad policies, naming the rule', () => {
    assert.throws(() => parsePolicy('kind: Policy\napiVersion: v1\n'), PolicyError);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Loud\n'), /rules\[0\]\.level must be one of/);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n    users: alice\n'), /rules\[0\]\.users must be a list of strings/);
    assert.throws(() => parsePolicy('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: None\n  - 3\n'), /rules\[1\] is not an object/);
    assert.throws(() => parsePolicy(': : :'), PolicyError);
  });
});

describe('audit event', () => {
  const base = {
    auditID: 'id', stage: 'ResponseComplete' as const, requestURI: '/api/v1/namespaces/a/configmaps', verb: 'create',
    user: { name: 'alice', groups: ['dev', 'system:authenticated'] }, sourceIPs: ['127.0.0.1'], userAgent: 'kubectl',
    objectRef: { resource: 'configmaps', namespace: 'a', name: 'c', apiGroup: '', apiVersion: 'v1' },
    code: 201, receivedMs: Date.UTC(2026, 0, 1), stageMs: Date.UTC(2026, 0, 1) + 5, latencyMs: 4.56789, requestObject: { kind: 'ConfigMap' }, responseObject: { kind: 'ConfigMap', x: 1 },
  };
  it('Metadata: no bodies; the Kubernetes shape with latency as an annotation', () => {
    const e = auditEvent({ ...base, level: 'Metadata' })!;
    assert.equal(e.apiVersion, 'audit.k8s.io/v1');
    assert.deepEqual(e.user, { username: 'alice', groups: ['dev', 'system:authenticated'] });
    assert.deepEqual(e.responseStatus, { metadata: {}, code: 201 });
    assert.equal(e.requestReceivedTimestamp, '2026-01-01T00:00:00.000Z');
    assert.equal(e.stageTimestamp, '2026-01-01T00:00:00.005Z');
    assert.equal(e.annotations['trireme.dev/latency-ms'], '4.568');
    assert.equal(e.requestObject, undefined);
    assert.equal(e.responseObject, undefined);
  });
  it('Request records the request body, RequestResponse both; None nothing', () => {
    assert.deepEqual(auditEvent({ ...base, level: 'Request' })!.requestObject, { kind: 'ConfigMap' });
    assert.equal(auditEvent({ ...base, level: 'Request' })!.responseObject, undefined);
    assert.deepEqual(auditEvent({ ...base, level: 'RequestResponse' })!.responseObject, { kind: 'ConfigMap', x: 1 });
    assert.equal(auditEvent({ ...base, level: 'None' }), undefined);
    const failed = auditEvent({ ...base, level: 'Metadata', code: 404, message: 'not found' })!;
    assert.deepEqual(failed.responseStatus, { metadata: {}, code: 404, status: 'Failure', message: 'not found' });
  });
});
