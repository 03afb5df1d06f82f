// OpenAPI v3 as the API server serves it: the index at GET /openapi/v3 and one document per path
// (GET /openapi/v3/api/v1, /openapi/v3/apis/apps/v1, ...), plus the unknown-field check behind
// fieldValidation=Strict|Warn.
// Guarantees: each document is serialized once and cached with its hash (upper-case hex sha512 of
// the body, like the real server), so the hash in the index always matches the body served; the
// documents hold every operation of every served resource and every definition they reach.
// Does not: serve /openapi/v2 or protobuf-encoded documents (callers answer 404 / JSON).
import { createHash } from 'node:crypto';
import { RESOURCES } from '../../api/resources.js';
import { reachableDefinitions } from './kinds.js';
import { DEFINITIONS } from './definitions.generated.js';
import { discoveryPaths, groupVersionPaths, type PathItem } from './paths.js';
import type { SchemaObject } from './schema.js';

export { unknownFields, kindSchemaExists } from './unknown-fields.js';
export type { SchemaObject, GroupVersionKind } from './schema.js';

export interface OpenAPIDocument {
  openapi: '3.0.0';
  info: { title: string; version: string };
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, SchemaObject>;
    securitySchemes: Record<string, { type: string; in: string; name: string; description: string }>;
  };
  security: Array<Record<string, string[]>>;
}

/** Every document path served under /openapi/v3/, sorted. */
export function openapiV3DocumentPaths(): string[] {
  const out = new Set<string>(['api', 'apis', 'version']);
  for (const r of RESOURCES) {
    if (r.group === '') out.add(`api/${r.version}`);
    else {
      out.add(`apis/${r.group}`);
      out.add(`apis/${r.group}/${r.version}`);
    }
  }
  return [...out].sort();
}

function pathsFor(path: string): Record<string, PathItem> | undefined {
  const core = /^api\/([^/]+)$/.exec(path);
  if (core?.[1]) return groupVersionPaths('', core[1]);
  const named = /^apis\/([^/]+)\/([^/]+)$/.exec(path);
  if (named?.[1] && named[2]) return groupVersionPaths(named[1], named[2]);
  return discoveryPaths(path);
}

/** The OpenAPI 3.0 document of one path (e.g. 'apis/apps/v1'), unserialized; undefined if not served. */
export function buildDocument(path: string): OpenAPIDocument | undefined {
  const paths = pathsFor(path);
  if (!paths) return undefined;
  const schemas: Record<string, SchemaObject> = {};
  for (const name of reachableDefinitions(paths)) {
    const s = DEFINITIONS[name];
    if (s) schemas[name] = s;
  }
  // Sorted like the real server's documents, so the serialized body (and its hash) is stable.
  const sortedPaths = Object.fromEntries(Object.keys(paths).sort().map((k) => [k, paths[k] as PathItem]));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: sortedPaths,
    components: {
      schemas,
      securitySchemes: { BearerToken: { type: 'apiKey', in: 'header', name: 'authorization', description: 'Bearer Token authentication' } },
    },
    security: [{ BearerToken: [] }],
  };
}

// A memo of documents built from the compiled-in definitions: the same for every server in
// the process and never invalidated, so it is not per-server state.
const cache = new Map<string, { body: Buffer; hash: string }>();

/** Serialized document and its hash for GET /openapi/v3/<path>; undefined (404) if not served. */
export function openapiV3Document(path: string): { body: Buffer; hash: string } | undefined {
  const key = path.replace(/^\/+|\/+$/g, '');
  const hit = cache.get(key);
  if (hit) return hit;
  const doc = buildDocument(key);
  if (!doc) return undefined;
  const body = Buffer.from(JSON.stringify(doc));
  const entry = { body, hash: createHash('sha512').update(body).digest('hex').toUpperCase() };
  cache.set(key, entry);
  return entry;
}

/** The `paths` of GET /openapi/v3: document path -> URL carrying the document's hash. */
export function openapiV3Paths(): Record<string, { serverRelativeURL: string }> {
  const out: Record<string, { serverRelativeURL: string }> = {};
  for (const p of openapiV3DocumentPaths()) {
    const doc = openapiV3Document(p);
    if (doc) out[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${doc.hash}` };
  }
  return out;
}
