/**
 * The container context lookup shared by the pod manager (which owns the
 * truth about running containers) and the kubelet API server (logs, exec).
 *
 * Guarantees: a lookup answers from the pod manager's in-memory view, without
 * I/O; `env` and `cwd` are exactly what the container process was (or will be)
 * started with, so exec sessions see the same environment.
 * Does not guarantee: that the container is still running by the time the
 * caller acts on the answer (`running` is a snapshot).
 */

/** What the kubelet API needs to know about one container of one pod. */
export interface ContainerContext {
  podUid: string;
  namespace: string;
  podName: string;
  container: string;
  /** The container's full environment (as given to its process). */
  env: Record<string, string>;
  /** The container's working directory. */
  cwd: string;
  /** `<dataDir>/agent/pods/<uid>/logs/<container>/` (current.log, previous.log, ...). */
  logDir: string;
  /** Whether an instance of the container is running right now. */
  running: boolean;
}

/** Finds a container by namespace, pod name and container name; undefined if unknown. */
export type ContainerLookup = (namespace: string, pod: string, container: string) => ContainerContext | undefined;
