// The HAProxy and keepalived printers and the input parsers behind `trireme lb`: the lines that
// matter are there, bad input is one line naming the problem. (`haproxy -c` and
// `keepalived -t` accept the text as printed: test/lb/haproxy.test.ts, test/lb/keepalived-netns.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haproxyConfig } from '../../src/lb/haproxy-config.js';
import { keepalivedConfig } from '../../src/lb/keepalived-config.js';
import { parseInterface, parseIntIn, parseIpv4, parseIpv4Cidr, parseListen, parseServerUrls } from '../../src/lb/endpoints.js';

const servers = parseServerUrls(['https://10.0.0.1:6443', 'https://10.0.0.2:6443', 'https://[fd00::3]:7443']);

test('HAProxy: TCP frontend on the listen address, /readyz checks over TLS, shutdown-sessions, timeouts', () => {
  const text = haproxyConfig({ listen: parseListen('10.0.0.100:6443'), backends: servers });
  const lines = text.split('\n').map((l) => l.trim());
  for (const want of [
    'mode tcp', 'bind 10.0.0.100:6443', 'default_backend trireme-api-servers', 'backend trireme-api-servers',
    'option httpchk', 'http-check send meth GET uri /readyz', 'http-check expect status 200',
    'default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions',
    'server api1 10.0.0.1:6443 check check-ssl verify none',
    'server api2 10.0.0.2:6443 check check-ssl verify none',
    'server api3 [fd00::3]:7443 check check-ssl verify none',
    'timeout connect 2s', 'timeout client 1h', 'timeout server 1h', 'timeout tunnel 1h',
    'option redispatch 1', 'retries 3', 'option clitcpka', 'option srvtcpka',
  ]) assert.ok(lines.includes(want), `missing line: ${want}\n${text}`);
  // Every section keyword starts a line; options are indented under one.
  const sections = text.split('\n').filter((l) => /^\S/.test(l) && !l.startsWith('#'));
  assert.deepEqual(sections, ['global', 'defaults', 'frontend trireme-api', 'backend trireme-api-servers']);
  assert.ok(haproxyConfig({ listen: parseListen('[::]:6443'), backends: servers }).includes('bind [::]:6443'));
});

test('keepalived: one VRRP instance with the VIP, priority, router id, advert_int 1, a check script, optional unicast peers', () => {
  const base = {
    vip: parseIpv4Cidr('10.0.0.100/24'), interface: 'eth0', priority: 150, routerId: 51,
    checkCommand: ['/usr/bin/node', '/opt/trireme/bin/trireme', 'lb', '--check', 'https://127.0.0.1:6443'],
  };
  const text = keepalivedConfig({ ...base, peers: [] });
  const lines = text.split('\n').map((l) => l.trim());
  for (const want of [
    'vrrp_script trireme_api_check {', 'script "/usr/bin/node /opt/trireme/bin/trireme lb --check https://127.0.0.1:6443"',
    'interval 3', 'timeout 8', 'fall 2', 'rise 2', 'vrrp_instance trireme_api_51 {', 'state BACKUP', 'interface eth0',
    'virtual_router_id 51', 'priority 150', 'advert_int 1', '10.0.0.100/24 dev eth0', 'trireme_api_check',
    'script_user root', 'enable_script_security',
  ]) assert.ok(lines.includes(want), `missing line: ${want}\n${text}`);
  assert.ok(!text.includes('unicast_peer'), 'multicast without peers');
  assert.ok(!/weight/.test(text), 'a failing check faults the instance (no weight)');
  assert.equal(text.split('{').length, text.split('}').length, 'balanced braces');
  const uni = keepalivedConfig({ ...base, peers: ['10.0.0.2', '10.0.0.3'] });
  assert.match(uni, /unicast_peer \{\n\s+10\.0\.0\.2\n\s+10\.0\.0\.3\n\s+\}/);
  assert.throws(() => keepalivedConfig({ ...base, peers: [], checkCommand: ['/my dir/trireme'] }), /white space/);
});

test('parsers: good input normalised, bad input one line naming it', () => {
  assert.deepEqual(parseListen('127.0.6.1:0'), { host: '127.0.6.1', port: 0 });
  assert.deepEqual(parseListen('[::1]:6443'), { host: '::1', port: 6443 });
  assert.deepEqual(servers.map((s) => [s.name, s.host, s.port, s.url]), [
    ['api1', '10.0.0.1', 6443, 'https://10.0.0.1:6443'], ['api2', '10.0.0.2', 6443, 'https://10.0.0.2:6443'], ['api3', 'fd00::3', 7443, 'https://[fd00::3]:7443'],
  ]);
  assert.equal(parseServerUrls(['https://h.example/'])[0]!.port, 443);
  assert.deepEqual(parseIpv4Cidr('10.77.0.100/24'), { address: '10.77.0.100', prefix: 24 });
  assert.equal(parseInterface('veth-n1'), 'veth-n1');
  assert.equal(parseIntIn('150', '--priority', 1, 254), 150);
  const bad: [() => unknown, RegExp][] = [
    [() => parseListen('6443'), /--listen: expected HOST:PORT/],
    [() => parseListen('h:70000'), /--listen: not a port number: 70000/],
    [() => parseServerUrls([]), /at least one/],
    [() => parseServerUrls(['http://10.0.0.1:6443']), /--server: the API is HTTPS/],
    [() => parseServerUrls(['https://10.0.0.1:6443/api']), /without path/],
    [() => parseServerUrls(['https://a:1', 'https://a:1/']), /given twice/],
    [() => parseServerUrls(['not a url']), /--server: not a URL/],
    [() => parseIpv4Cidr('10.0.0.100'), /--vip: expected an IPv4 address with prefix length/],
    [() => parseIpv4Cidr('10.0.0.300/24'), /--vip: not an IPv4 address: 10\.0\.0\.300/],
    [() => parseIpv4Cidr('fd00::1/64'), /IPv6 VIPs are not supported/],
    [() => parseIpv4Cidr('10.0.0.1/0'), /prefix length must be 1\.\.32/],
    [() => parseInterface('a/b'), /--interface: not a network interface name/],
    [() => parseInterface('a-name-far-too-long'), /--interface/],
    [() => parseIntIn('255', '--priority', 1, 254), /--priority: must be an integer in 1\.\.254, not 255/],
    [() => parseIntIn('1.5', '--router-id', 1, 255), /--router-id/],
    [() => parseIpv4('10.0.0', '--peer'), /--peer: not an IPv4 address/],
  ];
  for (const [fn, re] of bad) {
    assert.throws(fn, (e: Error) => re.test(e.message) && !e.message.includes('\n') && (e as { code?: string }).code === 'Invalid', String(re));
  }
});
