// Field-level validation errors in Kubernetes' wording. Each constructor returns a
// `FieldCause` whose `message` is what Kubernetes calls the error *body* (the text without
// the field path), e.g. `Invalid value: "Foo": <detail>`; `formatCause` adds the path.
// Guarantees: the reason strings and message shapes of apimachinery's field errors.
// Does not: reproduce Go's `%#v` rendering of arbitrary structs (those render as JSON).
import type { FieldCause } from '../../errors.js';

export type Reason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound';

/** Go-style rendering of a bad value: strings quoted, numbers and booleans bare. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    // A string map prints as Go's %#v of map[string]string does (sorted keys), which is how
    // Kubernetes shows labels in "`selector` does not match template `labels`".
    if (entries.every(([, x]) => typeof x === 'string')) {
      const body = entries
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`)
        .join(', ');
      return `map[string]string{${body}}`;
    }
  }
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) {
    return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  }
  return JSON.stringify(v);
}

function withDetail(head: string, detail: string): string {
  return detail === '' ? head : `${head}: ${detail}`;
}

export function required(field: string, detail = ''): FieldCause {
  return { reason: 'FieldValueRequired', field, message: withDetail('Required value', detail) };
}

export function invalid(field: string, value: unknown, detail: string): FieldCause {
  return { reason: 'FieldValueInvalid', field, message: withDetail(`Invalid value: ${formatValue(value)}`, detail) };
}

export function duplicate(field: string, value: unknown): FieldCause {
  return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${formatValue(value)}` };
}

export function notSupported(field: string, value: unknown, supported: readonly string[]): FieldCause {
  const detail = supported.length === 0 ? '' : `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`;
  return { reason: 'FieldValueNotSupported', field, message: withDetail(`Unsupported value: ${formatValue(value)}`, detail) };
}

export function forbidden(field: string, detail: string): FieldCause {
  return { reason: 'FieldValueForbidden', field, message: withDetail('Forbidden', detail) };
}

export function tooLong(field: string, maxBytes: number): FieldCause {
  return { reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${maxBytes} bytes` };
}

export function tooMany(field: string, actual: number, max: number): FieldCause {
  return { reason: 'FieldValueTooMany', field, message: `Too many: ${actual}: must have at most ${max} items` };
}

export function notFound(field: string, value: unknown): FieldCause {
  return { reason: 'FieldValueNotFound', field, message: `Not found: ${formatValue(value)}` };
}

/** `Invalid value` causes for each message a syntax check returned. */
export function invalidEach(field: string, value: unknown, msgs: readonly string[]): FieldCause[] {
  return msgs.map((m) => invalid(field, value, m));
}

/** `field: body`, the form Kubernetes joins into an Invalid error's message. */
export function formatCause(c: FieldCause): string {
  return c.field === '' ? c.message : `${c.field}: ${c.message}`;
}

/** Path helpers: `child('spec', 'x')` → `spec.x`; `index('a', 0)` → `a[0]`; `key('data', 'k')` → `data[k]`. */
export function child(base: string, ...names: string[]): string {
  return [base, ...names].filter((s) => s !== '').join('.');
}

export function index(base: string, i: number): string {
  return `${base}[${i}]`;
}

export function key(base: string, k: string): string {
  return `${base}[${k}]`;
}

// Common details, worded as apimachinery words them.
export const NEGATIVE_MSG = 'must be greater than or equal to 0';
export const IMMUTABLE_MSG = 'field is immutable';
export function inclusiveRange(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}
