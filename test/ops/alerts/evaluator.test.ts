// The evaluator end to end on one process: canned scrapes (one target answering, then failing,
// then answering), a fake clock, and a real HTTP webhook receiver on loopback: it posts the
// Alertmanager webhook JSON when the alert fires (after `for`) and when it resolves, in order,
// and sends again what the webhook refused.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { AlertEvaluator } from '../../../src/ops/alerts/evaluator.js';
import { parseRules } from '../../../src/ops/alerts/rules.js';
import { ZERO_TIME, type WebhookMessage } from '../../../src/ops/alerts/webhook.js';
import { FakeClock } from '../../../src/util/clock.js';
import { silentLogger } from '../../../src/util/log.js';

const RULES = parseRules(`
groups:
  - name: g
    rules:
      - alert: TriremeServerDown
        expr: up{job="trireme-server"} == 0
        for: 30s
        labels: { severity: critical }
        annotations: { summary: "API server {{ $labels.instance }} is down" }
`);

describe('AlertEvaluator', () => {
  const received: WebhookMessage[] = [];
  let refuse = 0;
  let server: http.Server;
  let url = '';
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d));
      req.on('end', () => {
        if (refuse > 0) {
          refuse--;
          res.writeHead(503).end();
          return;
        }
        received.push(JSON.parse(body) as WebhookMessage);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  it('fires after for, resolves once, and retries a refused post in order', async () => {
    const clock = new FakeClock(1_700_000_000_000);
    let answering = true;
    const ev = new AlertEvaluator({
      rules: RULES, webhook: url, intervalMs: 10_000, externalURL: 'https://127.0.0.1:6443', clock, logger: silentLogger,
      targets: () => ['https://127.0.0.1:6443', 'https://127.0.0.2:6443'],
      scrape: async (target) => {
        if (target.includes('127.0.0.2') && !answering) throw new Error('connection refused');
        return '# TYPE x gauge\nx 1\n';
      },
    });
    const round = async () => { await ev.evaluateOnce(); clock.advance(10_000); };
    await round();
    assert.deepEqual(ev.active(), []);
    answering = false;
    await round(); // t = 10 s: pending
    await round();
    await round();
    assert.equal(received.length, 0, 'not before for: 30s');
    await round(); // t = 40 s: firing
    assert.equal(received.length, 1);
    const fired = received[0]!;
    assert.equal(fired.version, '4');
    assert.equal(fired.status, 'firing');
    assert.equal(fired.receiver, 'trireme');
    assert.equal(fired.groupKey, '{}:{alertname="TriremeServerDown"}');
    assert.deepEqual(fired.groupLabels, { alertname: 'TriremeServerDown' });
    assert.equal(fired.alerts.length, 1);
    const a = fired.alerts[0]!;
    assert.deepEqual(a.labels, { alertname: 'TriremeServerDown', instance: '127.0.0.2:6443', job: 'trireme-server', severity: 'critical' });
    assert.deepEqual(a.annotations, { summary: 'API server 127.0.0.2:6443 is down' });
    assert.equal(a.status, 'firing');
    assert.equal(a.endsAt, ZERO_TIME);
    assert.equal(a.startsAt, new Date(1_700_000_010_000).toISOString());
    assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
    assert.deepEqual(fired.commonLabels, a.labels);

    await round();
    assert.equal(received.length, 1, 'firing is not sent again before the repeat interval');
    answering = true;
    refuse = 1;
    await round(); // t = 60 s: resolved, but the webhook refuses
    assert.equal(received.length, 1);
    await round(); // sent again
    assert.equal(received.length, 2);
    const resolved = received[1]!;
    assert.equal(resolved.status, 'resolved');
    assert.equal(resolved.alerts[0]!.status, 'resolved');
    assert.equal(resolved.alerts[0]!.endsAt, new Date(1_700_000_060_000).toISOString());
    assert.equal(resolved.alerts[0]!.fingerprint, a.fingerprint);
    await round();
    assert.equal(received.length, 2);
  });
});
