// Typed, total accessors over decoded JSON. API objects reach us as `unknown`-valued trees
// straight from the JSON decoder; these helpers read them without throwing and without
// `any`. Guarantees: never throw, never mutate. Does not coerce types: a field of the wrong
// JSON type reads as absent (validators that care report the type themselves).
import { isPlainObject } from '../object.js';

export type Obj = Record<string, unknown>;

export function asObj(v: unknown): Obj | undefined {
  return isPlainObject(v) ? v : undefined;
}

export function asArr(v: unknown): unknown[] | undefined {
  return Array.isArray(v) ? v : undefined;
}

export function asStr(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function asNum(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Objects of an array field; non-object entries read as empty objects so indexes stay aligned. */
export function objList(v: unknown): Obj[] {
  return (asArr(v) ?? []).map((x) => asObj(x) ?? {});
}

/** A map of string to string (labels, selectors, ConfigMap data); non-string values are kept out. */
export function strMap(v: unknown): Record<string, string> | undefined {
  const o = asObj(v);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(o)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** The child object at `key`, created (and attached) when absent or not an object. */
export function ensureObj(parent: Obj, key: string): Obj {
  const cur = asObj(parent[key]);
  if (cur) return cur;
  const fresh: Obj = {};
  parent[key] = fresh;
  return fresh;
}

/** Sets `parent[key] = value` unless a value (anything but undefined/null/'') is already there. */
export function setDefault(parent: Obj, key: string, value: unknown): void {
  const cur = parent[key];
  if (cur === undefined || cur === null || cur === '') parent[key] = value;
}

/** Deep structural equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => jsonEqual(a[k], b[k]));
  }
  return false;
}
