// The `paths` of the OpenAPI v3 documents: one entry per URL the API server serves for a
// group-version (collection, item, all-namespaces list, watch paths, subresources), with the
// operations, parameters, request bodies and responses kubectl reads. Every PATCH operation
// carries x-kubernetes-group-version-kind and a `fieldValidation` parameter, which kubectl's
// OpenAPI v3 check requires before it trusts server-side field validation.
// Guarantees: derived only from src/api/resources.ts and the generated definitions; deterministic.
// Does not: describe query parameters in full (short descriptions of our own).
import { RESOURCES, groupVersion, type ResourceInfo } from '../../api/resources.js';
import { definitionForKind, refTo } from './kinds.js';
import type { GroupVersionKind, SchemaObject } from './schema.js';

export interface Parameter {
  name: string;
  in: 'path' | 'query';
  description: string;
  required?: boolean;
  schema: SchemaObject;
}

export interface MediaType { schema: SchemaObject }

export interface Operation {
  description: string;
  operationId: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: { content: Record<string, MediaType>; required: boolean };
  responses: Record<string, { description: string; content?: Record<string, MediaType> }>;
  'x-kubernetes-action': string;
  'x-kubernetes-group-version-kind'?: GroupVersionKind;
}

export interface PathItem {
  parameters?: Parameter[];
  get?: Operation;
  put?: Operation;
  post?: Operation;
  delete?: Operation;
  patch?: Operation;
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const STATUS = `${META}.Status`;

const str: SchemaObject = { type: 'string' };
const bool: SchemaObject = { type: 'boolean' };
const int: SchemaObject = { type: 'integer' };

function query(name: string, description: string, schema: SchemaObject = str): Parameter {
  return { name, in: 'query', description, schema };
}

const P = {
  name: { name: 'name', in: 'path', description: 'name of the object', required: true, schema: str } as Parameter,
  namespace: { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: str } as Parameter,
  pretty: query('pretty', "If 'true', then the output is pretty printed."),
  dryRun: query('dryRun', 'When present, modifications are not persisted. The only valid value is All.'),
  fieldManager: query('fieldManager', 'The name of the actor making the change, recorded in managedFields.'),
  fieldValidation: query('fieldValidation', 'How to treat unknown or duplicate fields in the request body: Ignore, Warn (the default) or Strict.'),
  force: query('force', 'Apply requests only: take ownership of fields owned by other managers.', bool),
  gracePeriodSeconds: query('gracePeriodSeconds', 'Seconds before the object is deleted; zero deletes immediately.', int),
  orphanDependents: query('orphanDependents', 'Deprecated: use propagationPolicy.', bool),
  propagationPolicy: query('propagationPolicy', 'Garbage collection of dependents: Orphan, Background or Foreground.'),
};

const LIST_PARAMS: Parameter[] = [
  query('allowWatchBookmarks', 'Ask for BOOKMARK watch events.', bool),
  query('continue', 'The continue token of a previous, paginated list.'),
  query('fieldSelector', 'Restrict the returned objects by their fields.'),
  query('labelSelector', 'Restrict the returned objects by their labels.'),
  query('limit', 'Maximum number of items to return; a continue token pages through the rest.', int),
  query('resourceVersion', 'Which resource version the list or watch is served at or after.'),
  query('resourceVersionMatch', 'How resourceVersion applies to a list: Exact or NotOlderThan.'),
  query('sendInitialEvents', 'Start a watch with synthetic ADDED events for the current state.', bool),
  query('timeoutSeconds', 'Time limit of the list or watch call.', int),
  query('watch', 'Watch for changes instead of listing.', bool),
];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];

const PATCH_TYPES = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json'];

function content(schema: SchemaObject, types = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']): Record<string, MediaType> {
  return Object.fromEntries(types.map((t) => [t, { schema }]));
}

const STREAM_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf', 'application/json;stream=watch', 'application/vnd.kubernetes.protobuf;stream=watch'];
const UNAUTHORIZED = { description: 'Unauthorized' };

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Operation id fragment of a group-version, as the real API server spells it: CoreV1, AppsV1, CoordinationV1. */
function gvCamel(group: string, version: string): string {
  const g = group === '' ? 'Core' : (group.split('.')[0] ?? group).split('-').map(upperFirst).join('');
  return `${g}${upperFirst(version)}`;
}

