// Regenerates ../schema.generated.ts from a kubectl binary (default: kubectl 1.32 on these
// machines). Usage: node src/apiserver/protobuf/tools/generate-schema.mjs [kubectl-binary]
//
// Why from the binary: every Kubernetes Go binary links k8s.io/api and k8s.io/apimachinery, so
// it carries (1) the gzipped FileDescriptorProto of each published `generated.proto` (registered
// by the generated Go code) -- exactly the field numbers and names of that release -- and (2) Go
// reflection metadata of the API structs: field order, `json:"..."` tags (name, omitempty,
// inline) and whether a field is a pointer. (1) gives the wire schema; (2) tells how Kubernetes
// renders the decoded struct as JSON. Reading both from one release keeps them consistent.
// Guarantees: emits only messages reachable from ROOTS; fails loudly if the proto and Go views
// of a message disagree. Does not: support PIE or non-amd64 binaries (kubectl is neither).
import fs from 'node:fs';
import zlib from 'node:zlib';
import protobuf from 'protobufjs';
import descriptor from 'protobufjs/ext/descriptor.js';

const binPath = process.argv[2] ?? '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';
const bin = fs.readFileSync(binPath);

// Kinds a client may send us as protobuf: the served kinds (src/api/resources.ts), the
// subresource bodies kubectl posts (Binding, Eviction, Scale), and the option kinds.
const ROOTS = [
  ['v1', 'Namespace', 'k8s.io.api.core.v1.Namespace'],
  ['v1', 'Pod', 'k8s.io.api.core.v1.Pod'],
  ['v1', 'Node', 'k8s.io.api.core.v1.Node'],
  ['v1', 'Service', 'k8s.io.api.core.v1.Service'],
  ['v1', 'Endpoints', 'k8s.io.api.core.v1.Endpoints'],
  ['v1', 'ConfigMap', 'k8s.io.api.core.v1.ConfigMap'],
  ['v1', 'Secret', 'k8s.io.api.core.v1.Secret'],
  ['v1', 'Event', 'k8s.io.api.core.v1.Event'],
  ['v1', 'ServiceAccount', 'k8s.io.api.core.v1.ServiceAccount'],
  ['v1', 'Binding', 'k8s.io.api.core.v1.Binding'],
  ['apps/v1', 'Deployment', 'k8s.io.api.apps.v1.Deployment'],
  ['apps/v1', 'ReplicaSet', 'k8s.io.api.apps.v1.ReplicaSet'],
  ['apps/v1', 'DaemonSet', 'k8s.io.api.apps.v1.DaemonSet'],
  ['apps/v1', 'StatefulSet', 'k8s.io.api.apps.v1.StatefulSet'],
  ['coordination.k8s.io/v1', 'Lease', 'k8s.io.api.coordination.v1.Lease'],
  ['discovery.k8s.io/v1', 'EndpointSlice', 'k8s.io.api.discovery.v1.EndpointSlice'],
  ['events.k8s.io/v1', 'Event', 'k8s.io.api.events.v1.Event'],
  ['rbac.authorization.k8s.io/v1', 'Role', 'k8s.io.api.rbac.v1.Role'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRole', 'k8s.io.api.rbac.v1.ClusterRole'],
  ['rbac.authorization.k8s.io/v1', 'RoleBinding', 'k8s.io.api.rbac.v1.RoleBinding'],
  ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', 'k8s.io.api.rbac.v1.ClusterRoleBinding'],
  ['authorization.k8s.io/v1', 'SelfSubjectAccessReview', 'k8s.io.api.authorization.v1.SelfSubjectAccessReview'],
  ['authorization.k8s.io/v1', 'SubjectAccessReview', 'k8s.io.api.authorization.v1.SubjectAccessReview'],
  ['authorization.k8s.io/v1', 'SelfSubjectRulesReview', 'k8s.io.api.authorization.v1.SelfSubjectRulesReview'],
  ['authentication.k8s.io/v1', 'SelfSubjectReview', 'k8s.io.api.authentication.v1.SelfSubjectReview'],
  ['policy/v1', 'Eviction', 'k8s.io.api.policy.v1.Eviction'],
  ['autoscaling/v1', 'Scale', 'k8s.io.api.autoscaling.v1.Scale'],
  ['meta.k8s.io/v1', 'DeleteOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.DeleteOptions'],
  ['meta.k8s.io/v1', 'CreateOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.CreateOptions'],
  ['meta.k8s.io/v1', 'UpdateOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.UpdateOptions'],
  ['meta.k8s.io/v1', 'PatchOptions', 'k8s.io.apimachinery.pkg.apis.meta.v1.PatchOptions'],
  ['meta.k8s.io/v1', 'Status', 'k8s.io.apimachinery.pkg.apis.meta.v1.Status'],
];
// Messages whose JSON form is not their fields (see ../to-json.ts); the generator keeps their
// schema but they need no Go metadata.
const SPECIAL = new Set([
  'k8s.io.apimachinery.pkg.apis.meta.v1.Time',
  'k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime',
  'k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1',
  'k8s.io.apimachinery.pkg.api.resource.Quantity',
  'k8s.io.apimachinery.pkg.util.intstr.IntOrString',
  'k8s.io.apimachinery.pkg.runtime.RawExtension',
  'k8s.io.apimachinery.pkg.runtime.Unknown',
  'k8s.io.apimachinery.pkg.runtime.TypeMeta',
  // `type ExtraValue []string`: its JSON is the list itself.
  'k8s.io.api.authorization.v1.ExtraValue',
  'k8s.io.api.authentication.v1.ExtraValue',
]);

// ---- ELF sections (static, non-PIE: pointers in the image are absolute addresses)
const shoff = Number(bin.readBigUInt64LE(0x28));
const shentsize = bin.readUInt16LE(0x3a), shnum = bin.readUInt16LE(0x3c), shstrndx = bin.readUInt16LE(0x3e);
const sections = [];
for (let i = 0; i < shnum; i++) {
  const o = shoff + i * shentsize;
  sections.push({ nameOff: bin.readUInt32LE(o), addr: bin.readBigUInt64LE(o + 0x10), off: Number(bin.readBigUInt64LE(o + 0x18)), size: Number(bin.readBigUInt64LE(o + 0x20)) });
}
const strtab = sections[shstrndx];
for (const s of sections) { const st = strtab.off + s.nameOff; s.name = bin.toString('latin1', st, bin.indexOf(0, st)); }
const ro = sections.find((s) => s.name === '.rodata');
if (!ro) throw new Error('no .rodata section');

// ---- (1) gzipped FileDescriptorProtos
const gz = Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0]);
const files = new Map();
for (let at = bin.indexOf(gz); at >= 0; at = bin.indexOf(gz, at + 1)) {
  let data;
  try { data = zlib.inflateRawSync(bin.subarray(at + 10, at + 10 + 4_000_000)); } catch { continue; }
  if (data[0] !== 0x0a) continue;
  const fd = (() => { try { return descriptor.FileDescriptorProto.decode(data); } catch { return undefined; } })();
  if (fd && /^k8s\.io\/.*generated\.proto$/.test(fd.name ?? '')) files.set(fd.name, fd);
}
const root = protobuf.Root.fromDescriptor({ file: [...files.values()] }, { keepCase: true });
root.resolveAll();

