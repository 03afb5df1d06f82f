// Rows of the kinds whose columns are one or two plain fields: Namespace, ConfigMap, Secret,
// ServiceAccount, Lease (Kubernetes 1.32 columns). Guarantees: counts are numbers, absent
// fields print as Kubernetes prints their zero value ('' or 0).
import type { ConfigMap, Namespace, Secret, ServiceAccount } from 'kubernetes-types/core/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { since } from './age.js';
import { AGE, NAME, col } from './columns.js';
import type { Printer } from './types.js';

function count(map: Record<string, unknown> | null | undefined): number {
  return Object.keys(map ?? {}).length;
}

export const namespacePrinter: Printer = {
  columns: [NAME, col('Status', 'string', 'The status of the namespace'), AGE],
  row(obj, ctx) {
    const ns = obj as Namespace;
    return { cells: [ns.metadata?.name ?? '', ns.status?.phase ?? '', since(ns.metadata?.creationTimestamp, ctx.now)] };
  },
};

export const configMapPrinter: Printer = {
  columns: [NAME, col('Data', 'string', 'Number of keys in data and binaryData.'), AGE],
  row(obj, ctx) {
    const cm = obj as ConfigMap;
    return { cells: [cm.metadata?.name ?? '', count(cm.data) + count(cm.binaryData), since(cm.metadata?.creationTimestamp, ctx.now)] };
  },
};

export const secretPrinter: Printer = {
  columns: [NAME, col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'), col('Data', 'string', 'Number of keys in data.'), AGE],
  row(obj, ctx) {
    const s = obj as Secret;
    return { cells: [s.metadata?.name ?? '', s.type ?? '', count(s.data), since(s.metadata?.creationTimestamp, ctx.now)] };
  },
};

// 1.32 still prints SECRETS; the column was dropped in a later release.
export const serviceAccountPrinter: Printer = {
  columns: [NAME, col('Secrets', 'string', 'Number of secrets listed in the service account.'), AGE],
  row(obj, ctx) {
    const sa = obj as ServiceAccount;
    return { cells: [sa.metadata?.name ?? '', (sa.secrets ?? []).length, since(sa.metadata?.creationTimestamp, ctx.now)] };
  },
};

export const leasePrinter: Printer = {
  columns: [NAME, col('Holder', 'string', 'The identity of the holder of the lease.'), AGE],
  row(obj, ctx) {
    const l = obj as Lease;
    return { cells: [l.metadata?.name ?? '', l.spec?.holderIdentity ?? '', since(l.metadata?.creationTimestamp, ctx.now)] };
  },
};
