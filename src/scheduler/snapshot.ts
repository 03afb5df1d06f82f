// The read-only view of the cluster a scheduling decision is made on.
// Guarantees: nothing — it is an interface; ClusterCache implements it. Decisions run
// synchronously, so the view cannot change in the middle of one.
import type { LabelSelector } from '../api/selectors.js';
import type { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';

export interface Snapshot {
  /** Every node, in a stable order. */
  readonly nodeList: readonly NodeInfo[];
  getNode(name: string): NodeInfo | undefined;
  /** Labels of a namespace (undefined when unknown), for namespaceSelector terms. */
  namespaceLabels(namespace: string): Readonly<Record<string, string>> | undefined;
  /** Selectors of the Services in the pod's namespace that select it (for spreading). */
  serviceSelectors(pod: PodInfo): readonly LabelSelector[];
}
