// Pinning a daemon pod to its node (pure), as Kubernetes does since 1.12: not through
// spec.nodeName but through a required node-affinity term on `metadata.name`, so the
// scheduler binds it (and accounts for its resources). Guarantees: every existing required
// term gets the `metadata.name In [node]` field requirement (replacing an older one), or a
// single such term is added; `targetNode` reads the node back from nodeName or that term.
import type { Affinity, NodeSelectorTerm } from 'kubernetes-types/core/v1.js';
import type { PodObj } from '../common/types.js';

export function pinnedAffinity(affinity: Affinity | undefined, nodeName: string): Affinity {
  const a = structuredClone(affinity ?? {});
  const nodeAffinity = a.nodeAffinity ?? {};
  const field = { key: 'metadata.name', operator: 'In', values: [nodeName] };
  const terms = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  const next: NodeSelectorTerm[] = terms.length === 0
    ? [{ matchFields: [field] }]
    : terms.map((t) => ({ ...t, matchFields: [...(t.matchFields ?? []).filter((f) => f.key !== 'metadata.name'), field] }));
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: next };
  a.nodeAffinity = nodeAffinity;
  return a;
}

/** The node a daemon pod is for: its nodeName, else the single node its affinity pins it to. */
export function targetNode(pod: PodObj): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}
