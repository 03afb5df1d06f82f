import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkConfigMapKey, checkDns1035Label, checkDns1123Label, checkEnvVarName, checkLabelValue, checkPercent,
  checkPortName, checkQualifiedName, isDns1123Label, isDns1123Subdomain, isIP, nameIsDns1123Subdomain,
} from '../../../src/api/validation/names.js';

test('DNS-1123 labels and subdomains', () => {
  for (const ok of ['a', 'my-name', '123-abc', 'a'.repeat(63)]) assert.ok(isDns1123Label(ok), ok);
  for (const bad of ['', 'A', '-a', 'a-', 'a.b', 'a_b', 'a'.repeat(64)]) assert.ok(!isDns1123Label(bad), bad);
  for (const ok of ['example.com', 'a', 'a-b.c-d', `${'a'.repeat(63)}.${'b'.repeat(63)}`]) assert.ok(isDns1123Subdomain(ok), ok);
  for (const bad of ['', 'Foo_bar', 'a..b', '.a', 'a.', 'a'.repeat(254)]) assert.ok(!isDns1123Subdomain(bad), bad);
  assert.deepEqual(checkDns1123Label('Foo'), [
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  ]);
  assert.deepEqual(checkDns1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  assert.ok(checkDns1035Label('1abc').length === 1);
  assert.deepEqual(checkDns1035Label('abc-1'), []);
});

test('generateName prefixes may end with a dash', () => {
  assert.deepEqual(nameIsDns1123Subdomain('web-', true), []);
  assert.equal(nameIsDns1123Subdomain('web-', false).length, 1);
});

test('qualified names (label keys)', () => {
  for (const ok of ['app', 'MyName', 'my.name', 'example.com/MyName', 'a_b', 'kubernetes.io/metadata.name']) assert.deepEqual(checkQualifiedName(ok), [], ok);
  assert.deepEqual(checkQualifiedName('/a'), ['prefix part must be non-empty']);
  assert.deepEqual(checkQualifiedName('a/'), ['name part must be non-empty']);
  assert.equal(checkQualifiedName('a/b/c').length, 1);
  assert.match(checkQualifiedName('Bad_Prefix/x')[0] ?? '', /^prefix part a lowercase RFC 1123 subdomain/);
  assert.deepEqual(checkQualifiedName('x'.repeat(64)), ['name part must be no more than 63 characters']);
  assert.match(checkQualifiedName('-a')[0] ?? '', /^name part must consist of alphanumeric characters/);
});

test('label values', () => {
  for (const ok of ['', 'v1', 'my_value', '12345', 'a.b-c']) assert.deepEqual(checkLabelValue(ok), [], ok);
  assert.deepEqual(checkLabelValue('x'.repeat(64)), ['must be no more than 63 characters']);
  assert.equal(checkLabelValue('has space').length, 1);
  assert.equal(checkLabelValue('-a').length, 1);
});

test('port names, env names, config keys, percents, IPs', () => {
  assert.deepEqual(checkPortName('http'), []);
  assert.deepEqual(checkPortName('http-alt2'), []);
  assert.deepEqual(checkPortName('80'), ['must contain at least one letter (a-z)']);
  assert.deepEqual(checkPortName('a--b'), ['must not contain consecutive hyphens']);
  assert.deepEqual(checkPortName('-a'), ['must not begin or end with a hyphen']);
  // Upper case fails both the charset and the one-letter rule, as in Kubernetes.
  assert.deepEqual(checkPortName('HTTP'), ['must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)', 'must contain at least one letter (a-z)']);
  assert.deepEqual(checkPortName('a'.repeat(16)), ['must be no more than 15 characters']);
  assert.deepEqual(checkEnvVarName('MY_VAR.1-x'), []);
  assert.deepEqual(checkEnvVarName('1ABC'), [], 'relaxed validation (1.32) allows a leading digit');
  assert.equal(checkEnvVarName('A=B').length, 1);
  assert.equal(checkEnvVarName('tab\t').length, 1);
  assert.deepEqual(checkConfigMapKey('key.name'), []);
  assert.deepEqual(checkConfigMapKey('..a'), ["must not start with '..'"]);
  assert.deepEqual(checkConfigMapKey('.'), ["must not be '.'"]);
  assert.equal(checkConfigMapKey('a/b').length, 1);
  assert.deepEqual(checkPercent('25%'), []);
  assert.equal(checkPercent('25').length, 1);
  for (const ok of ['10.0.0.1', '127.0.0.2', '::1', '2001:db8::ffff']) assert.ok(isIP(ok), ok);
  for (const bad of ['', '256.1.1.1', '10.0.0', 'abc', '1.2.3.4.5', ':::']) assert.ok(!isIP(bad), bad);
});
