// Evaluates a parsed expression (promql.ts) at one instant over a SampleStore, with PromQL's
// semantics for the subset: an instant selector takes each series' newest point within the
// 5-minute lookback unless it is a stale marker; a range selector the points in (t - range, t];
// rate and increase extrapolate as Prometheus does (counter resets handled); comparisons filter
// and keep the left side's value (the vector's, against a scalar); arithmetic drops __name__;
// two vectors match one-to-one on identical labels (without __name__); aggregations keep only
// their `by` labels; absent() of a plain selector takes the selector's `=` labels.
// Guarantees: pure; a result is a scalar or an instant vector. Does not: support many-to-one
// matching (a duplicate label set on one side is an error, as in Prometheus).
import { COMPARISONS, PromqlError, type BinaryOp, type Expr, type Matcher } from './promql.js';
import { LOOKBACK_MS, labelsKey, type Labels, type Point, type SampleStore } from './tsdb.js';

export interface Sample { labels: Labels; value: number }
export type Value = { kind: 'scalar'; value: number } | { kind: 'vector'; samples: Sample[] };

type RangeSeries = { labels: Labels; points: Point[] };

function matches(labels: Labels, ms: readonly Matcher[]): boolean {
  return ms.every((m) => {
    const v = labels[m.label] ?? '';
    if (m.op === '=') return v === m.value;
    if (m.op === '!=') return v !== m.value;
    const re = new RegExp(`^(?:${m.value})$`);
    return m.op === '=~' ? re.test(v) : !re.test(v);
  });
}

function withoutName(l: Labels): Labels {
  const { __name__: _drop, ...rest } = l;
  return rest;
}

function instant(db: SampleStore, ms: readonly Matcher[], t: number): Sample[] {
  const out: Sample[] = [];
  for (const s of db.all()) {
    if (!matches(s.labels, ms)) continue;
    let last: Point | undefined;
    for (let i = s.points.length - 1; i >= 0; i--) {
      const p = s.points[i]!;
      if (p.t <= t) { last = p; break; }
    }
    if (last && last.t > t - LOOKBACK_MS && !Number.isNaN(last.v)) out.push({ labels: s.labels, value: last.v });
  }
  return out;
}

function range(db: SampleStore, ms: readonly Matcher[], t: number, rangeMs: number): RangeSeries[] {
  const out: RangeSeries[] = [];
  for (const s of db.all()) {
    if (!matches(s.labels, ms)) continue;
    const points = s.points.filter((p) => p.t > t - rangeMs && p.t <= t && !Number.isNaN(p.v));
    if (points.length > 0) out.push({ labels: s.labels, points });
  }
  return out;
}

/** Prometheus's extrapolated increase (isRate: per second) of one counter over (t - range, t]. */
export function extrapolatedIncrease(points: readonly Point[], t: number, rangeMs: number, isRate: boolean): number | undefined {
  if (points.length < 2) return undefined;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  let delta = last.v - first.v;
  for (let i = 1; i < points.length; i++) if (points[i]!.v < points[i - 1]!.v) delta += points[i - 1]!.v;
  const rangeStart = t - rangeMs;
  const sampled = (last.t - first.t) / 1000;
  if (sampled <= 0) return undefined;
  let toStart = (first.t - rangeStart) / 1000;
  const toEnd = (t - last.t) / 1000;
  const avg = sampled / (points.length - 1);
  if (delta > 0 && first.v >= 0) {
    const toZero = sampled * (first.v / delta);
    if (toZero < toStart) toStart = toZero;
  }
  const threshold = avg * 1.1;
  let interval = sampled;
  interval += toStart < threshold ? toStart : avg / 2;
  interval += toEnd < threshold ? toEnd : avg / 2;
  let v = delta * (interval / sampled);
  if (isRate) v /= rangeMs / 1000;
  return v;
}

function compare(op: BinaryOp, a: number, b: number): boolean {
  switch (op) {
    case '==': return a === b;
    case '!=': return a !== b;
    case '<': return a < b;
    case '>': return a > b;
    case '<=': return a <= b;
    default: return a >= b;
  }
}

function arith(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+': return a + b;
    case '-': return a - b;
    case '*': return a * b;
    default: return a / b;
  }
}

function vectorOf(v: Value, what: string): Sample[] {
  if (v.kind !== 'vector') throw new PromqlError(`${what} needs an instant vector`);
  return v.samples;
}

