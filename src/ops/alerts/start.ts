// Running the built-in evaluator inside `trireme server`: the servers to scrape are every server
// this process has seen in `default/kubernetes` since it started (read from its own watch cache
// each round), so a server that dies stays a target and is reported down, even after its
// endpoint lease expired. The evaluator itself runs only while this server holds the
// kube-controller-manager Lease (the caller starts and stops it with the controller manager),
// so a cluster sends each notification once. Scrapes of this server read its registry
// directly; other servers are asked over HTTPS with the given client identity.
// Does not: forget a server that left for good (it is reported down until this process
// restarts), or scrape agents and standalone components.
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Registry as PromRegistry } from 'prom-client';
import { endpointUrls, normalizeServerUrl } from '../../client/balancer-plan.js';
import { findResource } from '../../api/resources.js';
import type { Registry } from '../../apiserver/registry.js';
import type { Logger } from '../../util/log.js';
import { AlertEvaluator } from './evaluator.js';
import { parseRules, type AlertRule } from './rules.js';

/** The rules file shipped with Trireme (deploy/prometheus/alerts.yaml). */
export const SHIPPED_RULES = fileURLToPath(new URL('../../../../deploy/prometheus/alerts.yaml', import.meta.url));

export async function loadRules(file: string): Promise<AlertRule[]> {
  return parseRules(await readFile(file, 'utf8'));
}

/** Every API server seen in default/kubernetes since `start`, this one first. */
export class KnownServers {
  private readonly seen: string[];
  private readonly endpoints = findResource('', 'v1', 'endpoints')!;

  constructor(private readonly registry: Registry, self: string, private readonly log: Logger) {
    this.seen = [normalizeServerUrl(self) ?? self];
  }

  async refresh(): Promise<void> {
    try {
      const ep = await this.registry.get(this.endpoints, 'default', 'kubernetes');
      for (const url of endpointUrls(ep)) if (!this.seen.includes(url)) this.seen.push(url);
    } catch (err) {
      this.log.warn({ err }, 'could not read default/kubernetes for the alert targets');
    }
  }

  list(): string[] {
    return [...this.seen];
  }

  /** Refreshes every `everyMs` until the returned function is called. */
  start(everyMs: number): () => void {
    void this.refresh();
    const timer = setInterval(() => void this.refresh(), everyMs);
    return () => clearInterval(timer);
  }
}

export interface ServerAlertingOptions {
  rules: AlertRule[];
  webhook: string;
  intervalMs: number;
  selfUrl: string;
  selfMetrics: PromRegistry;
  known: KnownServers;
  identity: { caPem: string; certPem: string; keyPem: string };
  logger: Logger;
}

function fetchMetrics(url: string, id: ServerAlertingOptions['identity'], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${url}/metrics`, { ca: id.caPem, cert: id.certPem, key: id.keyPem, timeout: timeoutMs, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${url}/metrics answered HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}/metrics: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export function startServerAlerting(o: ServerAlertingOptions): { stop(): Promise<void> } {
  const self = normalizeServerUrl(o.selfUrl) ?? o.selfUrl;
  const timeoutMs = Math.max(500, Math.min(5_000, o.intervalMs - 100));
  const evaluator = new AlertEvaluator({
    rules: o.rules, webhook: o.webhook, intervalMs: o.intervalMs, externalURL: o.selfUrl, logger: o.logger,
    targets: () => o.known.list(),
    scrape: (url) => (url === self ? o.selfMetrics.metrics() : fetchMetrics(url, o.identity, timeoutMs)),
  });
  evaluator.start();
  return { stop: () => evaluator.stop() };
}