function tagOf(group: string, version: string): string {
  return `${group === '' ? 'core' : (group.split('.')[0] ?? group).replace(/-/g, '_')}_${version}`;
}

function prefixOf(info: Pick<ResourceInfo, 'group' | 'version'>): string {
  return info.group === '' ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
}

function defRef(apiVersion: string, kind: string): SchemaObject {
  const name = definitionForKind(apiVersion, kind);
  if (!name) throw new Error(`no OpenAPI definition for ${apiVersion} ${kind}`);
  return refTo(name);
}

interface OpArgs {
  verb: string; // operationId verb: list, create, read, replace, patch, delete, deletecollection, watch, connect...
  action: string; // x-kubernetes-action
  noun: string; // operationId noun: NamespacedPod, PodListForAllNamespaces, NamespacedDeploymentScale
  description: string;
  gvk?: GroupVersionKind;
  params?: Parameter[];
  body?: Record<string, MediaType>;
  responses: Operation['responses'];
}

function resourcePaths(info: ResourceInfo): Record<string, PathItem> {
  const gv = groupVersion(info);
  const camel = gvCamel(info.group, info.version);
  const tags = [tagOf(info.group, info.version)];
  const op = (a: OpArgs): Operation => ({
    description: a.description,
    operationId: `${a.verb}${camel}${a.noun}`,
    tags,
    ...(a.params && a.params.length > 0 ? { parameters: a.params } : {}),
    ...(a.body ? { requestBody: { content: a.body, required: true } } : {}),
    responses: { ...a.responses, '401': UNAUTHORIZED },
    'x-kubernetes-action': a.action,
    ...(a.gvk ? { 'x-kubernetes-group-version-kind': a.gvk } : {}),
  });
  const kindRef = defRef(gv, info.kind);
  const listRef = defRef(gv, info.listKind);
  const gvk: GroupVersionKind = { group: info.group, kind: info.kind, version: info.version };
  const verbs = new Set(info.verbs);
  const ns = info.namespaced ? 'Namespaced' : '';
  const base = prefixOf(info);
  const scope = info.namespaced ? `${base}/namespaces/{namespace}` : base;
  const scopeParams = info.namespaced ? [P.namespace, P.pretty] : [P.pretty];
  const itemParams = [P.name, ...scopeParams];
  const ok = (schema: SchemaObject, code = '200'): Operation['responses'] => ({ [code]: { description: 'OK', content: content(schema) } });
  const okCreated = (schema: SchemaObject): Operation['responses'] => ({
    '200': { description: 'OK', content: content(schema) },
    '201': { description: 'Created', content: content(schema) },
  });
  const kindName = info.kind;
  const paths: Record<string, PathItem> = {};

  const coll: PathItem = { parameters: scopeParams };
  if (verbs.has('list')) coll.get = op({ verb: 'list', action: 'list', noun: `${ns}${kindName}`, description: `list or watch objects of kind ${kindName}`, gvk, params: LIST_PARAMS, responses: { '200': { description: 'OK', content: content(listRef, STREAM_TYPES) } } });
  if (verbs.has('create')) coll.post = op({ verb: 'create', action: 'post', noun: `${ns}${kindName}`, description: `create a ${kindName}`, gvk, params: WRITE_PARAMS, body: content(kindRef, ['*/*']), responses: { ...okCreated(kindRef), '202': { description: 'Accepted', content: content(kindRef) } } });
  if (verbs.has('deletecollection')) coll.delete = op({ verb: 'delete', action: 'deletecollection', noun: `Collection${ns}${kindName}`, description: `delete collection of ${kindName}`, gvk, params: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')], body: content(refTo(`${META}.DeleteOptions`), ['*/*']), responses: ok(refTo(STATUS)) });
  paths[`${scope}/${info.resource}`] = coll;

  const item: PathItem = { parameters: itemParams };
  if (verbs.has('get')) item.get = op({ verb: 'read', action: 'get', noun: `${ns}${kindName}`, description: `read the specified ${kindName}`, gvk, responses: ok(kindRef) });
  if (verbs.has('update')) item.put = op({ verb: 'replace', action: 'put', noun: `${ns}${kindName}`, description: `replace the specified ${kindName}`, gvk, params: WRITE_PARAMS, body: content(kindRef, ['*/*']), responses: okCreated(kindRef) });
  if (verbs.has('patch')) item.patch = op({ verb: 'patch', action: 'patch', noun: `${ns}${kindName}`, description: `partially update the specified ${kindName}`, gvk, params: PATCH_PARAMS, body: content(refTo(`${META}.Patch`), PATCH_TYPES), responses: okCreated(kindRef) });
  if (verbs.has('delete')) item.delete = op({ verb: 'delete', action: 'delete', noun: `${ns}${kindName}`, description: `delete a ${kindName}`, gvk, params: DELETE_PARAMS, body: content(refTo(`${META}.DeleteOptions`), ['*/*']), responses: { '200': { description: 'OK', content: content(refTo(STATUS)) }, '202': { description: 'Accepted', content: content(refTo(STATUS)) } } });
  paths[`${scope}/${info.resource}/{name}`] = item;

  if (verbs.has('watch')) {
    const watchRef = refTo(`${META}.WatchEvent`);
    const watchResp = { '200': { description: 'OK', content: content(watchRef, STREAM_TYPES) } };
    paths[`${base}/watch${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}`] = { parameters: [...scopeParams, ...LIST_PARAMS], get: op({ verb: 'watch', action: 'watchlist', noun: `${ns}${kindName}List`, description: `watch individual changes to a list of ${kindName}. deprecated: use the 'watch' parameter with a list operation instead.`, gvk, responses: watchResp }) };
    paths[`${base}/watch${info.namespaced ? '/namespaces/{namespace}' : ''}/${info.resource}/{name}`] = { parameters: [...itemParams, ...LIST_PARAMS], get: op({ verb: 'watch', action: 'watch', noun: `${ns}${kindName}`, description: `watch changes to an object of kind ${kindName}. deprecated: use the 'watch' parameter with a list operation instead, filtered to a single item with the 'fieldSelector' parameter.`, gvk, responses: watchResp }) };
    if (info.namespaced) {
      paths[`${base}/watch/${info.resource}`] = { parameters: [P.pretty, ...LIST_PARAMS], get: op({ verb: 'watch', action: 'watchlist', noun: `${kindName}ListForAllNamespaces`, description: `watch individual changes to a list of ${kindName}. deprecated: use the 'watch' parameter with a list operation instead.`, gvk, responses: watchResp }) };
    }
  }
  if (info.namespaced && verbs.has('list')) {
    paths[`${base}/${info.resource}`] = { parameters: [P.pretty, ...LIST_PARAMS], get: op({ verb: 'list', action: 'list', noun: `${kindName}ForAllNamespaces`, description: `list or watch objects of kind ${kindName}`, gvk, responses: { '200': { description: 'OK', content: content(listRef, STREAM_TYPES) } } }) };
  }

  const itemPath = `${scope}/${info.resource}/{name}`;
  for (const sub of info.subresources) {
    const noun = `${ns}${kindName}${upperFirst(sub)}`;
    const p = `${itemPath}/${sub}`;
    switch (sub) {
      case 'status':
      case 'scale': {
        const subGvk = sub === 'scale' ? { group: 'autoscaling', kind: 'Scale', version: 'v1' } : gvk;
        const ref = sub === 'scale' ? defRef('autoscaling/v1', 'Scale') : kindRef;
        paths[p] = {
          parameters: itemParams,
          get: op({ verb: 'read', action: 'get', noun, description: `read ${sub} of the specified ${kindName}`, gvk: subGvk, responses: ok(ref) }),
          put: op({ verb: 'replace', action: 'put', noun, description: `replace ${sub} of the specified ${kindName}`, gvk: subGvk, params: WRITE_PARAMS, body: content(ref, ['*/*']), responses: okCreated(ref) }),
          patch: op({ verb: 'patch', action: 'patch', noun, description: `partially update ${sub} of the specified ${kindName}`, gvk: subGvk, params: PATCH_PARAMS, body: content(refTo(`${META}.Patch`), PATCH_TYPES), responses: okCreated(ref) }),
        };
        break;
      }
      case 'binding':
      case 'eviction': {
        const ref = sub === 'binding' ? defRef('v1', 'Binding') : defRef('policy/v1', 'Eviction');
        const subGvk = sub === 'binding' ? { group: '', kind: 'Binding', version: 'v1' } : { group: 'policy', kind: 'Eviction', version: 'v1' };
        paths[p] = { parameters: itemParams, post: op({ verb: 'create', action: 'post', noun, description: `create ${sub} of a ${kindName}`, gvk: subGvk, params: WRITE_PARAMS, body: content(ref, ['*/*']), responses: { ...okCreated(ref), '202': { description: 'Accepted', content: content(ref) } } }) };
        break;
      }
      case 'finalize':
        paths[p] = { parameters: itemParams, put: op({ verb: 'replace', action: 'put', noun, description: `replace finalize of the specified ${kindName}`, gvk, params: WRITE_PARAMS, body: content(kindRef, ['*/*']), responses: okCreated(kindRef) }) };
        break;
      case 'log':
        paths[p] = {
          parameters: [...itemParams, ...['container', 'follow', 'insecureSkipTLSVerifyBackend', 'limitBytes', 'previous', 'sinceSeconds', 'tailLines', 'timestamps'].map((n) => query(n, `log option ${n}`, ['container'].includes(n) ? str : ['limitBytes', 'sinceSeconds', 'tailLines'].includes(n) ? int : bool))],
          get: op({ verb: 'read', action: 'get', noun, description: `read log of the specified ${kindName}`, gvk, responses: { '200': { description: 'OK', content: content(str, ['text/plain', 'application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']) } } }),
        };
        break;
      case 'exec': {
        const execParams = ['command', 'container', 'stderr', 'stdin', 'stdout', 'tty'].map((n) => query(n, `exec option ${n}`, ['command', 'container'].includes(n) ? str : bool));
        const connect = (method: string): Operation => ({ ...op({ verb: 'connect', action: 'connect', noun: `${method}${noun}`, description: `connect ${method.toUpperCase()} requests to exec of ${kindName}`, gvk: { group: info.group, kind: 'PodExecOptions', version: info.version }, responses: { '200': { description: 'OK', content: content(str, ['*/*']) } } }), operationId: `connect${camel}${method}${noun}` });
        paths[p] = { parameters: [...itemParams, ...execParams], get: connect('Get'), post: connect('Post') };
        break;
      }
    }
  }
  return paths;
}

/** Paths of one group-version document, e.g. 'api/v1' or 'apis/apps/v1'; undefined if not served. */
export function groupVersionPaths(group: string, version: string): Record<string, PathItem> | undefined {
  const infos = RESOURCES.filter((r) => r.group === group && r.version === version);
  if (infos.length === 0) return undefined;
  const camel = gvCamel(group, version);
  const tags = [tagOf(group, version)];
  const prefix = prefixOf({ group, version });
  const paths: Record<string, PathItem> = {
    [`${prefix}/`]: { get: { description: 'get available resources', operationId: `get${camel}APIResources`, tags, responses: { '200': { description: 'OK', content: content(refTo(`${META}.APIResourceList`), ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']) }, '401': UNAUTHORIZED }, 'x-kubernetes-action': 'get' } },
  };
  for (const info of infos) Object.assign(paths, resourcePaths(info));
  return paths;
}

/** Paths of the discovery documents: 'api', 'apis', 'apis/<group>', 'version'. */
export function discoveryPaths(path: string): Record<string, PathItem> | undefined {
  const get = (operationId: string, description: string, schema: SchemaObject, tag: string): Record<string, PathItem> => ({
    [`/${path}/`]: { get: { description, operationId, tags: [tag], responses: { '200': { description: 'OK', content: content(schema, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']) }, '401': UNAUTHORIZED }, 'x-kubernetes-action': 'get' } },
  });
  if (path === 'api') return get('getCoreAPIVersions', 'get available API versions', refTo(`${META}.APIVersions`), 'core');
  if (path === 'apis') return get('getAPIVersions', 'get available API versions', refTo(`${META}.APIGroupList`), 'apis');
  if (path === 'version') return get('getCodeVersion', 'get the version information for this server', refTo('io.k8s.apimachinery.pkg.version.Info'), 'version');
  const m = /^apis\/([^/]+)$/.exec(path);
  const group = m?.[1];
  if (group && RESOURCES.some((r) => r.group === group)) {
    return get(`get${gvCamel(group, '')}APIGroup`, 'get information of a group', refTo(`${META}.APIGroup`), tagOf(group, '').replace(/_$/, ''));
  }
  return undefined;
}
