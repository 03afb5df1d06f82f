// Finds fields of an object that its kind's schema does not declare, for fieldValidation=Strict
// (400 "strict decoding error: unknown field ...") and Warn (warning headers).
// Guarantees: paths are reported in document order, in the form the real API server uses
// (`spec.template.spec.containers[0].imagee`); objects whose schema declares no properties and no
// additionalProperties (RawExtension, FieldsV1) accept anything, like Go's raw JSON fields.
// Does not: check value types, formats or required fields (that is validation's job).
import { isPlainObject } from '../../api/object.js';
import { definitionForKind, resolve } from './kinds.js';
import { DEFINITIONS } from './definitions.generated.js';
import type { SchemaObject } from './schema.js';

export function kindSchemaExists(apiVersion: string, kind: string): boolean {
  return definitionForKind(apiVersion, kind) !== undefined;
}

/**
 * JSON paths of the fields of `obj` that the schema of (apiVersion, kind) does not know.
 * Returns [] when the kind has no schema (callers decide whether that is an error: see kindSchemaExists).
 */
export function unknownFields(apiVersion: string, kind: string, obj: unknown): string[] {
  const name = definitionForKind(apiVersion, kind);
  const schema = name ? DEFINITIONS[name] : undefined;
  const out: string[] = [];
  if (schema) walk(schema, obj, '', out);
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function walk(ref: SchemaObject, value: unknown, path: string, out: string[]): void {
  const schema = resolve(ref);
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) value.forEach((v, i) => walk(schema.items as SchemaObject, v, `${path}[${i}]`, out));
    return;
  }
  if (!isPlainObject(value)) return;
  const props = schema.properties;
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  if (!props && !extra) return; // an open object: RawExtension, FieldsV1, Patch
  for (const [key, v] of Object.entries(value)) {
    const p = props?.[key];
    if (p) walk(p, v, join(path, key), out);
    else if (extra) walk(extra, v, join(path, key), out);
    else out.push(join(path, key));
  }
}
