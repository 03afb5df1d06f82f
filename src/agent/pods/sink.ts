// Where a pod worker reports to: the API for pods bound to this node, the mirror pod for static
// pods, or nowhere while the API is unreachable.
// Guarantees: every method is safe to call at any time; failures are logged by the caller's
// implementation, never thrown into the worker's decisions (the worker keeps running pods).
import type { ConfigMap, Pod, PodStatus, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { PortAssignment } from './ports.js';

export interface PodSink {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
  /**
   * The Services a container of a pod in `namespace` may get variables for (that namespace's and
   * `default/kubernetes`); throws while they cannot be known yet. Absent: no service variables.
   */
  services?(namespace: string): Promise<Service[]>;
  /** Writes the pod's status (only called when it changed). */
  patchStatus(pod: Pod, status: PodStatus): Promise<void>;
  /** Records the host ports on the pod (annotation trireme.io/ports). */
  recordPorts(pod: Pod, ports: PortAssignment): Promise<void>;
  /** Removes the pod from the API once its containers are gone (grace 0, uid precondition). */
  deletePod(pod: Pod): Promise<void>;
  event(pod: Pod, type: 'Normal' | 'Warning', reason: string, message: string): void;
}
