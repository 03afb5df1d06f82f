// Server-side printing: turns objects of one kind into the `meta.k8s.io/v1` Table that
// `kubectl get` asks for (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`).
// Guarantees: every kind in resources.ts has Kubernetes 1.32's columns and cell formatting;
// other kinds get the apiserver's default table (Name, Created At). Rows carry all columns,
// wide ones included (kubectl hides priority > 0 unless `-o wide`), in the order given.
// The row object follows `includeObject`: none, a PartialObjectMetadata, or the object.
// Does not negotiate content types, filter, sort or paginate: the caller does, and passes the
// list's resourceVersion / continue / remainingItemCount to be echoed in the metadata.
import type { KubeObject } from '../object.js';
import { NAME, col } from './columns.js';
import { coreEventPrinter, eventsV1EventPrinter } from './event.js';
import { endpointSlicePrinter, endpointsPrinter, servicePrinter } from './network.js';
import { nodePrinter } from './node.js';
import { podPrinter } from './pod.js';
import { roleBindingPrinter } from './rbac.js';
import { configMapPrinter, leasePrinter, namespacePrinter, secretPrinter, serviceAccountPrinter } from './simple.js';
import type { IncludeObject, PartialObjectMetadata, Printer, Table, TableColumnDefinition, TableRow } from './types.js';
import { daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './workloads.js';
import { kubeTime, parseKubeTime } from '../time.js';

export type { IncludeObject, PartialObjectMetadata, Table, TableColumnDefinition, TableRow } from './types.js';
export { humanDuration, shortHumanDuration } from './age.js';

export interface BuildTableOptions {
  /** Wall-clock ms since the epoch that ages are measured against. */
  now: number;
  includeObject: IncludeObject;
  resourceVersion?: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** Go's RFC 3339 rendering of a metav1.Time in UTC, second precision. */
function rfc3339(timestamp: string | undefined): string {
  const t = parseKubeTime(timestamp);
  // A zero metav1.Time formats as Go's zero time.
  return t === undefined ? '0001-01-01T00:00:00Z' : kubeTime(t);
}

/** The apiserver's default convertor, for kinds without a printer. */
const defaultPrinter: Printer = {
  columns: [NAME, col('Created At', 'date', 'The time the object was created (metadata.creationTimestamp).')],
  row: (obj) => ({ cells: [obj.metadata?.name ?? '', rfc3339(obj.metadata?.creationTimestamp)] }),
};

/** Printers keyed by `group/kind`: a kind prints the same in every version of its group. */
const PRINTERS: ReadonlyMap<string, Printer> = new Map([
  ['/Pod', podPrinter],
  ['/Service', servicePrinter],
  ['/Endpoints', endpointsPrinter],
  ['/Node', nodePrinter],
  ['/Namespace', namespacePrinter],
  ['/ConfigMap', configMapPrinter],
  ['/Secret', secretPrinter],
  ['/ServiceAccount', serviceAccountPrinter],
  ['/Event', coreEventPrinter],
  ['apps/Deployment', deploymentPrinter],
  ['apps/ReplicaSet', replicaSetPrinter],
  ['apps/DaemonSet', daemonSetPrinter],
  ['apps/StatefulSet', statefulSetPrinter],
  ['coordination.k8s.io/Lease', leasePrinter],
  ['discovery.k8s.io/EndpointSlice', endpointSlicePrinter],
  ['events.k8s.io/Event', eventsV1EventPrinter],
  // Kubernetes prints roles with the default columns, but as a printer of their own.
  ['rbac.authorization.k8s.io/Role', defaultPrinter],
  ['rbac.authorization.k8s.io/ClusterRole', defaultPrinter],
  ['rbac.authorization.k8s.io/RoleBinding', roleBindingPrinter],
  ['rbac.authorization.k8s.io/ClusterRoleBinding', roleBindingPrinter],
]);

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

function printerFor(kind: string, apiVersion: string): Printer {
  return PRINTERS.get(`${groupOf(apiVersion)}/${kind}`) ?? defaultPrinter;
}

/** The column definitions `buildTable` uses for a kind. */
export function tableColumns(kind: string, apiVersion: string): TableColumnDefinition[] {
  return printerFor(kind, apiVersion).columns.map((c) => ({ ...c }));
}

/** True when the kind has its own printer rather than the default Name / Created At table. */
export function hasPrinter(kind: string, apiVersion: string): boolean {
  return PRINTERS.has(`${groupOf(apiVersion)}/${kind}`);
}

function rowObject(obj: KubeObject, kind: string, apiVersion: string, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Metadata') {
    const partial: PartialObjectMetadata = { apiVersion: 'meta.k8s.io/v1', kind: 'PartialObjectMetadata', metadata: obj.metadata ?? {} };
    return partial;
  }
  // Embedded objects must say what they are; stored objects normally do already.
  return obj.apiVersion && obj.kind ? obj : { ...obj, apiVersion: obj.apiVersion ?? apiVersion, kind: obj.kind ?? kind };
}

export function buildTable(kind: string, apiVersion: string, objects: readonly KubeObject[], opts: BuildTableOptions): Table {
  const printer = printerFor(kind, apiVersion);
  const rows = objects.map((obj): TableRow => {
    const { cells, conditions } = printer.row(obj, { now: opts.now });
    const row: TableRow = { cells };
    if (conditions) row.conditions = conditions;
    const object = rowObject(obj, kind, apiVersion, opts.includeObject);
    if (object !== undefined) row.object = object;
    return row;
  });
  const metadata: Table['metadata'] = {};
  if (opts.resourceVersion !== undefined) metadata.resourceVersion = opts.resourceVersion;
  if (opts.continueToken) metadata.continue = opts.continueToken;
  if (opts.remainingItemCount !== undefined) metadata.remainingItemCount = opts.remainingItemCount;
  return {
    apiVersion: 'meta.k8s.io/v1',
    kind: 'Table',
    metadata,
    columnDefinitions: printer.columns.map((c) => ({ ...c })),
    rows,
  };
}
