import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Service } from 'kubernetes-types/core/v1.js';
import { buildEnv, serviceEnv } from '../../../src/agent/pods/env.js';

const svc = (namespace: string, name: string, clusterIP: string, ports: { name?: string; port: number; protocol?: string }[]): Service =>
  ({ metadata: { name, namespace }, spec: { clusterIP, ports: ports.map((p) => ({ ...p, targetPort: p.port })) } });

const KUBERNETES = svc('default', 'kubernetes', '127.0.22.129', [{ name: 'https', port: 443, protocol: 'TCP' }]);
const WEB = svc('shop', 'web-front', '127.0.22.140', [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }]);

describe('serviceEnv', () => {
  it('gives the kubelet\'s variables for each Service of the namespace and default/kubernetes', () => {
    const env = serviceEnv([KUBERNETES, WEB, svc('other', 'db', '127.0.22.150', [{ port: 5432 }])], 'shop', true);
    assert.deepEqual(env, {
      KUBERNETES_SERVICE_HOST: '127.0.22.129',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
      KUBERNETES_PORT: 'tcp://127.0.22.129:443',
      KUBERNETES_PORT_443_TCP: 'tcp://127.0.22.129:443',
      KUBERNETES_PORT_443_TCP_PROTO: 'tcp',
      KUBERNETES_PORT_443_TCP_PORT: '443',
      KUBERNETES_PORT_443_TCP_ADDR: '127.0.22.129',
      WEB_FRONT_SERVICE_HOST: '127.0.22.140',
      WEB_FRONT_SERVICE_PORT: '80',
      WEB_FRONT_SERVICE_PORT_HTTP: '80',
      WEB_FRONT_SERVICE_PORT_DNS: '53',
      WEB_FRONT_PORT: 'tcp://127.0.22.140:80',
      WEB_FRONT_PORT_80_TCP: 'tcp://127.0.22.140:80',
      WEB_FRONT_PORT_80_TCP_PROTO: 'tcp',
      WEB_FRONT_PORT_80_TCP_PORT: '80',
      WEB_FRONT_PORT_80_TCP_ADDR: '127.0.22.140',
      WEB_FRONT_PORT_53_UDP: 'udp://127.0.22.140:53',
      WEB_FRONT_PORT_53_UDP_PROTO: 'udp',
      WEB_FRONT_PORT_53_UDP_PORT: '53',
      WEB_FRONT_PORT_53_UDP_ADDR: '127.0.22.140',
    });
  });

  it('enableServiceLinks: false keeps only the kubernetes Service', () => {
    const env = serviceEnv([KUBERNETES, WEB], 'shop', false);
    assert.deepEqual(Object.keys(env).filter((k) => !k.startsWith('KUBERNETES_')), []);
    assert.equal(env.KUBERNETES_SERVICE_HOST, '127.0.22.129');
    assert.equal(serviceEnv([KUBERNETES], 'default', false).KUBERNETES_SERVICE_PORT, '443');
  });

  it('headless and ExternalName Services give nothing; an unnamed single port gives no _SERVICE_PORT_<NAME>', () => {
    const env = serviceEnv([
      svc('shop', 'headless', 'None', [{ port: 80 }]),
      { metadata: { name: 'ext', namespace: 'shop' }, spec: { type: 'ExternalName', externalName: 'example.com' } },
      svc('shop', 'one', '127.0.22.141', [{ port: 8080 }]),
    ], 'shop', true);
    assert.deepEqual(Object.keys(env).sort(), ['ONE_PORT', 'ONE_PORT_8080_TCP', 'ONE_PORT_8080_TCP_ADDR', 'ONE_PORT_8080_TCP_PORT', 'ONE_PORT_8080_TCP_PROTO', 'ONE_SERVICE_HOST', 'ONE_SERVICE_PORT']);
  });

  it('a Service named kubernetes in the pod\'s namespace wins over default/kubernetes', () => {
    const mine = svc('shop', 'kubernetes', '127.0.22.142', [{ port: 8443 }]);
    assert.equal(serviceEnv([KUBERNETES, mine], 'shop', true).KUBERNETES_SERVICE_HOST, '127.0.22.142');
    assert.equal(serviceEnv([mine, KUBERNETES], 'shop', true).KUBERNETES_SERVICE_HOST, '127.0.22.142');
    assert.equal(serviceEnv([mine, KUBERNETES], 'shop', false).KUBERNETES_SERVICE_HOST, '127.0.22.129');
  });

  it('IPv6 ClusterIPs are bracketed in URLs', () => {
    const env = serviceEnv([svc('shop', 'v6', 'fd00::10', [{ port: 80 }])], 'shop', true);
    assert.equal(env.V6_PORT, 'tcp://[fd00::10]:80');
    assert.equal(env.V6_PORT_80_TCP_ADDR, 'fd00::10');
  });

  it('explicit env wins over service variables, which $(VAR) can use', () => {
    const pod: Pod = { metadata: { name: 'p', namespace: 'shop' }, spec: { containers: [] } };
    const c: Container = { name: 'app', env: [{ name: 'WEB_FRONT_SERVICE_HOST', value: 'override' }, { name: 'URL', value: 'http://$(WEB_FRONT_SERVICE_HOST):$(WEB_FRONT_SERVICE_PORT)' }] };
    const env = buildEnv(pod, c, { configMaps: new Map(), secrets: new Map() }, { podIP: '127.0.22.2', hostIP: '127.0.22.2' }, serviceEnv([WEB], 'shop', true));
    assert.equal(env.WEB_FRONT_SERVICE_HOST, 'override');
    assert.equal(env.URL, 'http://override:80');
    assert.equal(env.WEB_FRONT_PORT_80_TCP_ADDR, '127.0.22.140');
  });
});
