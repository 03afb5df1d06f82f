// The protobufjs view of the Kubernetes wire schema (schema.generated.ts), built once on first
// use. Guarantees: every message reachable from PROTOBUF_KINDS is resolved; `messageFor` maps an
// envelope's (apiVersion, kind) to its message, with the meta.k8s.io option kinds accepted under
// any group version (Kubernetes registers them in every group). Does not decode anything.
import protobuf from 'protobufjs';
import { PROTO_FILES, PROTOBUF_KINDS } from './schema.generated.js';

// Built once from the compiled-in schema; read-only and the same for every server in the process.
let root: protobuf.Root | undefined;

/** The resolved schema; parsing ~100 KB of proto text takes a few ms, so it is done lazily. */
export function schemaRoot(): protobuf.Root {
  if (root === undefined) {
    const r = new protobuf.Root();
    // keepCase: the proto field names are the Kubernetes ones (`volumeID`, FieldsV1's `Raw`).
    for (const f of PROTO_FILES) protobuf.parse(f.text, r, { keepCase: true });
    r.resolveAll();
    root = r;
  }
  return root;
}

/** Kinds that Kubernetes registers in every group version (metav1.AddToGroupVersion). */
const OPTION_KINDS = new Set(['DeleteOptions', 'CreateOptions', 'UpdateOptions', 'PatchOptions', 'Status']);

/** The message type of (apiVersion, kind), or undefined when we have no schema for it. */
export function messageFor(apiVersion: string, kind: string): protobuf.Type | undefined {
  const hit = PROTOBUF_KINDS.find(([v, k]) => k === kind && (v === apiVersion || OPTION_KINDS.has(k)));
  return hit === undefined ? undefined : schemaRoot().lookupType(hit[2]);
}

/** The envelope every protobuf body carries after the magic prefix. */
export function unknownType(): protobuf.Type {
  return schemaRoot().lookupType('k8s.io.apimachinery.pkg.runtime.Unknown');
}
