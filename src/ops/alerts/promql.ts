// A parser for the subset of PromQL the shipped alert rules use (deploy/prometheus/alerts.yaml):
// numbers; selectors `name{label="v", label!="v", label=~"re", label!~"re"}` with an optional
// range `[5m]`; calls rate, increase, changes (of a range), absent (of an instant vector) and
// time(); aggregations sum, max, min, count, avg with `by (labels)` before or after the
// argument; + - * / and the comparisons == != < > <= >= (filters, without `bool`), with
// PromQL's precedence (* / over + - over comparisons, left-associative), and parentheses.
// Guarantees: pure; anything outside the subset is refused with a PromqlError naming what and
// where, never silently misread. Does not: evaluate (eval.ts), support `offset`, `@`, `on`/
// `ignoring`/`group_left`, `and`/`or`/`unless`, subqueries or other functions.
export class PromqlError extends Error {
  override readonly name = 'PromqlError';
}

export type MatchOp = '=' | '!=' | '=~' | '!~';
export interface Matcher { label: string; op: MatchOp; value: string }

export type BinaryOp = '+' | '-' | '*' | '/' | '==' | '!=' | '<' | '>' | '<=' | '>=';
export type AggOp = 'sum' | 'max' | 'min' | 'count' | 'avg';
export type FnName = 'rate' | 'increase' | 'changes' | 'absent' | 'time';

export type Expr =
  | { type: 'number'; value: number }
  | { type: 'selector'; matchers: Matcher[]; rangeMs?: number }
  | { type: 'call'; fn: FnName; args: Expr[] }
  | { type: 'agg'; op: AggOp; by: string[]; expr: Expr }
  | { type: 'binary'; op: BinaryOp; lhs: Expr; rhs: Expr };

export const COMPARISONS: ReadonlySet<BinaryOp> = new Set(['==', '!=', '<', '>', '<=', '>=']);
const AGGS: ReadonlySet<string> = new Set(['sum', 'max', 'min', 'count', 'avg']);
const FNS: ReadonlySet<string> = new Set(['rate', 'increase', 'changes', 'absent', 'time']);
const RANGE_FNS: ReadonlySet<string> = new Set(['rate', 'increase', 'changes']);

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** A Prometheus duration (`30s`, `1h30m`, `500ms`) in milliseconds. */
export function parseDuration(text: string): number {
  const re = /(\d+)(ms|s|m|h|d|w|y)/gy;
  let total = 0;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    at = re.lastIndex;
  }
  if (text === '' || at !== text.length) throw new PromqlError(`not a duration: ${JSON.stringify(text)}`);
  return total;
}

type Tok =
  | { k: 'num'; v: number; at: number }
  | { k: 'id'; v: string; at: number }
  | { k: 'str'; v: string; at: number }
  | { k: 'dur'; v: number; at: number }
  | { k: 'op'; v: string; at: number }
  | { k: 'end'; at: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    const rest = src.slice(i);
    let m: RegExpExecArray | null;
    if (c === '[') {
      const close = src.indexOf(']', i);
      if (close < 0) throw new PromqlError(`unclosed [ at ${i}`);
      out.push({ k: 'dur', v: parseDuration(src.slice(i + 1, close).trim()), at: i });
      i = close + 1;
    } else if ((m = /^(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(rest))) {
      out.push({ k: 'num', v: Number(m[0]), at: i });
      i += m[0].length;
    } else if ((m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(rest))) {
      out.push({ k: 'id', v: m[0], at: i });
      i += m[0].length;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\') {
          const e = src[j + 1];
          v += e === 'n' ? '\n' : e === 't' ? '\t' : (e ?? '');
          j += 2;
        } else v += src[j++];
      }
      if (j >= src.length) throw new PromqlError(`unclosed string at ${i}`);
      out.push({ k: 'str', v, at: i });
      i = j + 1;
    } else if ((m = /^(==|!=|<=|>=|=~|!~|[-+*/<>=(){},])/.exec(rest))) {
      out.push({ k: 'op', v: m[0], at: i });
      i += m[0].length;
    } else {
      throw new PromqlError(`unexpected ${JSON.stringify(c)} at ${i}`);
    }
  }
  out.push({ k: 'end', at: src.length });
  return out;
}

