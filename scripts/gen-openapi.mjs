// Generates src/apiserver/openapi/definitions.generated.ts: OpenAPI v3 component schemas, keyed by
// Kubernetes definition names (io.k8s.api.core.v1.Pod, ...), from the interfaces and JSDoc of the
// installed `kubernetes-types` package, read with the TypeScript compiler API.
//
// Guarantees: deterministic output (sorted keys, no timestamps); only definitions reachable from
// the kinds in src/api/resources.ts, their lists, the subresource kinds (Scale, Binding, Eviction)
// and the meta/discovery types. Does not: recover int32 vs int64 vs float (TypeScript only says
// `number`: every number becomes an integer, int64 for the field names in INT64_FIELDS, int32
// otherwise), list types, or enums.
//
// usage: node scripts/gen-openapi.mjs [--check]   (--check: exit 1 if the committed file is stale)
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const typesDir = join(root, 'node_modules', 'kubernetes-types');
const outFile = join(root, 'src', 'apiserver', 'openapi', 'definitions.generated.ts');
const resourcesFile = join(root, 'src', 'api', 'resources.ts');

// kubernetes-types module (path under the package, no extension) -> definition-name prefix.
const MODULES = {
  'core/v1': 'io.k8s.api.core.v1',
  'apps/v1': 'io.k8s.api.apps.v1',
  'coordination/v1': 'io.k8s.api.coordination.v1',
  'discovery/v1': 'io.k8s.api.discovery.v1',
  'events/v1': 'io.k8s.api.events.v1',
  'autoscaling/v1': 'io.k8s.api.autoscaling.v1',
  'policy/v1': 'io.k8s.api.policy.v1',
  'rbac/v1': 'io.k8s.api.rbac.v1',
  'meta/v1': 'io.k8s.apimachinery.pkg.apis.meta.v1',
  'runtime': 'io.k8s.apimachinery.pkg.runtime',
  'api/resource': 'io.k8s.apimachinery.pkg.api.resource',
  'version': 'io.k8s.apimachinery.pkg.version',
};

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';

// Kubernetes declares these as int64; every other integer field we serve is int32.
const INT64_FIELDS = new Set([
  'activeDeadlineSeconds', 'deletionGracePeriodSeconds', 'expirationSeconds', 'fsGroup', 'generation',
  'gracePeriodSeconds', 'observedGeneration', 'remainingItemCount', 'runAsGroup', 'runAsUser',
  'sizeBytes', 'supplementalGroups', 'terminationGracePeriodSeconds',
]);

