// `trireme user create`'s validation (pure): what is issued for a name, groups and days, and the
// one-line reasons for what is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { userCertRequest } from '../../src/cli/user.js';

describe('userCertRequest', () => {
  it('the name is the CN, the groups (deduplicated, in order) the O', () => {
    assert.deepEqual(userCertRequest('alice', ['dev', 'ops', 'dev'], 30), { commonName: 'alice', organizations: ['dev', 'ops'], days: 30 });
    assert.deepEqual(userCertRequest('bob@example.com', [], 1), { commonName: 'bob@example.com', organizations: [], days: 1 });
  });
  const refused: [string, string[], number, RegExp][] = [
    ['', [], 30, /user name must not be empty/],
    [' alice', [], 30, /leading or trailing spaces/],
    ['al\nice', [], 30, /control characters/],
    ['x'.repeat(254), [], 30, /longer than 253/],
    ['alice', ['dev', ''], 30, /a group must not be empty/],
    ['system:kube-scheduler', [], 30, /system: namespace/],
    ['alice', [], 0, /--days must be a whole number from 1 to 3650, not 0/],
    ['alice', [], 3651, /from 1 to 3650/],
    ['alice', [], 1.5, /whole number/],
  ];
  for (const [name, groups, days, why] of refused) {
    it(`refuses ${JSON.stringify(name).slice(0, 30)} ${JSON.stringify(groups)} ${days}`, () => {
      assert.throws(() => userCertRequest(name, groups, days), (e: Error & { code?: string }) => why.test(e.message) && e.code === 'Invalid');
    });
  }
});
