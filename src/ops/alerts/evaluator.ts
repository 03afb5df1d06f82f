// The built-in alert evaluator (`trireme server --alert-webhook URL`): every interval it scrapes
// each known API server's /metrics (as Prometheus would, job "trireme-server", instance
// "host:port", with `up` 1 or 0), evaluates the rules (rules.ts, eval.ts) and POSTs what changed
// to the webhook in Alertmanager's format (webhook.ts): an alert when it starts firing (after its
// `for`), again every `repeatIntervalMs` while it fires, and once when it resolves.
// Guarantees: rounds never overlap; a failed scrape is `up 0` and makes the target's series
// stale; messages are sent in order, and one the webhook refused is sent again next round (at most `maxOutbox` kept, the
// oldest dropped and logged); a rule that fails to evaluate is logged and skipped that round.
// Does not: persist state (a new evaluator, e.g. after the controller-manager Lease moved,
// starts with no history: `for:` and range windows start over), deduplicate between several
// evaluators (run one per cluster: `trireme server` runs it on the controller-manager leader),
// or scrape anything but the API servers (agents and standalone components are Prometheus's).
import { systemClock, type Clock, type Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { evaluate } from './eval.js';
import { parseExposition } from './exposition.js';
import { stepAlerts, type ActiveAlert, type AlertChange, type AlertRule } from './rules.js';
import { SampleStore, labelsKey, type Labels } from './tsdb.js';
import { postWebhook, webhookMessages, type WebhookMessage } from './webhook.js';

export const JOB = 'trireme-server';

export interface AlertEvaluatorOptions {
  rules: AlertRule[];
  webhook: string;
  intervalMs: number;
  /** The API servers to scrape now (URLs https://host:port). */
  targets(): string[];
  /** The exposition text of one server's /metrics; rejects when it cannot be had. */
  scrape(url: string): Promise<string>;
  /** Named in each message (externalURL, generatorURL). */
  externalURL: string;
  repeatIntervalMs?: number;
  maxOutbox?: number;
  clock?: Clock;
  logger: Logger;
}

function instanceOf(url: string): string {
  return new URL(url).host;
}

export class AlertEvaluator {
  private readonly db: SampleStore;
  private readonly state = new Map<string, Map<string, ActiveAlert>>();
  private readonly lastSent = new Map<string, number>();
  private outbox: WebhookMessage[] = [];
  private readonly clock: Clock;
  private timer: Timer | undefined;
  private stopped = false;
  private round: Promise<void> = Promise.resolve();

  constructor(private readonly o: AlertEvaluatorOptions) {
    this.clock = o.clock ?? systemClock;
    const longest = Math.max(0, ...o.rules.map((r) => longestRange(r)));
    this.db = new SampleStore(Math.max(longest, 5 * 60_000) + 2 * o.intervalMs);
  }

  start(): void {
    this.o.logger.info({ rules: this.o.rules.length, webhook: this.o.webhook, intervalMs: this.o.intervalMs }, 'alert evaluator started');
    const tick = () => {
      if (this.stopped) return;
      this.round = this.evaluateOnce().catch((err: unknown) => this.o.logger.error({ err }, 'alert evaluation round failed'));
      void this.round.then(() => {
        if (!this.stopped) this.timer = this.clock.setTimeout(tick, this.o.intervalMs);
      });
    };
    tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) this.clock.clearTimeout(this.timer);
    await this.round;
  }

  /** Alerts now pending or firing (for logs and tests). */
  active(): ActiveAlert[] {
    return [...this.state.values()].flatMap((m) => [...m.values()]);
  }

  /** One round: scrape, evaluate, notify. */
  async evaluateOnce(): Promise<void> {
    const t = this.clock.now();
    await Promise.all(this.o.targets().map(async (url) => {
      const instance = instanceOf(url);
      const up: Labels = { __name__: 'up', job: JOB, instance };
      try {
        const samples = parseExposition(await this.o.scrape(url)).map((s) => ({ labels: { ...s.labels, job: JOB, instance }, value: s.value }));
        this.db.scrape(instance, t, [...samples, { labels: up, value: 1 }]);
      } catch (err) {
        this.o.logger.debug({ err, target: url }, 'scrape failed');
        this.db.scrape(instance, t, [{ labels: up, value: 0 }]);
      }
    }));
    const changes: AlertChange[] = [];
    for (const rule of this.o.rules) {
      let result;
      try {
        const v = evaluate(rule.expr, this.db, t);
        if (v.kind !== 'vector') throw new Error(`the expression is a scalar, not a vector: ${rule.exprText}`);
        result = v.samples;
      } catch (err) {
        this.o.logger.warn({ err, alert: rule.name }, 'alert rule failed to evaluate');
        continue;
      }
      const step = stepAlerts(rule, this.state.get(rule.name) ?? new Map(), result, t);
      this.state.set(rule.name, step.alerts);
      for (const c of step.changes) {
        this.o.logger.info({ alert: rule.name, status: c.status, labels: c.labels }, c.status === 'firing' ? 'alert firing' : 'alert resolved');
        if (c.status === 'resolved') this.lastSent.delete(labelsKey(c.labels));
        else this.lastSent.set(labelsKey(c.labels), t);
        changes.push(c);
      }
      // Still firing: remind every repeat interval, as Alertmanager's repeat_interval does.
      for (const a of step.alerts.values()) {
        const key = labelsKey(a.labels);
        const last = this.lastSent.get(key);
        if (a.state === 'firing' && last !== undefined && t - last >= (this.o.repeatIntervalMs ?? 4 * 3_600_000)) {
          this.lastSent.set(key, t);
          changes.push({ status: 'firing', labels: a.labels, annotations: a.annotations, startsAt: a.activeAt });
        }
      }
    }
    this.outbox.push(...webhookMessages(changes, { receiver: 'trireme', externalURL: this.o.externalURL }));
    const max = this.o.maxOutbox ?? 100;
    if (this.outbox.length > max) {
      this.o.logger.error({ dropped: this.outbox.length - max }, 'alert webhook unreachable: oldest messages dropped');
      this.outbox = this.outbox.slice(-max);
    }
    // In order, stopping at the first failure: a resolution never overtakes its firing.
    while (this.outbox.length > 0) {
      const m = this.outbox[0]!;
      try {
        await postWebhook(this.o.webhook, m);
      } catch (err) {
        this.o.logger.warn({ err, group: m.groupKey, queued: this.outbox.length }, 'alert webhook failed; sending again next round');
        break;
      }
      this.outbox.shift();
    }
  }
}

function longestRange(rule: AlertRule): number {
  let max = 0;
  const walk = (e: AlertRule['expr']): void => {
    if (e.type === 'selector' && e.rangeMs !== undefined) max = Math.max(max, e.rangeMs);
    if (e.type === 'call') e.args.forEach(walk);
    if (e.type === 'agg') walk(e.expr);
    if (e.type === 'binary') { walk(e.lhs); walk(e.rhs); }
  };
  walk(rule.expr);
  return max;
}