// Patch metadata as Kubernetes' struct tags declare it (patchStrategy / patchMergeKey). A hook:
// extend it when the server's strategic merge patch needs more; kubectl apply reads it from here.
const PATCH_META = {
  [`${META}.ObjectMeta.finalizers`]: { strategy: 'merge' },
  [`${META}.ObjectMeta.ownerReferences`]: { strategy: 'merge', key: 'uid' },
  'io.k8s.api.core.v1.PodSpec.containers': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.PodSpec.initContainers': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.PodSpec.ephemeralContainers': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.PodSpec.volumes': { strategy: 'merge,retainKeys', key: 'name' },
  'io.k8s.api.core.v1.PodSpec.imagePullSecrets': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.PodSpec.hostAliases': { strategy: 'merge', key: 'ip' },
  'io.k8s.api.core.v1.PodSpec.topologySpreadConstraints': { strategy: 'merge', key: 'topologyKey' },
  'io.k8s.api.core.v1.PodSpec.schedulingGates': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.PodSpec.resourceClaims': { strategy: 'merge,retainKeys', key: 'name' },
  'io.k8s.api.core.v1.Container.env': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.Container.ports': { strategy: 'merge', key: 'containerPort' },
  'io.k8s.api.core.v1.Container.volumeMounts': { strategy: 'merge', key: 'mountPath' },
  'io.k8s.api.core.v1.Container.volumeDevices': { strategy: 'merge', key: 'devicePath' },
  'io.k8s.api.core.v1.EphemeralContainer.env': { strategy: 'merge', key: 'name' },
  'io.k8s.api.core.v1.EphemeralContainer.volumeMounts': { strategy: 'merge', key: 'mountPath' },
  'io.k8s.api.core.v1.EphemeralContainer.volumeDevices': { strategy: 'merge', key: 'devicePath' },
  'io.k8s.api.core.v1.PodStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.core.v1.PodStatus.podIPs': { strategy: 'merge', key: 'ip' },
  'io.k8s.api.core.v1.PodStatus.hostIPs': { strategy: 'merge', key: 'ip' },
  'io.k8s.api.core.v1.PodStatus.resourceClaimStatuses': { strategy: 'merge,retainKeys', key: 'name' },
  'io.k8s.api.core.v1.NodeStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.core.v1.NodeStatus.addresses': { strategy: 'merge', key: 'type' },
  'io.k8s.api.core.v1.NodeSpec.podCIDRs': { strategy: 'merge' },
  'io.k8s.api.core.v1.NamespaceStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.core.v1.ServiceSpec.ports': { strategy: 'merge', key: 'port' },
  'io.k8s.api.core.v1.ServiceStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.core.v1.ServiceAccount.secrets': { strategy: 'merge', key: 'name' },
  'io.k8s.api.apps.v1.DeploymentSpec.strategy': { strategy: 'retainKeys' },
  'io.k8s.api.apps.v1.DeploymentStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.apps.v1.ReplicaSetStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.apps.v1.DaemonSetStatus.conditions': { strategy: 'merge', key: 'type' },
  'io.k8s.api.apps.v1.StatefulSetStatus.conditions': { strategy: 'merge', key: 'type' },
};

// Definitions TypeScript cannot express; descriptions are ours.
const SPECIAL = {
  [INT_OR_STRING]: {
    description: 'IntOrString holds either an int32 or a string; JSON and YAML carry the inner value as is, so a field can accept a name or a number.',
    format: 'int-or-string',
    oneOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
  },
};

// Type aliases of `string` in kubernetes-types and the schema Kubernetes publishes for them.
const ALIAS_SCHEMAS = {
  [`${META}.Time`]: { type: 'string', format: 'date-time' },
  [`${META}.MicroTime`]: { type: 'string', format: 'date-time' },
  'io.k8s.apimachinery.pkg.api.resource.Quantity': { oneOf: [{ type: 'string' }, { type: 'number' }] },
};

// Meta kinds whose apiVersion is not a literal in kubernetes-types: they are valid in every
// group-version (`extraGroups`), like the real server's x-kubernetes-group-version-kind lists.
const META_KINDS = ['DeleteOptions', 'WatchEvent', 'Status'];

function moduleOf(fileName) {
  const rel = relative(typesDir, fileName).replace(/\\/g, '/').replace(/\.d\.ts$/, '');
  return Object.hasOwn(MODULES, rel) ? rel : undefined;
}

/** group/version/kind of each `r(...)` row of src/api/resources.ts, parsed, not executed. */
function servedKinds() {
  const src = ts.createSourceFile(resourcesFile, readFileSync(resourcesFile, 'utf8'), ts.ScriptTarget.ES2022, true);
  const out = [];
  const visit = (node) => {
    // Only the stored kinds (the RESOURCES table): metrics and review kinds have no OpenAPI here.
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text !== 'RESOURCES') return;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'r' && node.arguments.length >= 5) {
      const [g, v, , k] = node.arguments.map((a) => (ts.isStringLiteral(a) ? a.text : undefined));
      if (g !== undefined && v !== undefined && k !== undefined) out.push({ group: g, version: v, kind: k });
    }
    ts.forEachChild(node, visit);
  };
  visit(src);
  if (out.length === 0) throw new Error('no resources found in src/api/resources.ts');
  return out;
}

