import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVERYTHING, fieldsOf, isEmpty, labelSelectorFromObject, matchesFields, matchesLabels, NOTHING,
  parseFieldSelector, parseLabelSelector, selectorToString, validateFieldSelector,
} from '../../src/api/selectors.js';
import { isTriremeError, type ErrorCode } from '../../src/errors.js';

function throwsCode(fn: () => unknown, code: ErrorCode, match?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isTriremeError(err, code), `expected ${code}, got ${String(err)}`);
    if (match) assert.match(err.message, match);
    return true;
  });
}

describe('parseLabelSelector', () => {
  const canonical: Array<[string, string]> = [
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['x=1,a=b', 'a=b,x=1'],
    ['env in (prod, dev)', 'env in (dev,prod)'],
    ['env notin (x)', 'env notin (x)'],
    ['  tier ', 'tier'],
    ['!tier', '!tier'],
    ['a=', 'a='],
    ['a in ()', 'a in ()'],
    ['a in (x,,y)', 'a in (,x,y)'],
    ['n>3,m<7', 'm<7,n>3'],
    ['example.com/app=web', 'example.com/app=web'],
    ['in in (in, notin)', 'in in (in,notin)'],
  ];
  for (const [input, out] of canonical) {
    it(`parses ${JSON.stringify(input)} to ${JSON.stringify(out)}`, () => {
      assert.equal(selectorToString(parseLabelSelector(input)), out);
    });
  }

  const bad: Array<[string, RegExp]> = [
    ['a b', /^unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt$/],
    ['=b', /found '=', expected: !, identifier, or 'end of string'/],
    ['a=b,', /expected: identifier after ','/],
    ['a in x', /unable to parse requirement: found 'x' expected: '\('/],
    ['a in (x', /unable to parse requirement: found '', expected: ',' or '\)'/],
    ['a=b c', /found 'c', expected: ',' or 'end of string'/],
    ['a=(b)', /unable to parse requirement: found '\(', expected: identifier/],
    ['a b=c', /found 'b'/],
    ['-a=b', /unable to parse requirement: key: Invalid value: "-a"/],
    ['a=-b', /unable to parse requirement: values\[0\]: Invalid value: "-b"/],
    [`a=${'x'.repeat(64)}`, /no more than 63 characters/],
    ['a>b', /must be an integer/],
    ['!a=b', /found '=', expected: ',' or 'end of string'/],
  ];
  for (const [input, re] of bad) {
    it(`rejects ${JSON.stringify(input)} with BadRequest`, () => {
      throwsCode(() => parseLabelSelector(input), 'BadRequest', re);
    });
  }
});

describe('matchesLabels', () => {
  const labels = { app: 'web', env: 'prod', n: '5' };
  const table: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['env in (dev,prod)', true],
    ['env notin (prod)', false],
    ['missing notin (prod)', true],
    ['missing in (prod)', false],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=web,env=dev', false],
    ['n>4', true],
    ['n<5', false],
    ['app>1', false],
  ];
  for (const [sel, want] of table) {
    it(`${JSON.stringify(sel)} -> ${want}`, () => {
      assert.equal(matchesLabels(parseLabelSelector(sel), labels), want);
    });
  }

  it('treats missing labels as empty', () => {
    assert.equal(matchesLabels(parseLabelSelector('a'), undefined), false);
    assert.equal(matchesLabels(parseLabelSelector('!a'), undefined), true);
  });
});

describe('labelSelectorFromObject', () => {
  it('combines matchLabels and matchExpressions in canonical order', () => {
    const sel = labelSelectorFromObject({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['dev'] },
        { key: 'gpu', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    });
    assert.equal(selectorToString(sel), 'app=web,!canary,env notin (dev),gpu,tier in (a,b)');
    assert.equal(matchesLabels(sel, { app: 'web', tier: 'a', gpu: '' }), true);
    assert.equal(matchesLabels(sel, { app: 'web', tier: 'a', gpu: '', canary: 'y' }), false);
  });

  it('nil selects nothing, empty selects everything', () => {
    assert.equal(matchesLabels(labelSelectorFromObject(undefined), {}), false);
    assert.equal(matchesLabels(labelSelectorFromObject(null), { a: 'b' }), false);
    assert.equal(isEmpty(labelSelectorFromObject(null)), false);
    const all = labelSelectorFromObject({});
    assert.equal(isEmpty(all), true);
    assert.equal(matchesLabels(all, { a: 'b' }), true);
    assert.equal(selectorToString(all), '');
    assert.equal(isEmpty(EVERYTHING), true);
    assert.equal(isEmpty(NOTHING), false);
    assert.equal(isEmpty(parseLabelSelector('a')), false);
  });

  it('rejects invalid selectors with Invalid', () => {
    throwsCode(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Equals', values: ['x'] }] }), 'Invalid', /"Equals" is not a valid label selector operator/);
    throwsCode(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), 'Invalid', /values set can't be empty/);
    throwsCode(() => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }), 'Invalid', /must be empty/);
    throwsCode(() => labelSelectorFromObject({ matchLabels: { 'bad key': 'x' } }), 'Invalid', /key/);
    throwsCode(() => labelSelectorFromObject({ matchLabels: { a: 'bad value' } }), 'Invalid', /values\[0\]/);
    throwsCode(() => labelSelectorFromObject('a=b'), 'Invalid');
  });
});

