// The generic shape of every API object the registry handles. Per-kind types come from
// `kubernetes-types` (types only: `import type`).
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

export type { ObjectMeta };

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [field: string]: unknown;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
