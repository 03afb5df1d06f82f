// The wire shapes of server-side printing: `meta.k8s.io/v1` Table and its parts, and the
// per-kind printer contract. Guarantees: field names and presence match what kubectl decodes
// (every column definition carries all five fields, as Kubernetes always serialises them).
// Holds no behaviour.
import type { KubeObject, ObjectMeta } from '../object.js';

export type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'date';

export interface TableColumnDefinition {
  name: string;
  type: ColumnType;
  /** `name` for the object-name column, '' otherwise. */
  format: string;
  description: string;
  /** 0 = always shown; 1 = shown by `kubectl get -o wide` only. */
  priority: number;
}

export type Cell = string | number | boolean;

export interface TableRowCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export interface TableRow {
  cells: Cell[];
  conditions?: TableRowCondition[];
  object?: unknown;
}

export interface Table {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'Table';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface PartialObjectMetadata {
  apiVersion: 'meta.k8s.io/v1';
  kind: 'PartialObjectMetadata';
  metadata: ObjectMeta;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** What a printer needs besides the object: the time that ages are measured against. */
export interface PrintContext {
  now: number;
}

/** One kind's columns and the function that turns one object into that many cells. */
export interface Printer {
  columns: readonly TableColumnDefinition[];
  /** Cells in column order; `conditions` only where Kubernetes sets row conditions (pods). */
  row(obj: KubeObject, ctx: PrintContext): { cells: Cell[]; conditions?: TableRowCondition[] };
}
