// Query parameters of list/watch/write requests (pure): selectors, paging, watch options,
// field validation and dry-run. Guarantees: malformed values are a 400 naming the parameter;
// booleans and integers decode as in src/api/query-params.ts (Kubernetes' parameter codec).
import type { KubeObject } from '../api/object.js';
import type { ResourceInfo } from '../api/resources.js';
import { fieldsOf, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, validateFieldSelector } from '../api/selectors.js';
import { boolParam, intParam as queryInt } from '../api/query-params.js';
import { TriremeError } from '../errors.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export function objectFilter(info: ResourceInfo, q: URLSearchParams): ((obj: KubeObject) => boolean) | undefined {
  const ls = q.get('labelSelector');
  const fs = q.get('fieldSelector');
  const labelSel = ls ? parseLabelSelector(ls) : undefined;
  const fieldSel = fs ? parseFieldSelector(fs) : undefined;
  if (fieldSel) validateFieldSelector(info.kind, fieldSel, info.group);
  if (!labelSel && !fieldSel) return undefined;
  return (obj) =>
    (!labelSel || matchesLabels(labelSel, obj.metadata?.labels)) &&
    (!fieldSel || matchesFields(fieldSel, fieldsOf(info.kind, obj)));
}

/** A non-negative integer parameter (limit, timeoutSeconds, gracePeriodSeconds), strict: a 400
 *  naming the parameter otherwise. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  return queryInt(q, name, { min: 0 });
}

export { boolParam };

export function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get('fieldValidation');
  if (v === null || v === '') return 'Warn';
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  throw new TriremeError('BadRequest', `fieldValidation must be one of Strict, Warn, Ignore, got ${JSON.stringify(v)}`);
}

export function dryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (v.length === 0) return false;
  for (const x of v) if (x !== 'All') throw new TriremeError('BadRequest', `dryRun: Unsupported value: ${JSON.stringify(x)}: supported values: "All"`);
  return true;
}

/** A watch's starting revision: undefined for "now" ('' or '0'); a 400 for anything not a number. */
export function watchRevision(q: URLSearchParams): number | undefined {
  const v = q.get('resourceVersion');
  if (v === null || v === '' || v === '0') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new TriremeError('BadRequest', `invalid resourceVersion: ${JSON.stringify(v)}`);
  return n;
}
