// Label and field selectors with Kubernetes semantics (k8s.io/apimachinery labels + fields,
// plus the per-kind selectable fields of the core registries).
//
// Guarantees: the label-selector string grammar of Kubernetes (`a=b`, `a==b`, `a!=b`,
// `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma-separated) with its
// validation of keys and values; requirements sorted by key, so `selectorToString` is the
// canonical form (what `status.selector` of a scale subresource shows); a nil
// `metav1.LabelSelector` selects nothing, an empty one everything. Field selectors support
// `=`, `==`, `!=` with `\`-escaping of `\`, `,` and `=` in values.
// Does not: support set-based field selectors (Kubernetes has none), nor field selectors on
// fields other than those listed in FIELD_KEYS.

import { TriremeError, type FieldCause } from '../errors.js';
import { isPlainObject, type KubeObject } from './object.js';
import { checkLabelValue, checkQualifiedName } from './validation/names.js';

// ---------------------------------------------------------------------------------------
// Label selectors

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  /** Sorted, de-duplicated. Empty for `exists` / `!`. */
  readonly values: readonly string[];
}

export interface LabelSelector {
  readonly requirements: readonly LabelRequirement[];
  /** True for the selector of a nil `metav1.LabelSelector`: matches no object. */
  readonly nothing?: boolean;
}

export const EVERYTHING: LabelSelector = Object.freeze({ requirements: Object.freeze([]) });
export const NOTHING: LabelSelector = Object.freeze({ requirements: Object.freeze([]), nothing: true });

/** Build a validated requirement; returns the problem (a `field: Invalid value: ...` message) instead of throwing. */
function newRequirement(key: string, operator: LabelOperator, values: string[], path: string): LabelRequirement | FieldCause {
  const invalid = (field: string, value: string, detail: string): FieldCause =>
    ({ reason: 'FieldValueInvalid', field, message: `${field}: Invalid value: ${value}: ${detail}` });
  const keyErrs = checkQualifiedName(key);
  if (keyErrs.length > 0) return invalid(`${path}key`, JSON.stringify(key), keyErrs.join('; '));
  const shown = `[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`;
  switch (operator) {
    case 'in': case 'notin':
      if (values.length === 0) return invalid(`${path}values`, shown, "for 'in', 'notin' operators, values set can't be empty");
      break;
    case '=': case '==': case '!=':
      if (values.length !== 1) return invalid(`${path}values`, shown, 'exact-match compatibility requires one single value');
      break;
    case 'exists': case '!':
      if (values.length !== 0) return invalid(`${path}values`, shown, 'values set must be empty for exists and does not exist');
      break;
    case 'gt': case 'lt':
      if (values.length !== 1) return invalid(`${path}values`, shown, "for 'Gt', 'Lt' operators, exactly one value is required");
      if (!/^[-+]?\d+$/.test(values[0] ?? '')) return invalid(`${path}values[0]`, shown, "for 'Gt', 'Lt' operators, the value must be an integer");
      return { key, operator, values };
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? '';
    const errs = checkLabelValue(v);
    if (errs.length > 0) return invalid(`${path}values[${i}]`, JSON.stringify(v), errs.join('; '));
  }
  return { key, operator, values: [...new Set(values)].sort() };
}

function isCause(x: LabelRequirement | FieldCause): x is FieldCause {
  return 'reason' in x;
}

function sortByKey(reqs: LabelRequirement[]): LabelRequirement[] {
  return reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

// Lexer of the label-selector grammar.
type TokKind = 'id' | 'end' | '!' | '!=' | '(' | ')' | ',' | '=' | '==' | '>' | '<' | 'in' | 'notin';
interface Token { kind: TokKind; lit: string }

function isSpecial(c: string): boolean {
  return '=!(),><'.includes(c);
}

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i] ?? '';
    if (/\s/.test(c)) { i++; continue; }
    if (isSpecial(c)) {
      const two = s.slice(i, i + 2);
      if (two === '!=' || two === '==') { out.push({ kind: two, lit: two }); i += 2; continue; }
      out.push({ kind: c as TokKind, lit: c });
      i++;
      continue;
    }
    let j = i;
    while (j < s.length && !/\s/.test(s[j] ?? '') && !isSpecial(s[j] ?? '')) j++;
    const word = s.slice(i, j);
    out.push({ kind: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'id', lit: word });
    i = j;
  }
  out.push({ kind: 'end', lit: '' });
  return out;
}