function generate() {
  const files = Object.keys(MODULES).map((m) => join(typesDir, `${m}.d.ts`));
  const program = ts.createProgram(files, { noEmit: true, skipLibCheck: true, types: [] });
  const checker = program.getTypeChecker();

  /** defName -> declaration */
  const decls = new Map();
  for (const sf of program.getSourceFiles()) {
    const mod = moduleOf(sf.fileName);
    if (!mod) continue;
    for (const st of sf.statements) {
      if (ts.isInterfaceDeclaration(st) || ts.isTypeAliasDeclaration(st)) decls.set(`${MODULES[mod]}.${st.name.text}`, st);
    }
  }

  const docOf = (node) => {
    const sym = node.name ? checker.getSymbolAtLocation(node.name) : undefined;
    return sym ? ts.displayPartsToString(sym.getDocumentationComment(checker)).trim() : '';
  };

  const refName = (typeName) => {
    let sym = checker.getSymbolAtLocation(typeName);
    if (sym && sym.flags & ts.SymbolFlags.Alias) sym = checker.getAliasedSymbol(sym);
    const d = sym?.declarations?.[0];
    const mod = d ? moduleOf(d.getSourceFile().fileName) : undefined;
    if (!d || !mod) throw new Error(`unresolved type ${typeName.getText()}`);
    return `${MODULES[mod]}.${sym.name}`;
  };

  const literalOf = (member) => {
    const t = member?.type;
    return t && ts.isLiteralTypeNode(t) && ts.isStringLiteral(t.literal) ? t.literal.text : undefined;
  };

  /** Schema of a type node; `refs` collects referenced definition names. */
  const typeSchema = (t, field, refs) => {
    if (t.kind === ts.SyntaxKind.StringKeyword) return { type: 'string' };
    if (t.kind === ts.SyntaxKind.BooleanKeyword) return { type: 'boolean' };
    if (t.kind === ts.SyntaxKind.NumberKeyword) return { type: 'integer', format: INT64_FIELDS.has(field) ? 'int64' : 'int32' };
    if (ts.isLiteralTypeNode(t)) return { type: 'string' };
    if (ts.isArrayTypeNode(t)) return { type: 'array', items: typeSchema(t.elementType, field, refs) };
    if (ts.isUnionTypeNode(t)) {
      const kinds = t.types.map((x) => x.kind).sort();
      if (kinds.length === 2 && kinds.includes(ts.SyntaxKind.NumberKeyword) && kinds.includes(ts.SyntaxKind.StringKeyword)) {
        refs.add(INT_OR_STRING);
        return { $ref: `#/components/schemas/${INT_OR_STRING}` };
      }
      if (t.types.every((x) => ts.isLiteralTypeNode(x))) return { type: 'string' };
      throw new Error(`unsupported union ${t.getText()}`);
    }
    if (ts.isTypeLiteralNode(t)) {
      const idx = t.members.find((m) => ts.isIndexSignatureDeclaration(m));
      if (!idx || t.members.length !== 1) throw new Error(`unsupported type literal ${t.getText()}`);
      return { type: 'object', additionalProperties: typeSchema(idx.type, field, refs) };
    }
    if (ts.isTypeReferenceNode(t)) {
      if (ts.isIdentifier(t.typeName) && t.typeName.text === 'Array' && t.typeArguments?.length === 1) {
        return { type: 'array', items: typeSchema(t.typeArguments[0], field, refs) };
      }
      const name = refName(t.typeName);
      refs.add(name);
      return { $ref: `#/components/schemas/${name}` };
    }
    throw new Error(`unsupported type ${t.getText()}`);
  };

  const served = servedKinds();
  const servedGVs = [...new Map(served.map((s) => [`${s.group}/${s.version}`, { group: s.group, version: s.version }])).values()];

  /** Schema of one definition; `refs` collects what it references. */
  const defSchema = (name, refs) => {
    if (SPECIAL[name]) return SPECIAL[name];
    const d = decls.get(name);
    if (!d) throw new Error(`no declaration for ${name}`);
    const description = docOf(d);
    if (ts.isTypeAliasDeclaration(d)) {
      const s = ALIAS_SCHEMAS[name];
      if (!s) throw new Error(`no schema for type alias ${name}`);
      return { description, ...s };
    }
    const properties = {};
    const required = [];
    for (const m of d.members) {
      if (!ts.isPropertySignature(m) || !m.type) continue;
      const field = m.name.getText();
      const s = { ...typeSchema(m.type, field, refs) };
      const doc = docOf(m);
      if (doc) s.description = doc;
      const pm = PATCH_META[`${name}.${field}`];
      if (pm?.key) s['x-kubernetes-patch-merge-key'] = pm.key;
      if (pm) s['x-kubernetes-patch-strategy'] = pm.strategy;
      properties[field] = s;
      if (!m.questionToken) required.push(field);
    }
    const out = { description, type: 'object' };
    if (Object.keys(properties).length > 0) out.properties = properties;
    if (required.length > 0) out.required = required.sort();
    const members = new Map(d.members.filter((m) => m.name).map((m) => [m.name.getText(), m]));
    const apiVersion = literalOf(members.get('apiVersion'));
    const kind = literalOf(members.get('kind'));
    if (apiVersion && kind) {
      const [g, v] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      out['x-kubernetes-group-version-kind'] = [{ group: g, kind, version: v }];
    } else if (name.startsWith(`${META}.`) && META_KINDS.includes(d.name.text)) {
      const gvs = d.name.text === 'Status' ? [{ group: '', version: 'v1' }] : servedGVs;
      out['x-kubernetes-group-version-kind'] = gvs.map((gv) => ({ group: gv.group, kind: d.name.text, version: gv.version }))
        .sort((a, b) => a.group.localeCompare(b.group) || a.version.localeCompare(b.version));
    }
    return out;
  };

  // Roots: served kinds and their lists, subresource kinds, meta and discovery kinds.
  const byGVK = new Map();
  for (const [name, d] of decls) {
    if (!ts.isInterfaceDeclaration(d)) continue;
    const members = new Map(d.members.filter((m) => m.name).map((m) => [m.name.getText(), m]));
    const av = literalOf(members.get('apiVersion'));
    const k = literalOf(members.get('kind'));
    if (av && k) byGVK.set(`${av}/${k}`, name);
  }
  const roots = [];
  for (const s of served) {
    const av = s.group ? `${s.group}/${s.version}` : s.version;
    for (const k of [s.kind, `${s.kind}List`]) {
      const n = byGVK.get(`${av}/${k}`);
      if (!n) throw new Error(`kubernetes-types has no ${av} ${k}`);
      roots.push(n);
    }
  }
  roots.push('io.k8s.api.autoscaling.v1.Scale', 'io.k8s.api.policy.v1.Eviction', 'io.k8s.api.core.v1.Binding');
  for (const m of ['APIGroup', 'APIGroupList', 'APIResourceList', 'APIVersions', 'DeleteOptions', 'Patch', 'Status', 'WatchEvent']) roots.push(`${META}.${m}`);
  roots.push('io.k8s.apimachinery.pkg.version.Info');

  const defs = {};
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift();
    if (defs[name]) continue;
    const refs = new Set();
    defs[name] = defSchema(name, refs);
    for (const r of refs) if (!defs[r]) queue.push(r);
  }
  return sortKeys(defs);
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

function render(defs) {
  return [
    '// GENERATED by scripts/gen-openapi.mjs from the kubernetes-types package: do not edit.',
    '// OpenAPI v3 component schemas keyed by Kubernetes definition name. Regenerate with',
    '// `node scripts/gen-openapi.mjs`; `--check` fails when this file is stale.',
    "import type { SchemaObject } from './schema.js';",
    '',
    `export const DEFINITIONS: Readonly<Record<string, SchemaObject>> = ${JSON.stringify(defs, null, 2)};`,
    '',
  ].join('\n');
}

const text = render(generate());
if (process.argv.includes('--check')) {
  const current = existsSync(outFile) ? readFileSync(outFile, 'utf8') : '';
  if (current !== text) {
    console.error(`${relative(root, outFile)} is stale: run node scripts/gen-openapi.mjs`);
    process.exit(1);
  }
  console.log(`${relative(root, outFile)} is up to date`);
} else {
  writeFileSync(outFile, text);
  console.log(`wrote ${relative(root, outFile)}`);
}
