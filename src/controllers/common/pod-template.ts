// A pod built from a workload's template (pure), as Kubernetes' GetPodFromTemplate:
// template labels, annotations, finalizers and spec; `generateName` `<owner>-`; the owner
// as controller reference (controller and blockOwnerDeletion true). Does not: default or
// validate (the API server does both).
import type { KubeObject } from '../../api/object.js';
import type { PodObj, PodTemplateSpec } from './types.js';
import { newControllerRef } from './owner.js';

export function podFromTemplate(template: PodTemplateSpec | undefined, owner: KubeObject, ownerApiVersion: string, ownerKind: string): PodObj {
  const t = structuredClone(template ?? {});
  const meta = t.metadata ?? {};
  const pod: PodObj = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata?.name ?? ''}-`,
      namespace: owner.metadata?.namespace,
      ownerReferences: [newControllerRef(owner, ownerApiVersion, ownerKind)],
    },
    spec: t.spec ?? { containers: [] },
  };
  if (meta.labels) pod.metadata!.labels = meta.labels;
  if (meta.annotations) pod.metadata!.annotations = meta.annotations;
  if (meta.finalizers) pod.metadata!.finalizers = meta.finalizers;
  return pod;
}