// ---- (2) Go reflection metadata of structs in k8s.io/api and k8s.io/apimachinery
const roEnd = ro.addr + BigInt(ro.size);
const inRo = (va) => va >= ro.addr && va < roEnd;
const off = (va) => Number(va - ro.addr) + ro.off;
function varint(o) { let v = 0, s = 0, b; do { b = bin[o++]; v |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return [v, o]; }
function goName(o) {
  const flags = bin[o]; let [l, p] = varint(o + 1); const name = bin.toString('latin1', p, p + l); p += l;
  let tag; if (flags & 2) { const [tl, q] = varint(p); tag = bin.toString('latin1', q, q + tl); }
  return { flags, name, tag };
}
const typeName = (o) => { const n = goName(ro.off + bin.readInt32LE(o + 40)).name; return bin[o + 20] & 2 ? n.slice(1) : n; };
const KIND_PTR = 22, KIND_STRUCT = 25;
const goStructs = new Map(); // proto-style full name -> fields
for (let p = ro.off; p < ro.off + ro.size - 96; p += 8) {
  if ((bin[p + 23] & 0x1f) !== KIND_STRUCT) continue;
  const fp = bin.readBigUInt64LE(p + 56), len = bin.readBigUInt64LE(p + 64), cap = bin.readBigUInt64LE(p + 72);
  if (len !== cap || len === 0n || len > 300n || !inRo(fp)) continue;
  let pkg = '', name;
  try {
    if (bin[p + 20] & 1) { const po = bin.readInt32LE(p + 80); if (po > 0) pkg = goName(ro.off + po).name; }
    name = typeName(p);
  } catch { continue; }
  if (!/^k8s\.io\/(api|apimachinery)\//.test(pkg)) continue;
  const fields = [];
  let ok = true;
  for (let i = 0; i < Number(len); i++) {
    const f = off(fp) + i * 24; const np = bin.readBigUInt64LE(f), tp = bin.readBigUInt64LE(f + 8);
    if (!inRo(np) || !inRo(tp)) { ok = false; break; }
    const n = goName(off(np));
    fields.push({ go: n.name, embedded: (n.flags & 8) !== 0, tag: n.tag ?? '', pointer: (bin[off(tp) + 23] & 0x1f) === KIND_PTR });
  }
  if (ok) goStructs.set(`${pkg.replaceAll('/', '.')}.${name.slice(name.indexOf('.') + 1)}`, fields);
}

// ---- reachable messages
const reach = new Map();
function visit(full) {
  if (reach.has(full)) return;
  const t = root.lookupType(full);
  reach.set(full, t);
  for (const f of t.fieldsArray) if (f.resolvedType instanceof protobuf.Type) visit(f.resolvedType.fullName.slice(1));
}
for (const [, , m] of ROOTS) visit(m);
visit('k8s.io.apimachinery.pkg.runtime.Unknown');

// ---- Go JSON metadata: per message, Go field order, [protoField, jsonName, flags]
// flags: o = omitempty, p = pointer, i = inlined into the parent (json:",inline" / embedded)
const meta = {};
const problems = [];
for (const [full, t] of reach) {
  if (SPECIAL.has(full)) continue;
  const go = goStructs.get(full);
  if (!go) { problems.push(`no Go struct for ${full}`); continue; }
  const byNum = new Map(t.fieldsArray.map((f) => [f.id, f]));
  const rows = [];
  const seen = new Set();
  for (const g of go) {
    const pb = /protobuf:"([^"]*)"/.exec(g.tag)?.[1];
    const js = /json:"([^"]*)"/.exec(g.tag)?.[1];
    if (!pb || pb === '-') continue; // not on the wire (TypeMeta, json-only fields)
    const num = Number(pb.split(',')[1]);
    const pf = byNum.get(num);
    if (!pf) { problems.push(`${full}.${g.go}: proto field ${num} missing`); continue; }
    seen.add(num);
    const [jname = '', ...opts] = (js ?? '').split(',');
    if (jname === '-') continue;
    const inline = opts.includes('inline') || (g.embedded && jname === '');
    const flags = `${opts.includes('omitempty') ? 'o' : ''}${g.pointer ? 'p' : ''}${inline ? 'i' : ''}`;
    rows.push([pf.name, inline ? '' : (jname || g.go), flags]);
  }
  for (const f of t.fieldsArray) if (!seen.has(f.id)) problems.push(`${full}.${f.name} (${f.id}) has no Go field`);
  meta[full] = rows;
}
if (problems.length) { console.error(problems.join('\n')); process.exit(1); }

