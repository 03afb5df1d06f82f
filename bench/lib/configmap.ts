// The objects the benchmark writes: small ConfigMaps (~256 bytes of data), the same bodies for
// the API server and for the raw store, so both sides move the same bytes.
// Guarantees: `configMapBody` is deterministic in (namespace, name); `storedConfigMap` has the
// shape the API server persists (server-set metadata included), so store values are realistic.
// Does not: validate anything; it only builds JSON.
import { randomUUID } from 'node:crypto';
import { kubeTime } from '../../src/api/time.js';
import { findResource, storeKey, storePrefix, type ResourceInfo } from '../../src/api/resources.js';

const CONFIGMAPS: ResourceInfo = (() => {
  const info = findResource('', 'v1', 'configmaps');
  if (info === undefined) throw new Error('resource table has no v1 configmaps');
  return info;
})();

/** ~256 bytes of data per object: eight 32-character values. */
function payload(name: string): Record<string, string> {
  const data: Record<string, string> = {};
  for (let i = 0; i < 8; i++) data[`key-${i}`] = `${name}-${i}-`.padEnd(32, 'x').slice(0, 32);
  return data;
}

/** The request body of a ConfigMap create. */
export function configMapBody(namespace: string, name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { app: 'bench' } }, data: payload(name) });
}

/** What the API server would store for that ConfigMap (for the raw-store baseline). */
export function storedConfigMap(namespace: string, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace, labels: { app: 'bench' }, uid: randomUUID(), creationTimestamp: kubeTime(Date.now()) },
    data: payload(name),
  });
}

/** The store key of a ConfigMap, exactly as the registry computes it. */
export function configMapKey(namespace: string, name: string): string {
  return storeKey(CONFIGMAPS, namespace, name);
}

export function configMapPrefix(namespace: string): string {
  return storePrefix(CONFIGMAPS, namespace);
}
