// Lookups into the generated definitions: definition name of a kind (by its
// x-kubernetes-group-version-kind), $ref resolution, and the closure of definitions a value refers
// to. Guarantees: pure, deterministic (sorted) results. Does not: validate schemas.
import { DEFINITIONS } from './definitions.generated.js';
import type { SchemaObject } from './schema.js';

const REF_PREFIX = '#/components/schemas/';

export function refTo(name: string): SchemaObject {
  return { $ref: `${REF_PREFIX}${name}` };
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf('/');
  return i < 0 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

// Built once from the compiled-in definitions; the same for every server in the process.
let byGVK: Map<string, string> | undefined;

/** Definition name whose x-kubernetes-group-version-kind lists (apiVersion, kind), if any. */
export function definitionForKind(apiVersion: string, kind: string): string | undefined {
  if (!byGVK) {
    byGVK = new Map();
    for (const name of Object.keys(DEFINITIONS).sort()) {
      for (const gvk of DEFINITIONS[name]?.['x-kubernetes-group-version-kind'] ?? []) {
        const key = `${gvk.group}/${gvk.version}/${gvk.kind}`;
        if (!byGVK.has(key)) byGVK.set(key, name);
      }
    }
  }
  const { group, version } = splitApiVersion(apiVersion);
  return byGVK.get(`${group}/${version}/${kind}`);
}

/** The definition a `$ref` schema points to (the schema itself when it has no $ref). */
export function resolve(schema: SchemaObject): SchemaObject | undefined {
  if (schema.$ref === undefined) return schema;
  if (!schema.$ref.startsWith(REF_PREFIX)) return undefined;
  return DEFINITIONS[schema.$ref.slice(REF_PREFIX.length)];
}

/** Names of all definitions reachable through $refs from `value` (any JSON), sorted. */
export function reachableDefinitions(value: unknown): string[] {
  const seen = new Set<string>();
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x);
      return;
    }
    if (typeof v !== 'object' || v === null) return;
    for (const [k, x] of Object.entries(v)) {
      if (k === '$ref' && typeof x === 'string' && x.startsWith(REF_PREFIX)) {
        const name = x.slice(REF_PREFIX.length);
        if (!seen.has(name) && DEFINITIONS[name]) {
          seen.add(name);
          visit(DEFINITIONS[name]);
        }
      } else {
        visit(x);
      }
    }
  };
  visit(value);
  return [...seen].sort();
}