describe('field selectors', () => {
  it('parses =, ==, != and escapes', () => {
    const sel = parseFieldSelector('metadata.name==a,status.phase!=Failed,spec.nodeName=n\\,1');
    assert.deepEqual([...sel.requirements], [
      { field: 'metadata.name', operator: '=', value: 'a' },
      { field: 'spec.nodeName', operator: '=', value: 'n,1' },
      { field: 'status.phase', operator: '!=', value: 'Failed' },
    ]);
    assert.deepEqual([...parseFieldSelector('').requirements], []);
    assert.deepEqual([...parseFieldSelector('a=').requirements], [{ field: 'a', operator: '=', value: '' }]);
  });

  it('rejects malformed selectors', () => {
    throwsCode(() => parseFieldSelector('metadata.name'), 'BadRequest', /can't understand 'metadata.name'/);
    throwsCode(() => parseFieldSelector('a=b=c'), 'BadRequest', /unescaped character/);
    throwsCode(() => parseFieldSelector('a=b\\x'), 'BadRequest', /invalid escape sequence/);
  });

  it('kubectl describe node: pods on a node that are not finished', () => {
    const sel = parseFieldSelector('spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed');
    validateFieldSelector('Pod', sel);
    const pod = (node: string, phase: string) => fieldsOf('Pod', { metadata: { name: 'p', namespace: 'd' }, spec: { nodeName: node }, status: { phase } });
    assert.equal(matchesFields(sel, pod('n1', 'Running')), true);
    assert.equal(matchesFields(sel, pod('n1', 'Failed')), false);
    assert.equal(matchesFields(sel, pod('n2', 'Running')), false);
  });

  it('pod fields', () => {
    const f = fieldsOf('Pod', {
      metadata: { name: 'p', namespace: 'ns' },
      spec: { nodeName: 'n', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'sa', hostNetwork: true },
      status: { phase: 'Running', podIP: '10.0.0.9', podIPs: [{ ip: '10.0.0.1' }], nominatedNodeName: 'm' },
    });
    assert.deepEqual(f, {
      'metadata.name': 'p', 'metadata.namespace': 'ns', 'spec.nodeName': 'n', 'spec.restartPolicy': 'Always',
      'spec.schedulerName': 'default-scheduler', 'spec.serviceAccountName': 'sa', 'spec.hostNetwork': 'true',
      'status.phase': 'Running', 'status.podIP': '10.0.0.1', 'status.nominatedNodeName': 'm',
    });
    assert.equal(fieldsOf('Pod', { metadata: { name: 'p' } })['spec.hostNetwork'], 'false');
  });

  it('kubectl describe pod: events by involvedObject', () => {
    const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', namespace: 'd' }, involvedObject: { kind: 'Pod', name: 'p', namespace: 'd', uid: 'u1' }, reason: 'Scheduled', type: 'Normal', source: { component: 'scheduler' } };
    const sel = parseFieldSelector('involvedObject.name=p,involvedObject.namespace=d,involvedObject.uid=u1');
    validateFieldSelector('Event', sel, '');
    const f = fieldsOf('Event', ev);
    assert.equal(matchesFields(sel, f), true);
    assert.equal(f.source, 'scheduler');
    assert.equal(matchesFields(parseFieldSelector('involvedObject.uid=u2'), f), false);
  });

  it('events.k8s.io events use regarding.*', () => {
    const ev = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e', namespace: 'd' }, regarding: { kind: 'Pod', name: 'p' }, reportingController: 'c' };
    const sel = parseFieldSelector('regarding.name=p,reportingController=c');
    validateFieldSelector('Event', sel, 'events.k8s.io');
    assert.equal(matchesFields(sel, fieldsOf('Event', ev)), true);
    throwsCode(() => validateFieldSelector('Event', parseFieldSelector('involvedObject.name=p'), 'events.k8s.io'), 'BadRequest');
  });

  it('per-kind fields: Secret type, Node unschedulable, Namespace phase, ReplicaSet replicas', () => {
    assert.equal(fieldsOf('Secret', { metadata: { name: 's' }, type: 'Opaque' }).type, 'Opaque');
    assert.equal(fieldsOf('Node', { metadata: { name: 'n' }, spec: { unschedulable: true } })['spec.unschedulable'], 'true');
    assert.equal(fieldsOf('Node', { metadata: { name: 'n' } })['spec.unschedulable'], 'false');
    assert.equal(fieldsOf('Namespace', { metadata: { name: 'n' }, status: { phase: 'Active' } })['status.phase'], 'Active');
    assert.equal(fieldsOf('ReplicaSet', { metadata: { name: 'r' }, status: { replicas: 3 } })['status.replicas'], '3');
    assert.equal(fieldsOf('ReplicaSet', { metadata: { name: 'r' } })['status.replicas'], '0');
  });

  it('validateFieldSelector rejects unsupported labels', () => {
    validateFieldSelector('Deployment', parseFieldSelector('metadata.name=a,metadata.namespace=b'));
    throwsCode(() => validateFieldSelector('Deployment', parseFieldSelector('spec.replicas=1')), 'BadRequest', /^field label not supported: spec.replicas$/);
    throwsCode(() => validateFieldSelector('Pod', parseFieldSelector('spec.nodename=a')), 'BadRequest', /field label not supported: spec.nodename/);
  });

  it('metadata.name on any kind (kubectl wait / rollout status)', () => {
    const sel = parseFieldSelector('metadata.name=web');
    assert.equal(matchesFields(sel, fieldsOf('Deployment', { metadata: { name: 'web', namespace: 'd' } })), true);
    assert.equal(matchesFields(sel, fieldsOf('Deployment', { metadata: { name: 'db', namespace: 'd' } })), false);
  });
});
