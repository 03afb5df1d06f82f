// Applies a PATCH request body to an object, dispatching on the request's media type the way
// the Kubernetes API server does.
//
// Guarantees: pure (the original object is never mutated); media-type parameters such as
// `; charset=utf-8` are ignored; errors follow Kubernetes' status codes:
//  - unknown media type -> UnsupportedMediaType (415);
//  - a body that does not decode (bad JSON/YAML, a JSON patch that is not a list of
//    operation objects, a merge patch that is not an object) -> BadRequest (400);
//  - a JSON patch that decodes but cannot be applied (failed `test`, missing path, unknown
//    op...) -> Invalid (422), as the apiserver's jsonPatcher answers;
//  - more than 10000 JSON patch operations -> RequestEntityTooLarge (413);
//  - a patch whose result is not a JSON object -> BadRequest.
// Does not: validate the patched object, check names/resourceVersions (the registry does),
// or track managedFields: server-side apply is simplified to "merge the applied
// configuration with strategic merge rules", never removing fields the applier omits and
// never reporting conflicts.

import jsonpatch from 'fast-json-patch';
import { parse as parseYaml } from 'yaml';
import { TriremeError } from '../../errors.js';
import { isPlainObject, type KubeObject } from '../object.js';
import { strategicMergePatch } from './strategic-merge.js';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/** The PATCH media types we accept, for discovery and OpenAPI. */
export const PATCH_CONTENT_TYPES: string[] = [JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, APPLY_PATCH];

/** Kubernetes' limit on operations in one JSON patch. */
const MAX_JSON_PATCH_OPERATIONS = 10000;

/** The bare media type, lower case, without parameters. */
export function patchMediaType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Apply `body` (the raw request body) of media type `contentType` to `original`, an object of `kind`. */
export function applyPatch(contentType: string, original: KubeObject, body: string, kind: string): KubeObject {
  const type = patchMediaType(contentType);
  switch (type) {
    case JSON_PATCH:
      return applyJsonPatch(original, body);
    case MERGE_PATCH:
      return asObject(mergePatch(original, decodeJsonObject(body, 'merge patch')));
    case STRATEGIC_MERGE_PATCH:
      return asObject(strategicMergePatch(original, decodeJsonObject(body, 'strategic merge patch'), kind));
    case APPLY_PATCH:
      return applyConfiguration(original, body, kind);
    default:
      throw new TriremeError('UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_CONTENT_TYPES.join(', ')}`,
        { context: { contentType } });
  }
}

function decodeJson(body: string, what: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch (e) {
    throw new TriremeError('BadRequest', `error decoding ${what}: ${(e as Error).message}`, { cause: e });
  }
}

function decodeJsonObject(body: string, what: string): Record<string, unknown> {
  const v = decodeJson(body, what);
  if (!isPlainObject(v)) throw new TriremeError('BadRequest', `error decoding ${what}: the body must be a JSON object`);
  return v;
}

function asObject(v: unknown): KubeObject {
  if (!isPlainObject(v)) throw new TriremeError('BadRequest', 'the patched document is not a JSON object');
  return v as KubeObject;
}

function applyJsonPatch(original: KubeObject, body: string): KubeObject {
  const ops = decodeJson(body, 'JSON patch');
  if (!Array.isArray(ops) || !ops.every(isPlainObject)) {
    throw new TriremeError('BadRequest', 'error decoding JSON patch: the body must be a list of operation objects');
  }
  if (ops.length > MAX_JSON_PATCH_OPERATIONS) {
    throw new TriremeError('RequestEntityTooLarge',
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${ops.length}`);
  }
  try {
    // validate=true checks each operation against the document before applying it;
    // mutateDocument=false works on a clone, so `original` is untouched.
    const result = jsonpatch.applyPatch(original, ops as unknown as jsonpatch.Operation[], true, false);
    return asObject(result.newDocument);
  } catch (e) {
    if (e instanceof TriremeError) throw e;
    if (e instanceof jsonpatch.JsonPatchError) {
      const at = e.index === undefined ? '' : ` (operation ${e.index}: ${JSON.stringify(e.operation)})`;
      throw new TriremeError('Invalid', `the server rejected our request due to an error in our request: ${e.message}${at}`, {
        causes: [{ reason: 'UnexpectedServerResponse', message: `${e.name}: ${e.message}`, field: typeof e.operation?.path === 'string' ? e.operation.path : '' }],
        cause: e,
      });
    }
    throw e;
  }
}

/** RFC 7386 JSON merge patch: objects merge recursively, `null` deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? structuredClone(target) : {};
  for (const [k, v] of Object.entries(patch)) {
    // `__proto__` (an own key after JSON.parse) would replace the prototype, not add a field.
    if (k === '__proto__') continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * Server-side apply, simplified: the applied configuration (YAML or JSON) is merged into the
 * object with strategic merge rules. Directives in the configuration are not expected; the
 * configuration's kind, when given, must match the object's.
 */
function applyConfiguration(original: KubeObject, body: string, kind: string): KubeObject {
  let config: unknown;
  try {
    config = parseYaml(body) as unknown;
  } catch (e) {
    throw new TriremeError('BadRequest', `error decoding YAML: ${(e as Error).message}`, { cause: e });
  }
  if (!isPlainObject(config)) throw new TriremeError('BadRequest', 'error decoding YAML: the applied configuration must be an object');
  if (typeof config.kind === 'string' && config.kind !== kind) {
    throw new TriremeError('BadRequest', `the kind of the applied configuration (${config.kind}) does not match the object's kind (${kind})`);
  }
  const metadata = config.metadata;
  // managedFields are not tracked; ignore any the applier sends rather than storing them.
  if (isPlainObject(metadata) && Object.hasOwn(metadata, 'managedFields')) {
    const { managedFields: _ignored, ...rest } = metadata;
    config = { ...config, metadata: rest };
  }
  return asObject(strategicMergePatch(original, config, kind));
}
