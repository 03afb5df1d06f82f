// Cell formatting shared by several kinds: label maps, label selectors and container lists,
// rendered the way Kubernetes' printers render them. Guarantees: deterministic output
// (labels and selector requirements sorted by key, set values sorted), pure functions.
// Does not validate selectors beyond what rendering needs: an unknown operator is reported
// as a rendering error, not thrown.
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';

/** `k=v,k2=v2` sorted by key; `<none>` for an empty or absent map. */
export function formatLabels(labels: Record<string, string> | null | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}

/**
 * A label selector in `kubectl` syntax (`app=web,tier in (a,b),!legacy`), requirements sorted
 * by key; '' for an absent or empty selector; undefined when an operator is unknown.
 */
export function selectorString(sel: LabelSelector | null | undefined): string | undefined {
  if (!sel) return '';
  const reqs: { key: string; text: string }[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key, text: `${key}=${value}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort();
    switch (e.operator) {
      case 'In': reqs.push({ key: e.key, text: `${e.key} in (${values.join(',')})` }); break;
      case 'NotIn': reqs.push({ key: e.key, text: `${e.key} notin (${values.join(',')})` }); break;
      case 'Exists': reqs.push({ key: e.key, text: e.key }); break;
      case 'DoesNotExist': reqs.push({ key: e.key, text: `!${e.key}` }); break;
      default: return undefined;
    }
  }
  // Stable sort by key keeps matchLabels ahead of expressions on the same key.
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return reqs.map((r) => r.text).join(',');
}

/** The ReplicaSet/DaemonSet rendering (`metav1.FormatLabelSelector`): `<none>` when empty, `<error>` when invalid. */
export function formatLabelSelector(sel: LabelSelector | null | undefined): string {
  if (!sel) return '<none>';
  const s = selectorString(sel);
  if (s === undefined) return '<error>';
  return s === '' ? '<none>' : s;
}

/** Container names and images, each joined with ','. */
export function containerCells(containers: readonly { name?: string; image?: string }[] | null | undefined): [string, string] {
  const list = containers ?? [];
  return [list.map((c) => c.name ?? '').join(','), list.map((c) => c.image ?? '').join(',')];
}