export function evaluate(e: Expr, db: SampleStore, t: number): Value {
  switch (e.type) {
    case 'number':
      return { kind: 'scalar', value: e.value };
    case 'selector':
      if (e.rangeMs !== undefined) throw new PromqlError('a range selector can only be a function argument');
      return { kind: 'vector', samples: instant(db, e.matchers, t) };
    case 'call': {
      if (e.fn === 'time') return { kind: 'scalar', value: t / 1000 };
      const arg = e.args[0]!;
      if (e.fn === 'absent') {
        if (vectorOf(evaluate(arg, db, t), 'absent()').length > 0) return { kind: 'vector', samples: [] };
        const labels: Record<string, string> = {};
        if (arg.type === 'selector') for (const m of arg.matchers) if (m.op === '=' && m.label !== '__name__') labels[m.label] = m.value;
        return { kind: 'vector', samples: [{ labels, value: 1 }] };
      }
      if (arg.type !== 'selector' || arg.rangeMs === undefined) throw new PromqlError(`${e.fn}() needs a range selector`);
      const samples: Sample[] = [];
      for (const s of range(db, arg.matchers, t, arg.rangeMs)) {
        let v: number | undefined;
        if (e.fn === 'changes') {
          v = 0;
          for (let i = 1; i < s.points.length; i++) if (s.points[i]!.v !== s.points[i - 1]!.v) v++;
        } else {
          v = extrapolatedIncrease(s.points, t, arg.rangeMs, e.fn === 'rate');
        }
        if (v !== undefined) samples.push({ labels: withoutName(s.labels), value: v });
      }
      return { kind: 'vector', samples };
    }
    case 'agg': {
      const groups = new Map<string, { labels: Labels; values: number[] }>();
      for (const s of vectorOf(evaluate(e.expr, db, t), e.op)) {
        const labels: Record<string, string> = {};
        for (const l of e.by) if (s.labels[l] !== undefined && s.labels[l] !== '') labels[l] = s.labels[l];
        const key = labelsKey(labels);
        const g = groups.get(key) ?? { labels, values: [] };
        g.values.push(s.value);
        groups.set(key, g);
      }
      const samples = [...groups.values()].map((g): Sample => {
        const vs = g.values;
        const value = e.op === 'sum' ? vs.reduce((a, b) => a + b, 0)
          : e.op === 'max' ? Math.max(...vs)
          : e.op === 'min' ? Math.min(...vs)
          : e.op === 'count' ? vs.length
          : vs.reduce((a, b) => a + b, 0) / vs.length;
        return { labels: g.labels, value };
      });
      return { kind: 'vector', samples };
    }
    case 'binary': {
      const l = evaluate(e.lhs, db, t);
      const r = evaluate(e.rhs, db, t);
      const cmp = COMPARISONS.has(e.op);
      if (l.kind === 'scalar' && r.kind === 'scalar') {
        if (cmp) throw new PromqlError('comparisons between scalars need `bool`, which is not supported');
        return { kind: 'scalar', value: arith(e.op, l.value, r.value) };
      }
      if (l.kind === 'vector' && r.kind === 'scalar') {
        return { kind: 'vector', samples: l.samples.flatMap((s) => cmp ? (compare(e.op, s.value, r.value) ? [s] : []) : [{ labels: withoutName(s.labels), value: arith(e.op, s.value, r.value) }]) };
      }
      if (l.kind === 'scalar' && r.kind === 'vector') {
        return { kind: 'vector', samples: r.samples.flatMap((s) => cmp ? (compare(e.op, l.value, s.value) ? [s] : []) : [{ labels: withoutName(s.labels), value: arith(e.op, l.value, s.value) }]) };
      }
      const rhs = new Map<string, Sample>();
      for (const s of (r as { samples: Sample[] }).samples) {
        const key = labelsKey(withoutName(s.labels));
        if (rhs.has(key)) throw new PromqlError(`many-to-one matching: the right side has two series with labels ${key}`);
        rhs.set(key, s);
      }
      const out: Sample[] = [];
      const seen = new Set<string>();
      for (const s of (l as { samples: Sample[] }).samples) {
        const key = labelsKey(withoutName(s.labels));
        if (seen.has(key)) throw new PromqlError(`many-to-one matching: the left side has two series with labels ${key}`);
        seen.add(key);
        const o = rhs.get(key);
        if (!o) continue;
        if (cmp) {
          if (compare(e.op, s.value, o.value)) out.push(s);
        } else out.push({ labels: withoutName(s.labels), value: arith(e.op, s.value, o.value) });
      }
      return { kind: 'vector', samples: out };
    }
  }
}
