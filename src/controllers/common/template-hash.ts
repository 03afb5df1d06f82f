// Hashing and comparing pod templates (pure). Guarantees: a template and its normalised
// form give the same hash and compare equal — normalising drops the `pod-template-hash`
// label, `creationTimestamp`, nulls and empty maps/lists, and sorts keys — so the template
// kubectl sends for `rollout undo` (hash label removed, `creationTimestamp: null`,
// `resources: {}`) matches the old ReplicaSet's. The hash is FNV-32a of the canonical JSON
// plus the collision count, written in Kubernetes' safe alphabet (no vowels), like
// `pod-template-hash` values. Does not: reproduce Go's exact hash values (they depend on
// Go's struct printing); hashes are stable across our own releases only.
import type { PodTemplateSpec } from './types.js';

export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function prune(v: unknown): unknown {
  if (Array.isArray(v)) {
    const out = v.map(prune).filter((x) => x !== undefined);
    return out.length ? out : undefined;
  }
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = prune((v as Record<string, unknown>)[k]);
      if (x !== undefined) out[k] = x;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return v === null ? undefined : v;
}

/** The template without the fields that must not influence identity, as canonical JSON. */
export function normalisedTemplate(t: PodTemplateSpec | undefined): string {
  const c = structuredClone(t ?? {}) as PodTemplateSpec & { metadata?: { creationTimestamp?: unknown } };
  if (c.metadata) {
    delete c.metadata.creationTimestamp;
    if (c.metadata.labels) delete c.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  }
  return JSON.stringify(prune(c) ?? {});
}

/** Templates equal apart from the hash label and serialisation noise (Kubernetes' EqualIgnoreHash). */
export function templatesEqual(a: PodTemplateSpec | undefined, b: PodTemplateSpec | undefined): boolean {
  return normalisedTemplate(a) === normalisedTemplate(b);
}

function fnv32a(bytes: Uint8Array, h = 0x811c9dc5): number {
  let hash = h;
  for (const b of bytes) {
    hash ^= b;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** Kubernetes' rand.SafeEncodeString: each character mapped into the safe alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHABET[s.charCodeAt(i) % SAFE_ALPHABET.length];
  return out;
}

/** The `pod-template-hash` / `controller-revision-hash` value of a template. */
export function templateHash(t: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(normalisedTemplate(t)));
  if (collisionCount !== undefined && collisionCount > 0) {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(b, h);
  }
  return safeEncode(String(h));
}
