// The Alertmanager webhook payload (version "4"), built from alert changes, one message per
// alert name (the group), as Alertmanager sends it to a webhook receiver grouped by alertname:
// { version, groupKey, truncatedAlerts, status, receiver, groupLabels, commonLabels,
//   commonAnnotations, externalURL, alerts: [{ status, labels, annotations, startsAt, endsAt,
//   generatorURL, fingerprint }] }. A firing alert's endsAt is Go's zero time, as Alertmanager
// writes it. Guarantees: pure (`webhookMessages`); `postWebhook` rejects on a non-2xx answer or
// no answer within its timeout. Does not: retry (the evaluator keeps failed messages for its
// next round), or sign requests.
import { createHash } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { labelsKey, type Labels } from './tsdb.js';
import type { AlertChange } from './rules.js';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Labels;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookMessage {
  version: '4';
  groupKey: string;
  truncatedAlerts: number;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Labels;
  commonLabels: Labels;
  commonAnnotations: Labels;
  externalURL: string;
  alerts: WebhookAlert[];
}

function common(maps: readonly Labels[]): Labels {
  const [first, ...rest] = maps;
  if (!first) return {};
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(first)) if (rest.every((m) => m[k] === v)) out[k] = v;
  return out;
}

export function fingerprint(labels: Labels): string {
  return createHash('sha256').update(labelsKey(labels)).digest('hex').slice(0, 16);
}

export function webhookMessages(changes: readonly AlertChange[], opts: { receiver: string; externalURL: string }): WebhookMessage[] {
  const byName = new Map<string, AlertChange[]>();
  for (const c of changes) {
    const name = c.labels.alertname ?? '';
    byName.set(name, [...(byName.get(name) ?? []), c]);
  }
  return [...byName].map(([alertname, list]): WebhookMessage => {
    const alerts = list.map((c): WebhookAlert => ({
      status: c.status, labels: c.labels, annotations: c.annotations,
      startsAt: new Date(c.startsAt).toISOString(), endsAt: c.endsAt === undefined ? ZERO_TIME : new Date(c.endsAt).toISOString(),
      generatorURL: opts.externalURL, fingerprint: fingerprint(c.labels),
    }));
    return {
      version: '4', groupKey: `{}:{alertname="${alertname}"}`, truncatedAlerts: 0,
      status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
      receiver: opts.receiver, groupLabels: { alertname },
      commonLabels: common(alerts.map((a) => a.labels)), commonAnnotations: common(alerts.map((a) => a.annotations)),
      externalURL: opts.externalURL, alerts,
    };
  });
}

/** POSTs one message as JSON; resolves on a 2xx answer. */
export function postWebhook(url: string, message: WebhookMessage, timeoutMs = 5_000): Promise<void> {
  const body = JSON.stringify(message);
  const mod = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, { method: 'POST', timeout: timeoutMs, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        const code = res.statusCode ?? 0;
        if (code >= 200 && code < 300) resolve();
        else reject(new Error(`alert webhook ${url} answered HTTP ${code}`));
      });
    });
    req.on('timeout', () => req.destroy(new Error(`alert webhook ${url}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
