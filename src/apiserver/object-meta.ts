// Server-set metadata (pure): names from generateName, uids, timestamps, and the rules that
// decide which parts of an object a write may change. Random and time sources are injected.
import { randomUUID, randomInt } from 'node:crypto';
import type { KubeObject } from '../api/object.js';

/** Kubernetes' alphabet for generated name suffixes: no vowels, no confusable digits. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export function randomSuffix(n = 5, pick: (max: number) => number = randomInt): string {
  let s = '';
  for (let i = 0; i < n; i++) s += SUFFIX_ALPHABET[pick(SUFFIX_ALPHABET.length)];
  return s;
}

/** A generated name keeps the prefix short enough that prefix + suffix fits 63 characters. */
export function generateName(prefix: string, pick?: (max: number) => number): string {
  const max = 63 - 5;
  return `${prefix.length > max ? prefix.slice(0, max) : prefix}${randomSuffix(5, pick)}`;
}


export function newUid(): string {
  return randomUUID();
}

/** Everything except metadata and status: a change here bumps `generation`. */
export function specPart(obj: KubeObject): Record<string, unknown> {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

/** Structural equality for JSON values (key order insensitive). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
