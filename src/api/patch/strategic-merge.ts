// Strategic merge patch with the semantics of Kubernetes' apimachinery `strategicpatch`
// (server side: parallel deletion lists merged, unmatched nulls ignored).
//
// Guarantees: pure (inputs are never mutated; the result shares no structure with them);
// maps merge recursively and `null` deletes a key; lists are replaced unless the field is
// tagged `merge` in patch-meta.ts, in which case lists of maps merge by the merge key and
// lists of scalars merge as sets; the directives `$patch` (replace / delete, and `merge` as
// a no-op), `$retainKeys`, `$setElementOrder/<f>` and `$deleteFromPrimitiveList/<f>` are
// honoured; the resulting list order follows Kubernetes (patch order first, server-only
// items interleaved by their position in the live list). Values the original lacks are
// taken from the patch with directives and nulls stripped, as Kubernetes does.
// Malformed directives throw TriremeError('BadRequest').
// Does not: validate the result against a schema, nor compute patches (no diff/3-way).

import { TriremeError } from '../../errors.js';
import { isPlainObject } from '../object.js';
import { lookupField, mergesLists, rootTypeForKind, type FieldPatchMeta } from './patch-meta.js';

type JsonMap = Record<string, unknown>;

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER_PREFIX = '$setElementOrder/';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';
// JSON.parse yields `__proto__` as an own key; assigning it would swap an object's prototype.
const PROTO = '__proto__';

function bad(message: string): TriremeError {
  return new TriremeError('BadRequest', message);
}

/**
 * Apply a strategic merge `patch` to `original` for an object of `kind` (e.g. `Deployment`).
 * Throws TriremeError('BadRequest') when the patch is not a JSON object or a directive is
 * malformed.
 */
export function strategicMergePatch(original: unknown, patch: unknown, kind: string): unknown {
  if (!isPlainObject(patch)) throw bad('invalid JSON document: a strategic merge patch must be a JSON object');
  // One deep copy up front: mergeMap then copies maps shallowly and never writes into them.
  const base = isPlainObject(original) ? structuredClone(original) : {};
  return mergeMap(base, patch, rootTypeForKind(kind));
}

/** Merge `patch` into a copy of `original`; `typeName` locates field metadata. */
function mergeMap(original: JsonMap, patch: JsonMap, typeName: string | undefined): JsonMap {
  if (Object.hasOwn(patch, DIRECTIVE)) {
    const d = patch[DIRECTIVE];
    if (d === 'replace') return materializeMap(patch);
    if (d === 'delete') return {};
    // Kubernetes rejects `$patch: merge` on maps; merging is the default, so we accept it as a no-op.
    if (d !== 'merge') throw bad(`Unknown patch type: ${String(d)} in map: ${JSON.stringify(patch)}`);
  }
  const out: JsonMap = { ...original };

  applyRetainKeys(out, patch);
  const handled = applySetElementOrder(out, patch, typeName);

  for (const [key, patchV] of Object.entries(patch)) {
    if (handled.has(key) || key === DIRECTIVE || key === RETAIN_KEYS || key.startsWith(SET_ORDER_PREFIX) || key === PROTO) continue;
    if (key.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      deleteFromPrimitiveList(out, key.slice(DELETE_PRIMITIVE_PREFIX.length), patchV);
      continue;
    }
    if (patchV === null) {
      delete out[key];
      continue;
    }
    const origV = out[key];
    const meta = lookupField(typeName, key);
    if (isPlainObject(origV) && isPlainObject(patchV)) {
      out[key] = meta.strategy === 'replace' ? materializeMap(patchV) : mergeMap(origV, patchV, meta.type);
    } else if (Array.isArray(origV) && Array.isArray(patchV)) {
      out[key] = mergesLists(meta) ? mergeList(origV, patchV, meta, key) : materializeList(patchV);
    } else {
      // Absent in the original, or a different JSON type: take the patch value as is.
      const v = materialize(patchV);
      if (v === undefined) delete out[key];
      else out[key] = v;
    }
  }
  return out;
}

/** `$retainKeys`: drop keys of `out` not listed; every non-null patch key must be listed. */
function applyRetainKeys(out: JsonMap, patch: JsonMap): void {
  if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
  const keys = patch[RETAIN_KEYS];
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) throw bad('invalid patch format of retainKeys');
  const retain = new Set<string>(keys as string[]);
  for (const [k, v] of Object.entries(patch)) {
    if (v === null || k.startsWith('$')) continue;
    if (!retain.has(k)) throw bad('invalid patch format of retainKeys');
  }
  for (const k of Object.keys(out)) if (!retain.has(k)) delete out[k];
}

