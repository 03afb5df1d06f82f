// Alerting rules as Prometheus writes them (a rules file: groups of `alert`, `expr`, `for`,
// `labels`, `annotations`), and the alert state each evaluation moves on: a result series that
// appears is pending, and firing once it has stayed for `for`; one that disappears is dropped
// (pending) or resolved (firing). Annotations render `{{ $labels.NAME }}` and `{{ $value }}`.
// Guarantees: pure (time given by the caller); a rules file that does not parse, or an
// expression outside the evaluator's subset, is refused with a RulesError naming the rule.
// Does not: evaluate recording rules (they are refused), or keep state across processes.
import { parse } from 'yaml';
import { parseDuration, parseExpr, PromqlError, type Expr } from './promql.js';
import { labelsKey, type Labels } from './tsdb.js';
import type { Sample } from './eval.js';

export class RulesError extends Error {
  override readonly name = 'RulesError';
}

export interface AlertRule {
  name: string;
  exprText: string;
  expr: Expr;
  forMs: number;
  labels: Labels;
  annotations: Labels;
}

function stringMap(v: unknown, what: string): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new RulesError(`${what}: expected a map`);
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = String(x);
  return out;
}

/** The alerting rules of a Prometheus rules file's text. */
export function parseRules(text: string): AlertRule[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new RulesError(`the rules file is not YAML: ${(e as Error).message}`);
  }
  const groups = (doc as { groups?: unknown } | null)?.groups;
  if (!Array.isArray(groups)) throw new RulesError('the rules file has no `groups` list');
  const rules: AlertRule[] = [];
  for (const g of groups as { name?: unknown; rules?: unknown }[]) {
    if (!Array.isArray(g.rules)) throw new RulesError(`group ${String(g.name)}: no \`rules\` list`);
    for (const r of g.rules as Record<string, unknown>[]) {
      if (typeof r.alert !== 'string') throw new RulesError(`group ${String(g.name)}: only alerting rules are supported (${r.record !== undefined ? `record ${String(r.record)}` : 'a rule without `alert`'})`);
      const name = r.alert;
      if (typeof r.expr !== 'string') throw new RulesError(`alert ${name}: \`expr\` must be a string`);
      try {
        rules.push({
          name, exprText: r.expr, expr: parseExpr(r.expr), forMs: r.for === undefined ? 0 : parseDuration(String(r.for)),
          labels: stringMap(r.labels, `alert ${name} labels`), annotations: stringMap(r.annotations, `alert ${name} annotations`),
        });
      } catch (e) {
        if (e instanceof PromqlError) throw new RulesError(`alert ${name}: ${e.message}`);
        throw e;
      }
    }
  }
  return rules;
}

export function renderTemplate(template: string, labels: Labels, value: number): string {
  return template.replace(/\{\{\s*\$labels\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, l: string) => labels[l] ?? '')
    .replace(/\{\{\s*\$value\s*\}\}/g, () => String(value));
}

export interface ActiveAlert {
  labels: Labels;
  annotations: Labels;
  state: 'pending' | 'firing';
  activeAt: number;
  firedAt?: number;
  value: number;
}

export interface AlertChange {
  status: 'firing' | 'resolved';
  labels: Labels;
  annotations: Labels;
  startsAt: number;
  endsAt?: number;
}

/** One rule's alerts after an evaluation at `now` that returned `result`, and what changed. */
export function stepAlerts(rule: AlertRule, before: ReadonlyMap<string, ActiveAlert>, result: readonly Sample[], now: number): { alerts: Map<string, ActiveAlert>; changes: AlertChange[] } {
  const alerts = new Map<string, ActiveAlert>();
  const changes: AlertChange[] = [];
  for (const s of result) {
    const { __name__: _n, ...rest } = s.labels;
    const labels: Labels = { ...rest, ...rule.labels, alertname: rule.name };
    const key = labelsKey(labels);
    const annotations: Record<string, string> = {};
    for (const [k, t] of Object.entries(rule.annotations)) annotations[k] = renderTemplate(t, labels, s.value);
    const prev = before.get(key);
    const a: ActiveAlert = prev ? { ...prev, annotations, value: s.value } : { labels, annotations, state: 'pending', activeAt: now, value: s.value };
    if (a.state === 'pending' && now - a.activeAt >= rule.forMs) {
      a.state = 'firing';
      a.firedAt = now;
      changes.push({ status: 'firing', labels, annotations, startsAt: a.activeAt });
    }
    alerts.set(key, a);
  }
  for (const [key, a] of before) {
    if (alerts.has(key) || a.state !== 'firing') continue;
    changes.push({ status: 'resolved', labels: a.labels, annotations: a.annotations, startsAt: a.activeAt, endsAt: now });
  }
  return { alerts, changes };
}