// ---- proto text, one file per package
function protoType(f) {
  return f.resolvedType ? f.resolvedType.fullName : f.type;
}
const byPkg = new Map();
for (const [full, t] of [...reach].sort(([a], [b]) => a.localeCompare(b))) {
  const pkg = full.slice(0, full.lastIndexOf('.'));
  const lines = [`message ${t.name} {`];
  for (const f of [...t.fieldsArray].sort((a, b) => a.id - b.id)) {
    if (f.map) lines.push(`  map<${f.keyType}, ${protoType(f)}> ${f.name} = ${f.id};`);
    else lines.push(`  ${f.repeated ? 'repeated' : 'optional'} ${protoType(f)} ${f.name} = ${f.id};`);
  }
  lines.push('}');
  if (!byPkg.has(pkg)) byPkg.set(pkg, []);
  byPkg.get(pkg).push(lines.join('\n'));
}
const src = [...byPkg].map(([pkg, msgs]) => ({ pkg, text: `syntax = "proto2";\npackage ${pkg};\n\n${msgs.join('\n\n')}\n` }));

const q = (s) => JSON.stringify(s);
let out = `// GENERATED by src/apiserver/protobuf/tools/generate-schema.mjs from ${binPath.split('/').pop()}; do not edit.
// The wire schema is the published \`generated.proto\` of each Kubernetes package (field numbers and
// names as released), pruned to the messages reachable from PROTOBUF_KINDS. GO_JSON_FIELDS says how
// Kubernetes renders each message as JSON: Go field order, [proto field, JSON name, flags] with
// flags o = omitempty, p = pointer (presence matters), i = inlined into the parent object.

/** One \`.proto\` file per protobuf package. */
export const PROTO_FILES: readonly { pkg: string; text: string }[] = [\n`;
for (const s of src) out += `  { pkg: ${q(s.pkg)}, text: \`${s.text}\` },\n`;
out += `];

/** [apiVersion, kind, message] for every kind we decode from a protobuf request body. */
export const PROTOBUF_KINDS: readonly (readonly [string, string, string])[] = [\n`;
for (const r of ROOTS) out += `  [${r.map(q).join(', ')}],\n`;
out += `];

export type GoJsonField = readonly [protoField: string, jsonName: string, flags: string];

export const GO_JSON_FIELDS: Readonly<Record<string, readonly GoJsonField[]>> = {\n`;
for (const [full, rows] of Object.entries(meta).sort(([a], [b]) => a.localeCompare(b))) {
  out += `  ${q(full)}: [${rows.map((r) => `[${r.map(q).join(', ')}]`).join(', ')}],\n`;
}
out += '};\n';
process.stdout.write(out);
console.error(`${reach.size} messages in ${byPkg.size} packages`);
