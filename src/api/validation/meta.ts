// Validation of ObjectMeta, labels, annotations and label selectors, as Kubernetes'
// ValidateObjectMeta and metav1 validation do on every create. Guarantees: name / generateName
// syntax per the caller's NameCheck, namespace presence (or absence on cluster-scoped kinds),
// label and annotation syntax and sizes, finalizer syntax, selector syntax; plus
// `selectorMatches` to evaluate a LabelSelector. Does not: check immutability of metadata
// on update (uid, creationTimestamp, ...) — the API server owns that.
import type { FieldCause } from '../../errors.js';
import { asArr, asObj, asStr, objList, strMap } from './access.js';
import { child, forbidden, index, invalid, invalidEach, NEGATIVE_MSG, notSupported, required, tooLong } from './field.js';
import { checkDns1123Label, checkLabelValue, checkQualifiedName, type NameCheck } from './names.js';

export const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;

/** Labels: keys are qualified names, values label values (≤ 63). Errors point at `field` itself, as in Kubernetes. */
export function validateLabels(labels: unknown, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const o = asObj(labels);
  if (labels === undefined || labels === null) return causes;
  if (!o) return [invalid(field, labels, 'must be a map of string keys to string values')];
  for (const [k, v] of Object.entries(o)) {
    causes.push(...invalidEach(field, k, checkQualifiedName(k)));
    if (typeof v !== 'string') causes.push(invalid(field, v, 'label values must be strings'));
    else causes.push(...invalidEach(field, v, checkLabelValue(v)));
  }
  return causes;
}

export function validateAnnotations(annotations: unknown, field: string): FieldCause[] {
  const causes: FieldCause[] = [];
  const o = asObj(annotations);
  if (annotations === undefined || annotations === null) return causes;
  if (!o) return [invalid(field, annotations, 'must be a map of string keys to string values')];
  let total = 0;
  for (const [k, v] of Object.entries(o)) {
    // Kubernetes checks annotation keys case-insensitively (they are lower-cased first).
    causes.push(...invalidEach(field, k, checkQualifiedName(k.toLowerCase())));
    total += Buffer.byteLength(k) + (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) causes.push(tooLong(field, TOTAL_ANNOTATION_SIZE_LIMIT));
  return causes;
}

export interface ObjectMetaOptions {
  /** Whether the kind is namespaced (namespace required) or cluster-scoped (namespace forbidden). */
  namespaced: boolean;
  /** Name syntax for the kind; `prefix` is true when checking generateName. */
  nameCheck: NameCheck;
  /** Path of the metadata (default `metadata`; `spec.template.metadata` etc. for templates). */
  path?: string;
}

/**
 * Validates an object's metadata. A missing name is accepted when generateName is set,
 * because the API server generates the name (it may validate before or after doing so).
 */
export function validateObjectMeta(meta: unknown, opts: ObjectMetaOptions): FieldCause[] {
  const path = opts.path ?? 'metadata';
  const m = asObj(meta);
  if (!m) return [required(path)];
  const causes: FieldCause[] = [];
  const name = asStr(m.name) ?? '';
  const generateName = asStr(m.generateName) ?? '';
  if (generateName !== '') {
    causes.push(...invalidEach(child(path, 'generateName'), generateName, opts.nameCheck(generateName, true)));
  }
  if (name === '') {
    if (generateName === '') causes.push(required(child(path, 'name'), 'name or generateName is required'));
  } else {
    causes.push(...invalidEach(child(path, 'name'), name, opts.nameCheck(name, false)));
  }
  const ns = asStr(m.namespace) ?? '';
  if (opts.namespaced) {
    if (ns === '') causes.push(required(child(path, 'namespace')));
    else causes.push(...invalidEach(child(path, 'namespace'), ns, checkDns1123Label(ns)));
  } else if (ns !== '') {
    causes.push(forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (typeof m.generation === 'number' && m.generation < 0) {
    causes.push(invalid(child(path, 'generation'), m.generation, NEGATIVE_MSG));
  }
  causes.push(...validateLabels(m.labels, child(path, 'labels')));
  causes.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  causes.push(...validateFinalizers(m.finalizers, child(path, 'finalizers')));
  causes.push(...validateOwnerReferences(m.ownerReferences, child(path, 'ownerReferences')));
  return causes;
}

function validateFinalizers(finalizers: unknown, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  (asArr(finalizers) ?? []).forEach((f, i) => {
    const s = asStr(f) ?? '';
    causes.push(...invalidEach(index(path, i), s, checkQualifiedName(s)));
  });
  return causes;
}

function validateOwnerReferences(refs: unknown, path: string): FieldCause[] {
  const causes: FieldCause[] = [];
  let controllers = 0;
  objList(refs).forEach((r, i) => {
    const p = index(path, i);
    if (!asStr(r.apiVersion)) causes.push(invalid(child(p, 'apiVersion'), r.apiVersion ?? '', 'version must not be empty'));
    if (!asStr(r.kind)) causes.push(invalid(child(p, 'kind'), r.kind ?? '', 'kind must not be empty'));
    if (!asStr(r.name)) causes.push(invalid(child(p, 'name'), r.name ?? '', 'name must not be empty'));
    if (!asStr(r.uid)) causes.push(invalid(child(p, 'uid'), r.uid ?? '', 'uid must not be empty'));
    if (r.controller === true) controllers++;
  });
  if (controllers > 1) causes.push(invalid(path, refs, 'Only one reference can have Controller set to true'));
  return causes;
}

const SELECTOR_OPERATORS = ['DoesNotExist', 'Exists', 'In', 'NotIn'];

/** LabelSelector syntax: matchLabels as labels, matchExpressions keys/operators/values. */
export function validateLabelSelector(selector: unknown, path: string): FieldCause[] {
  const s = asObj(selector);
  if (!s) return [];
  const causes = validateLabels(s.matchLabels, child(path, 'matchLabels'));
  objList(s.matchExpressions).forEach((e, i) => {
    const p = index(child(path, 'matchExpressions'), i);
    const op = asStr(e.operator) ?? '';
    const values = asArr(e.values) ?? [];
    if (op === 'In' || op === 'NotIn') {
      if (values.length === 0) causes.push(required(child(p, 'values'), "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (op === 'Exists' || op === 'DoesNotExist') {
      if (values.length > 0) causes.push(forbidden(child(p, 'values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
    } else {
      causes.push(notSupported(child(p, 'operator'), op, SELECTOR_OPERATORS));
    }
    const k = asStr(e.key) ?? '';
    causes.push(...invalidEach(child(p, 'key'), k, checkQualifiedName(k)));
    values.forEach((v, j) => {
      causes.push(...invalidEach(index(child(p, 'values'), j), v, checkLabelValue(asStr(v) ?? '')));
    });
  });
  return causes;
}

/** True when the selector has neither matchLabels nor matchExpressions entries. */
export function selectorIsEmpty(selector: unknown): boolean {
  const s = asObj(selector);
  if (!s) return true;
  return Object.keys(strMap(s.matchLabels) ?? {}).length === 0 && objList(s.matchExpressions).length === 0;
}

/** Evaluates a LabelSelector against a label set (an empty selector matches everything). */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const s = asObj(selector);
  if (!s) return true;
  for (const [k, v] of Object.entries(strMap(s.matchLabels) ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const e of objList(s.matchExpressions)) {
    const k = asStr(e.key) ?? '';
    const values = (asArr(e.values) ?? []).filter((x): x is string => typeof x === 'string');
    const has = Object.hasOwn(labels, k);
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[k] ?? '')) return false; break;
      case 'NotIn': if (has && values.includes(labels[k] ?? '')) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