/** Parses one expression of the subset; throws PromqlError otherwise. */
export function parseExpr(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p]!;
  const isOp = (v: string) => { const t = peek(); return t.k === 'op' && t.v === v; };
  const expectOp = (v: string) => {
    const t = peek();
    if (t.k !== 'op' || t.v !== v) throw new PromqlError(`expected ${v} at ${t.at} in ${JSON.stringify(src)}`);
    p++;
  };
  const labelList = (): string[] => {
    expectOp('(');
    const names: string[] = [];
    while (!isOp(')')) {
      const t = peek();
      if (t.k !== 'id') throw new PromqlError(`expected a label name at ${t.at}`);
      names.push(t.v);
      p++;
      if (!isOp(')')) expectOp(',');
    }
    p++;
    return names;
  };

  const levels: BinaryOp[][] = [['==', '!=', '<', '>', '<=', '>='], ['+', '-'], ['*', '/']];
  const binary = (level: number): Expr => {
    if (level === levels.length) return unary();
    let lhs = binary(level + 1);
    for (;;) {
      const t = peek();
      if (t.k === 'op' && (levels[level] as string[]).includes(t.v)) {
        p++;
        if (peek().k === 'id' && (peek() as { v: string }).v === 'bool') throw new PromqlError('the bool modifier is not supported');
        const rhs = binary(level + 1);
        lhs = { type: 'binary', op: t.v as BinaryOp, lhs, rhs };
      } else return lhs;
    }
  };

  const unary = (): Expr => {
    const t = peek();
    if (t.k === 'op' && t.v === '-') {
      p++;
      const e = unary();
      return { type: 'binary', op: '*', lhs: { type: 'number', value: -1 }, rhs: e };
    }
    if (t.k === 'num') { p++; return { type: 'number', value: t.v }; }
    if (t.k === 'op' && t.v === '(') {
      p++;
      const e = binary(0);
      expectOp(')');
      return e;
    }
    if (t.k === 'op' && t.v === '{') return selector(undefined);
    if (t.k !== 'id') throw new PromqlError(`unexpected token at ${t.at} in ${JSON.stringify(src)}`);
    p++;
    if (AGGS.has(t.v)) {
      let by: string[] = [];
      if (peek().k === 'id' && (peek() as { v: string }).v === 'by') { p++; by = labelList(); }
      else if (peek().k === 'id' && (peek() as { v: string }).v === 'without') throw new PromqlError('`without` is not supported');
      expectOp('(');
      const e = binary(0);
      expectOp(')');
      if (peek().k === 'id' && (peek() as { v: string }).v === 'by') { p++; by = labelList(); }
      return { type: 'agg', op: t.v as AggOp, by, expr: e };
    }
    if (isOp('(')) {
      if (!FNS.has(t.v)) throw new PromqlError(`function ${t.v}() is not supported`);
      p++;
      const args: Expr[] = [];
      while (!isOp(')')) {
        args.push(binary(0));
        if (!isOp(')')) expectOp(',');
      }
      p++;
      const fn = t.v as FnName;
      const want = fn === 'time' ? 0 : 1;
      if (args.length !== want) throw new PromqlError(`${fn}() takes ${want} argument${want === 1 ? '' : 's'}`);
      const arg = args[0];
      if (RANGE_FNS.has(fn) && !(arg?.type === 'selector' && arg.rangeMs !== undefined)) throw new PromqlError(`${fn}() needs a range selector like x[5m]`);
      if (fn === 'absent' && arg?.type === 'selector' && arg.rangeMs !== undefined) throw new PromqlError('absent() takes an instant vector');
      return { type: 'call', fn, args };
    }
    return selector(t.v);
  };

  const selector = (name: string | undefined): Expr => {
    const matchers: Matcher[] = name === undefined ? [] : [{ label: '__name__', op: '=', value: name }];
    if (isOp('{')) {
      p++;
      while (!isOp('}')) {
        const l = peek();
        if (l.k !== 'id') throw new PromqlError(`expected a label name at ${l.at}`);
        p++;
        const o = peek();
        if (o.k !== 'op' || !['=', '!=', '=~', '!~'].includes(o.v)) throw new PromqlError(`expected a matcher operator at ${o.at}`);
        p++;
        const v = peek();
        if (v.k !== 'str') throw new PromqlError(`expected a quoted value at ${v.at}`);
        p++;
        matchers.push({ label: l.v, op: o.v as MatchOp, value: v.v });
        if (!isOp('}')) expectOp(',');
      }
      p++;
    }
    if (matchers.length === 0) throw new PromqlError('a selector needs a metric name or a matcher');
    const d = peek();
    if (d.k === 'dur') {
      p++;
      return { type: 'selector', matchers, rangeMs: d.v };
    }
    return { type: 'selector', matchers };
  };

  const e = binary(0);
  if (peek().k !== 'end') throw new PromqlError(`unexpected trailing input at ${peek().at} in ${JSON.stringify(src)}`);
  return e;
}
