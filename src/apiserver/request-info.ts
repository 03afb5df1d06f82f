// Parses a request's method and path into what it asks of the API (pure). Guarantees:
// resource paths become { group, version, resource, namespace?, name?, subresource?, verb };
// anything else is a non-resource path. Does not check that the resource exists.
import { boolParam } from '../api/query-params.js';
import { TriremeError } from '../errors.js';

export interface ResourceRequest {
  kind: 'resource';
  verb: 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
  group: string;
  version: string;
  resource: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

export interface NonResourceRequest {
  kind: 'nonresource';
  path: string;
}

export type RequestInfo = ResourceRequest | NonResourceRequest;

/** `/namespaces/{name}/status` and `/finalize` address the namespace itself. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** One path segment, percent-decoded; a malformed escape (`%ff`, `%zz`) is a 400, as in Kubernetes. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TriremeError('BadRequest', `invalid URL escape in the path segment ${JSON.stringify(segment.slice(0, 100))}`);
  }
}

export function parseRequestInfo(method: string, pathname: string, query: URLSearchParams): RequestInfo {
  const parts = pathname.split('/').filter((p) => p !== '').map(decodeSegment);
  let rest: string[];
  let group: string;
  let version: string;
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return { kind: 'nonresource', path: pathname };
  }

  let namespace: string | undefined;
  // `/namespaces/{ns}/{resource}...` is namespaced, except `/namespaces/{name}[/{sub}]` itself.
  if (rest[0] === 'namespaces' && rest.length >= 3 && !NAMESPACE_SUBRESOURCES.has(rest[2]!)) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource || extra.length > 0) return { kind: 'nonresource', path: pathname };

  const watch = boolParam(query, 'watch');
  let verb: ResourceRequest['verb'];
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = name === undefined ? (watch ? 'watch' : 'list') : watch && subresource === undefined ? 'watch' : 'get';
      break;
    case 'POST': verb = 'create'; break;
    case 'PUT': verb = 'update'; break;
    case 'PATCH': verb = 'patch'; break;
    case 'DELETE': verb = name === undefined ? 'deletecollection' : 'delete'; break;
    default: return { kind: 'nonresource', path: pathname };
  }
  const info: ResourceRequest = { kind: 'resource', verb, group, version, resource };
  if (namespace !== undefined) info.namespace = namespace;
  if (name !== undefined) info.name = name;
  if (subresource !== undefined) info.subresource = subresource;
  return info;
}
