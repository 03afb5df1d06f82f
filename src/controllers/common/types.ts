// Object types the controllers handle: the `kubernetes-types` shapes made assignable to the
// generic KubeObject the client layer works with. Types only, no behaviour.
import type { KubeObject } from '../../api/object.js';
import type { Node, Pod, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { OwnerReference } from 'kubernetes-types/meta/v1.js';

export type PodObj = Pod & KubeObject;
export type NodeObj = Node & KubeObject;
export type ReplicaSetObj = ReplicaSet & KubeObject;
export type DeploymentObj = Deployment & KubeObject;
export type DaemonSetObj = DaemonSet & KubeObject;
export type StatefulSetObj = StatefulSet & KubeObject;
export type { OwnerReference, PodTemplateSpec };
