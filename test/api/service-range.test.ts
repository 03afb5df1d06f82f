// The service range as a value: parsing (bad input is one line), offsets, the fixed addresses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dnsServiceIp, ipAt, isAssignable, kubernetesServiceIp, offsetOf, parseServiceRange } from '../../src/api/service-range.js';

describe('service range', () => {
  it('parses a CIDR and places the fixed addresses as Kubernetes does', () => {
    const r = parseServiceRange('127.10.0.0/16');
    assert.equal(r.size, 65536);
    assert.equal(kubernetesServiceIp(r), '127.10.0.1');
    assert.equal(dnsServiceIp(r), '127.10.0.10');
    assert.equal(ipAt(r, 65535), '127.10.255.255');
    assert.equal(offsetOf(r, '127.10.1.2'), 258);
    assert.equal(offsetOf(r, '127.11.0.1'), undefined);
    assert.equal(offsetOf(r, 'nonsense'), undefined);
    assert.ok(!isAssignable(r, 0) && isAssignable(r, 1) && !isAssignable(r, 65535));
  });

  it('refuses what is not an IPv4 range, too small or too big, or has host bits set', () => {
    for (const bad of ['127.10.0.0', '127.10.0.0/29', '127.10.0.0/7', '300.1.0.0/16', 'fd00::/108', '127.10.0.1/16']) {
      assert.throws(() => parseServiceRange(bad), (e: Error) => !e.message.includes('\n') && e.message.includes(bad.split('/')[0]!), bad);
    }
  });
});