/** `$deleteFromPrimitiveList/<field>`: remove the listed scalars from the original list. */
function deleteFromPrimitiveList(out: JsonMap, field: string, values: unknown): void {
  if (field === '') throw bad('invalid patch format of primitive list');
  if (!Array.isArray(values)) throw bad('invalid patch format of primitive list');
  const current = out[field];
  if (!Array.isArray(current)) return;
  out[field] = current.filter((item) => !values.some((v) => scalarEqual(v, item)));
}

/**
 * Process every `$setElementOrder/<field>`: merge that field's patch list (if any) and
 * order the result. Returns the fields it merged so the main loop skips them.
 */
function applySetElementOrder(out: JsonMap, patch: JsonMap, typeName: string | undefined): Set<string> {
  const handled = new Set<string>();
  for (const [key, order] of Object.entries(patch)) {
    if (!key.startsWith(SET_ORDER_PREFIX)) continue;
    const field = key.slice(SET_ORDER_PREFIX.length);
    if (field === '' || !Array.isArray(order)) throw bad('invalid patch format of setElementOrder list');
    const patchList = patch[field];
    if (patchList === null) continue; // the field is being deleted; the main loop does it
    const origList = out[field];
    if (origList !== undefined && !Array.isArray(origList)) throw bad(`$setElementOrder/${field}: the original value is not a list`);
    if (patchList !== undefined && !Array.isArray(patchList)) throw bad(`$setElementOrder/${field}: the patch value is not a list`);
    if (origList === undefined && patchList === undefined) continue;

    const meta = lookupField(typeName, field);
    const mergeKey = meta.mergeKey ?? '';
    validateOrderMatchesPatch(patchList ?? [], order, mergeKey, field);

    let merged: unknown[];
    if (patchList === undefined) merged = [...(origList as unknown[])];
    else if (origList === undefined) merged = materializeList(patchList);
    else merged = mergesLists(meta) ? mergeList(origList, patchList, meta, field) : materializeList(patchList);

    const inOrder = (item: unknown): boolean => indexIn(order, item, mergeKey) >= 0;
    const patchItems = merged.filter(inOrder);
    const serverOnly = merged.filter((i) => !inOrder(i));
    out[field] = normalizeElementOrder(patchItems, serverOnly, order, origList ?? [], mergeKey);
    handled.add(field);
  }
  return handled;
}

/** The non-deleting items of the patch list must appear in the order list, in the same relative order. */
function validateOrderMatchesPatch(patchList: unknown[], order: unknown[], mergeKey: string, field: string): void {
  if (order.length === 0 || patchList.length === 0) return;
  const items = patchList.filter((p) => !(isPlainObject(p) && Object.hasOwn(p, DIRECTIVE)));
  if (mergeKey !== '') {
    for (const o of order) {
      if (!isPlainObject(o) || o[mergeKey] === undefined) throw bad(`map: ${JSON.stringify(o)} does not contain declared merge key: ${mergeKey}`);
    }
  }
  let pi = 0;
  for (let oi = 0; pi < items.length && oi < order.length; oi++) {
    if (sameItem(items[pi], order[oi], mergeKey)) pi++;
  }
  if (pi < items.length) {
    throw bad(`The order in patch list:\n${JSON.stringify(patchList)}\n doesn't match $setElementOrder/${field} list:\n${JSON.stringify(order)}`);
  }
}

