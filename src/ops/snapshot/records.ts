// The snapshot records users can `kubectl get`: ConfigMap kube-system/trireme-snapshots, one
// data key per snapshot (its name), whose value is one line of JSON: file, server, store,
// revision, objects, size, sha256, created.
// Guarantees: every change is a compare-and-swap on the ConfigMap (retried on a conflict, up
// to 10 times), so servers recording at once never lose each other's entries.
// Does not: hold the snapshots (each server's snapshot dir does), or remove entries of
// another server.
import type { KubeObject } from '../../api/object.js';
import { findByKind } from '../../api/resources.js';
import { SYSTEM_NAMESPACE } from '../../api/namespaces.js';
import type { Registry } from '../../apiserver/registry.js';
import { isTriremeError, TriremeError } from '../../errors.js';
import type { SnapshotManifest } from './format.js';

export const RECORDS_CONFIGMAP = 'trireme-snapshots';
const CONFIGMAPS = findByKind('v1', 'ConfigMap')!;

export interface SnapshotRecord {
  name: string;
  file: string;
  server: string;
  store: SnapshotManifest['store'];
  revision: number;
  objects: number;
  size: number;
  sha256: string;
  created: string;
}

export function recordOf(path: string, size: number, m: SnapshotManifest): SnapshotRecord {
  return { name: m.name, file: path, server: m.server, store: m.store, revision: m.revision, objects: m.objectCount, size, sha256: m.sha256, created: m.created };
}

type ConfigMap = KubeObject & { data?: Record<string, string> };

export class SnapshotRecords {
  constructor(private readonly registry: Registry) {}

  async list(): Promise<SnapshotRecord[]> {
    const cm = await this.read();
    const out: SnapshotRecord[] = [];
    for (const v of Object.values(cm?.data ?? {})) {
      try {
        out.push(JSON.parse(v) as SnapshotRecord);
      } catch {
        // A hand-edited entry that is not JSON is not a record; it is left alone.
      }
    }
    return out;
  }

  /** Adds `add` and removes the entries named in `remove`. */
  async change(add: SnapshotRecord[], remove: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const cm = await this.read();
      const data = { ...(cm?.data ?? {}) };
      for (const r of add) data[r.name] = JSON.stringify(r);
      for (const n of remove) delete data[n];
      try {
        if (cm === undefined) {
          await this.registry.create(CONFIGMAPS, SYSTEM_NAMESPACE, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: RECORDS_CONFIGMAP, namespace: SYSTEM_NAMESPACE }, data } as ConfigMap);
        } else {
          await this.registry.update(CONFIGMAPS, SYSTEM_NAMESPACE, RECORDS_CONFIGMAP, { ...cm, data } as ConfigMap);
        }
        return;
      } catch (e) {
        if (!(isTriremeError(e, 'Conflict') || isTriremeError(e, 'AlreadyExists')) || attempt >= 9) {
          throw e instanceof TriremeError ? e : new TriremeError('Internal', `cannot record snapshots in ${SYSTEM_NAMESPACE}/${RECORDS_CONFIGMAP}: ${(e as Error).message}`, { cause: e });
        }
      }
    }
  }

  private async read(): Promise<ConfigMap | undefined> {
    try {
      return await this.registry.get(CONFIGMAPS, SYSTEM_NAMESPACE, RECORDS_CONFIGMAP) as ConfigMap;
    } catch (e) {
      if (isTriremeError(e, 'NotFound')) return undefined;
      throw e;
    }
  }
}
