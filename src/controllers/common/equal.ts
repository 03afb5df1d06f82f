// Structural equality of JSON values that ignores key order and treats absent and undefined
// alike — how controllers decide whether a computed status differs from the stored one.
export function jsonEqualish(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a === null || b === null) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqualish(x, b[i]));
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!jsonEqualish(ao[k], bo[k]) && !(ao[k] === undefined && bo[k] === undefined)) return false;
  return true;
}