/** Merge a list whose field has the `merge` strategy. */
function mergeList(original: unknown[], patch: unknown[], meta: FieldPatchMeta, field: string): unknown[] {
  if (original.length === 0 && patch.length === 0) return [];
  const all = [...original, ...patch];
  if (all.some(Array.isArray)) throw bad('lists of lists are not supported');
  const maps = all.filter(isPlainObject).length;
  if (maps !== 0 && maps !== all.length) throw bad(`list element types are not identical in ${field}`);

  if (maps === 0) {
    // Scalars merge as a set; the first occurrence wins.
    const merged: unknown[] = [];
    for (const v of all) if (!merged.some((m) => scalarEqual(m, v))) merged.push(v);
    return order(merged, patch, original, '');
  }

  const mergeKey = meta.mergeKey;
  if (mergeKey === undefined || mergeKey === '') throw bad(`cannot merge lists without merge key for ${field}`);
  let base = original as JsonMap[];
  let plain: JsonMap[] = [];
  let replace = false;
  for (const item of patch as JsonMap[]) {
    if (!Object.hasOwn(item, DIRECTIVE)) {
      plain.push(item);
      continue;
    }
    const d = item[DIRECTIVE];
    if (d === 'delete') {
      if (!Object.hasOwn(item, mergeKey)) throw bad(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
      base = base.filter((o) => !keyMatches(o, mergeKey, item[mergeKey]));
    } else if (d === 'replace') {
      replace = true;
    } else if (d === 'merge') {
      throw bad('merging lists cannot yet be specified in the patch');
    } else {
      throw bad(`Unknown patch type: ${String(d)} in map: ${JSON.stringify(item)}`);
    }
  }
  if (replace) {
    base = plain.map(materializeMap);
    plain = [];
  }

  const merged: JsonMap[] = [...base];
  for (const item of plain) {
    if (!Object.hasOwn(item, mergeKey)) throw bad(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const at = merged.findIndex((o) => keyMatches(o, mergeKey, item[mergeKey]));
    if (at >= 0) merged[at] = mergeMap(merged[at] as JsonMap, item, meta.type);
    else merged.push(mergeMap({}, item, meta.type));
  }
  return order(merged, plain, base, mergeKey);
}

/** Order a merged list: items present in `patch` by patch order, interleaved with the rest by `original` order. */
function order(merged: unknown[], patch: unknown[], original: unknown[], mergeKey: string): unknown[] {
  const inPatch = (item: unknown): boolean => indexIn(patch, item, mergeKey) >= 0;
  return normalizeElementOrder(merged.filter(inPatch), merged.filter((i) => !inPatch(i)), patch, original, mergeKey);
}

/**
 * Sort `patchItems` by `patchOrder` and `serverOnly` by `serverOrder`, then interleave them:
 * a server-only item goes before the next patch item only when both are in the live list and
 * it came first there (Kubernetes' mergeSortedSlice).
 */
function normalizeElementOrder(patchItems: unknown[], serverOnly: unknown[], patchOrder: unknown[], serverOrder: unknown[], mergeKey: string): unknown[] {
  const right = sortByOrder(patchItems, patchOrder, mergeKey);
  const left = sortByOrder(serverOnly, serverOrder, mergeKey);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < left.length || j < right.length) {
    if (j >= right.length) out.push(left[i++]);
    else if (i >= left.length) out.push(right[j++]);
    else {
      const li = indexIn(serverOrder, left[i], mergeKey);
      const ri = indexIn(serverOrder, right[j], mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(left[i++]);
      else out.push(right[j++]);
    }
  }
  return out;
}

/** Stable sort by position in `order`; items not in `order` keep their relative order, after the others. */
function sortByOrder(items: unknown[], order: unknown[], mergeKey: string): unknown[] {
  const keyed = items.map((item, pos) => ({ item, pos, at: indexIn(order, item, mergeKey) }));
  keyed.sort((a, b) => {
    const ax = a.at < 0 ? Number.MAX_SAFE_INTEGER : a.at;
    const bx = b.at < 0 ? Number.MAX_SAFE_INTEGER : b.at;
    return ax - bx || a.pos - b.pos;
  });
  return keyed.map((k) => k.item);
}

/** Position of `item` in `list`, comparing merge-key values for maps and values for scalars; -1 if absent. */
function indexIn(list: unknown[], item: unknown, mergeKey: string): number {
  for (let i = 0; i < list.length; i++) if (sameItem(list[i], item, mergeKey)) return i;
  return -1;
}

function sameItem(a: unknown, b: unknown, mergeKey: string): boolean {
  if (mergeKey === '') return scalarEqual(a, b);
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const av = a[mergeKey];
  return av !== undefined && scalarEqual(av, b[mergeKey]);
}

function keyMatches(o: JsonMap, mergeKey: string, value: unknown): boolean {
  return Object.hasOwn(o, mergeKey) && scalarEqual(o[mergeKey], value);
}

/** Equality of JSON scalars (Go's interface `==` on decoded JSON); composite values never match. */
function scalarEqual(a: unknown, b: unknown): boolean {
  return a === b && (a === null || typeof a !== 'object');
}

/** A patch value taken as is: directives and nulls removed, `$patch: delete` maps dropped. */
function materialize(v: unknown): unknown {
  if (Array.isArray(v)) return materializeList(v);
  if (isPlainObject(v)) {
    const d = v[DIRECTIVE];
    if (d === 'delete') return undefined;
    if (d !== undefined && d !== 'replace' && d !== 'merge') throw bad(`Unknown patch type: ${String(d)} in map: ${JSON.stringify(v)}`);
    return materializeMap(v);
  }
  return v;
}

function materializeMap(m: JsonMap): JsonMap {
  const out: JsonMap = {};
  for (const [k, v] of Object.entries(m)) {
    if (v === null || isDirectiveKey(k) || k === PROTO) continue;
    const mv = materialize(v);
    if (mv !== undefined) out[k] = mv;
  }
  return out;
}

function materializeList(list: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const item of list) {
    // A bare `{$patch: replace}` marker carries no data: drop it like Kubernetes' decoder would.
    if (isPlainObject(item) && Object.hasOwn(item, DIRECTIVE) && Object.keys(item).length === 1) continue;
    const mv = materialize(item);
    if (mv !== undefined) out.push(mv);
  }
  return out;
}

function isDirectiveKey(k: string): boolean {
  return k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(SET_ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX);
}
