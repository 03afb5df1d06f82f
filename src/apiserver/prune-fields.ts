// Removes fields by the JSON paths `unknownFields` reports (`spec.template.spec.containers[0].imagee`),
// as Kubernetes drops unknown fields of built-in types when decoding without Strict validation.
// Pure on a copy: the input is not changed.

function segments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}

export function pruneFields<T>(obj: T, paths: string[]): T {
  if (paths.length === 0) return obj;
  const copy = structuredClone(obj);
  for (const path of paths) {
    const segs = segments(path);
    let node: unknown = copy;
    for (let i = 0; i < segs.length - 1 && node !== undefined && node !== null; i++) {
      node = (node as Record<string | number, unknown>)[segs[i]!];
    }
    const last = segs[segs.length - 1];
    if (node !== null && typeof node === 'object' && last !== undefined && !Array.isArray(node)) {
      delete (node as Record<string, unknown>)[String(last)];
    }
  }
  return copy;
}