class LabelParser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}

  /** In value position, `in` / `notin` are plain identifiers. */
  private peek(values: boolean): Token {
    const t = this.toks[this.pos] ?? { kind: 'end', lit: '' };
    return values && (t.kind === 'in' || t.kind === 'notin') ? { kind: 'id', lit: t.lit } : t;
  }
  private next(values: boolean): Token {
    const t = this.peek(values);
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const t = this.peek(true);
      if (t.kind === 'end') return reqs;
      if (t.kind !== 'id' && t.kind !== '!') throw this.fail(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      reqs.push(this.requirement());
      const sep = this.next(true);
      if (sep.kind === 'end') return reqs;
      if (sep.kind !== ',') throw this.fail(`found '${sep.lit}', expected: ',' or 'end of string'`);
      const after = this.peek(true);
      if (after.kind !== 'id' && after.kind !== '!') throw this.fail(`found '${after.lit}', expected: identifier after ','`);
    }
  }

  private fail(msg: string): TriremeError {
    return new TriremeError('BadRequest', msg);
  }

  private requirementError(msg: string, cause?: FieldCause): TriremeError {
    return new TriremeError('BadRequest', `unable to parse requirement: ${msg}`, { causes: cause ? [cause] : [] });
  }

  private requirement(): LabelRequirement {
    let t = this.next(true);
    let negated = false;
    if (t.kind === '!') { negated = true; t = this.next(true); }
    if (t.kind !== 'id') throw this.requirementError(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = checkQualifiedName(key);
    if (keyErrs.length > 0) throw this.requirementError(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
    // `!key` is complete by itself; anything after it is reported by the caller as a bad separator.
    if (negated) return this.build(key, '!', []);
    const la = this.peek(true).kind;
    if (la === 'end' || la === ',') return this.build(key, 'exists', []);
    const opTok = this.next(false);
    let op: LabelOperator;
    switch (opTok.kind) {
      case 'in': op = 'in'; break;
      case 'notin': op = 'notin'; break;
      case '=': op = '='; break;
      case '==': op = '=='; break;
      case '!=': op = '!='; break;
      case '>': op = 'gt'; break;
      case '<': op = 'lt'; break;
      default: throw this.requirementError(`found '${opTok.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const values = op === 'in' || op === 'notin' ? this.setValues() : this.exactValue();
    return this.build(key, op, values);
  }

  private build(key: string, op: LabelOperator, values: string[]): LabelRequirement {
    const r = newRequirement(key, op, values, '');
    if (isCause(r)) throw this.requirementError(r.message, r);
    return r;
  }

  private setValues(): string[] {
    const open = this.next(true);
    if (open.kind !== '(') throw this.requirementError(`found '${open.lit}' expected: '('`);
    const first = this.peek(true);
    if (first.kind === ')') { this.next(true); return ['']; }
    if (first.kind !== 'id' && first.kind !== ',') throw this.requirementError(`found '${first.lit}', expected: ',', ')' or identifier`);
    const vals: string[] = [];
    for (;;) {
      const t = this.next(true);
      if (t.kind === 'id') {
        vals.push(t.lit);
        const n = this.peek(true);
        if (n.kind === ',') { this.next(true); if (this.peek(true).kind === ')') vals.push(''); continue; }
        if (n.kind === ')') { this.next(true); return vals; }
        throw this.requirementError(`found '${n.lit}', expected: ',' or ')'`);
      } else if (t.kind === ',') {
        // Empty members: `(,a)`, `(a,,b)`, `(a,)` all include the empty value.
        vals.push('');
        if (this.peek(true).kind === ')') { this.next(true); return vals; }
      } else if (t.kind === ')') {
        return vals;
      } else {
        throw this.requirementError(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
  }

  private exactValue(): string[] {
    const t = this.peek(true);
    if (t.kind === 'end' || t.kind === ',') return [''];
    this.next(true);
    if (t.kind === 'id') return [t.lit];
    throw this.requirementError(`found '${t.lit}', expected: identifier`);
  }
}

/** Parse a `labelSelector` query parameter. Throws TriremeError('BadRequest') like Kubernetes. */
export function parseLabelSelector(s: string): LabelSelector {
  const reqs = new LabelParser(lex(s)).parse();
  return { requirements: sortByKey(reqs) };
}

const EXPRESSION_OPERATORS: Readonly<Record<string, LabelOperator>> = {
  In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!',
};

/**
 * The selector of a `metav1.LabelSelector` (matchLabels + matchExpressions). `null` /
 * `undefined` select nothing; `{}` selects everything. Throws TriremeError('Invalid').
 */
export function labelSelectorFromObject(sel: unknown, fieldPath = 'selector'): LabelSelector {
  if (sel === null || sel === undefined) return NOTHING;
  if (!isPlainObject(sel)) throw invalidSelector(fieldPath, { reason: 'FieldValueInvalid', field: fieldPath, message: `${fieldPath}: Invalid value: must be an object` });
  const reqs: LabelRequirement[] = [];
  const { matchLabels, matchExpressions } = sel;
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isPlainObject(matchLabels)) throw invalidSelector(fieldPath, { reason: 'FieldValueInvalid', field: `${fieldPath}.matchLabels`, message: 'matchLabels must be a map of strings' });
    for (const [k, v] of Object.entries(matchLabels)) {
      const path = `${fieldPath}.matchLabels`;
      if (typeof v !== 'string') throw invalidSelector(fieldPath, { reason: 'FieldValueInvalid', field: `${path}[${k}]`, message: `${path}[${k}]: Invalid value: must be a string` });
      reqs.push(must(newRequirement(k, '=', [v], `${path}.`), fieldPath));
    }
  }
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) throw invalidSelector(fieldPath, { reason: 'FieldValueInvalid', field: `${fieldPath}.matchExpressions`, message: 'matchExpressions must be a list' });
    matchExpressions.forEach((e: unknown, i) => {
      const path = `${fieldPath}.matchExpressions[${i}]`;
      if (!isPlainObject(e)) throw invalidSelector(fieldPath, { reason: 'FieldValueInvalid', field: path, message: `${path}: Invalid value: must be an object` });
      const op = typeof e.operator === 'string' ? EXPRESSION_OPERATORS[e.operator] : undefined;
      if (op === undefined) {
        throw invalidSelector(fieldPath, { reason: 'FieldValueNotSupported', field: `${path}.operator`, message: `${JSON.stringify(e.operator)} is not a valid label selector operator` });
      }
      const key = typeof e.key === 'string' ? e.key : '';
      const values = Array.isArray(e.values) ? e.values.map(String) : [];
      reqs.push(must(newRequirement(key, op, values, `${path}.`), fieldPath));
    });
  }
  return { requirements: sortByKey(reqs) };
}

function must(r: LabelRequirement | FieldCause, fieldPath: string): LabelRequirement {
  if (isCause(r)) throw invalidSelector(fieldPath, r);
  return r;
}

function invalidSelector(fieldPath: string, cause: FieldCause): TriremeError {
  return new TriremeError('Invalid', `invalid label selector ${fieldPath}: ${cause.message}`, { causes: [cause] });
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case 'in': case '=': case '==':
      return has && r.values.includes(v ?? '');
    case 'notin': case '!=':
      return !has || !r.values.includes(v ?? '');
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt': case 'lt': {
      if (!has || !/^[-+]?\d+$/.test(v ?? '')) return false;
      const lhs = BigInt(v ?? '0');
      const rhs = BigInt(r.values[0] ?? '0');
      return r.operator === 'gt' ? lhs > rhs : lhs < rhs;
    }
  }
}

/** Whether `labels` satisfy every requirement of `selector`. */
export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (selector.nothing) return false;
  const l = labels ?? {};
  return selector.requirements.every((r) => requirementMatches(r, l));
}

function requirementToString(r: LabelRequirement): string {
  switch (r.operator) {
    case 'exists': return r.key;
    case '!': return `!${r.key}`;
    case 'in': return `${r.key} in (${r.values.join(',')})`;
    case 'notin': return `${r.key} notin (${r.values.join(',')})`;
    case 'gt': return `${r.key}>${r.values[0] ?? ''}`;
    case 'lt': return `${r.key}<${r.values[0] ?? ''}`;
    default: return `${r.key}${r.operator}${r.values[0] ?? ''}`;
  }
}

/** Canonical string form (requirements sorted by key); `''` for everything and nothing. */
export function selectorToString(selector: LabelSelector): string {
  return selector.requirements.map(requirementToString).join(',');
}

/** True for the selector that matches everything (no requirements, not "nothing"). */
export function isEmpty(selector: LabelSelector): boolean {
  return !selector.nothing && selector.requirements.length === 0;
}

// ---------------------------------------------------------------------------------------
// Field selectors

export interface FieldRequirement {
  readonly field: string;
  readonly operator: '=' | '!=';
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

/** Split on commas not escaped by a backslash (the escapes stay for unescapeValue). */
function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\' && i + 1 < s.length) { cur += c + (s[i + 1] ?? ''); i++; continue; }
    if (c === ',') { terms.push(cur); cur = ''; continue; }
    cur += c;
  }
  terms.push(cur);
  return terms;
}

function unescapeValue(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined) throw new TriremeError('BadRequest', 'invalid field selector: invalid escape sequence: \\');
      if (n !== '\\' && n !== ',' && n !== '=') throw new TriremeError('BadRequest', `invalid field selector: invalid escape sequence: \\${n}`);
      out += n;
      i++;
    } else if (c === ',' || c === '=') {
      throw new TriremeError('BadRequest', `invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  return out;
}

/** Parse a `fieldSelector` query parameter (`f=v`, `f==v`, `f!=v`, comma-separated). */
export function parseFieldSelector(s: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(s).sort()) {
    if (term === '') continue;
    // The first operator occurrence splits the term; `!=` and `==` win over `=` at the same place.
    const m = /^(.*?)(!=|==|=)(.*)$/s.exec(term);
    if (!m) throw new TriremeError('BadRequest', `invalid selector: '${s}'; can't understand '${term}'`);
    const [, field = '', op = '=', rhs = ''] = m;
    reqs.push({ field: field.trim(), operator: op === '!=' ? '!=' : '=', value: unescapeValue(rhs) });
  }
  return { requirements: reqs };
}

/** Whether `fields` (from fieldsOf) satisfy the selector; a missing field counts as `''`. */
export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  return sel.requirements.every((r) => {
    const v = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
    return r.operator === '=' ? v === r.value : v !== r.value;
  });
}

const META_KEYS = ['metadata.name', 'metadata.namespace'];
const CORE_EVENT_KEYS = [
  'involvedObject.kind', 'involvedObject.namespace', 'involvedObject.name', 'involvedObject.uid',
  'involvedObject.apiVersion', 'involvedObject.resourceVersion', 'involvedObject.fieldPath',
  'reason', 'reportingComponent', 'source', 'type',
];
const EVENTS_V1_KEYS = [
  'regarding.kind', 'regarding.namespace', 'regarding.name', 'regarding.uid',
  'regarding.apiVersion', 'regarding.resourceVersion', 'regarding.fieldPath',
  'reason', 'reportingController', 'type',
];

/** Selectable fields beyond metadata.name/namespace, per kind (core Event; see fieldKeys for events.k8s.io). */
const FIELD_KEYS: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'],
  Event: CORE_EVENT_KEYS,
  Secret: ['type'],
  Node: ['spec.unschedulable'],
  Namespace: ['status.phase'],
  ReplicaSet: ['status.replicas'],
};

/** The field labels a kind supports; `group` tells the two Event kinds apart (both when omitted). */
export function fieldKeys(kind: string, group?: string): string[] {
  if (kind === 'Event') {
    if (group === 'events.k8s.io') return [...META_KEYS, ...EVENTS_V1_KEYS];
    if (group === '') return [...META_KEYS, ...CORE_EVENT_KEYS];
    return [...META_KEYS, ...new Set([...CORE_EVENT_KEYS, ...EVENTS_V1_KEYS])];
  }
  return [...META_KEYS, ...(FIELD_KEYS[kind] ?? [])];
}

/** Throws TriremeError('BadRequest', 'field label not supported: x') for a field the kind does not support. */
export function validateFieldSelector(kind: string, sel: FieldSelector, group?: string): void {
  const keys = new Set(fieldKeys(kind, group));
  for (const r of sel.requirements) {
    if (!keys.has(r.field)) throw new TriremeError('BadRequest', `field label not supported: ${r.field}`, { context: { kind } });
  }
}

function str(v: unknown): string {
  if (v === undefined || v === null) return '';
  return typeof v === 'string' ? v : String(v);
}

function get(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const p of path.split('.')) {
    if (!isPlainObject(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

/** The selectable fields of `obj`, as strings (booleans `true`/`false`, numbers in decimal). */
export function fieldsOf(kind: string, obj: KubeObject): Record<string, string> {
  const f: Record<string, string> = {
    'metadata.name': str(obj.metadata?.name),
    'metadata.namespace': str(obj.metadata?.namespace),
  };
  switch (kind) {
    case 'Pod': {
      for (const k of ['spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName', 'status.phase', 'status.nominatedNodeName']) f[k] = str(get(obj, k));
      f['spec.hostNetwork'] = get(obj, 'spec.hostNetwork') === true ? 'true' : 'false';
      // Kubernetes takes the first of status.podIPs, falling back to status.podIP.
      const ips = get(obj, 'status.podIPs');
      const first = Array.isArray(ips) && isPlainObject(ips[0]) ? ips[0].ip : undefined;
      f['status.podIP'] = str(first ?? get(obj, 'status.podIP'));
      break;
    }
    case 'Event':
      if (typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('events.k8s.io/')) {
        for (const k of EVENTS_V1_KEYS) f[k] = str(get(obj, k));
      } else {
        for (const k of CORE_EVENT_KEYS) f[k] = str(get(obj, k));
        f.source = str(get(obj, 'source.component'));
      }
      break;
    case 'Secret':
      f.type = str(obj.type);
      break;
    case 'Node':
      f['spec.unschedulable'] = get(obj, 'spec.unschedulable') === true ? 'true' : 'false';
      break;
    case 'Namespace':
      f['status.phase'] = str(get(obj, 'status.phase'));
      break;
    case 'ReplicaSet':
      f['status.replicas'] = str(get(obj, 'status.replicas') ?? 0);
      break;
  }
  return f;
}
