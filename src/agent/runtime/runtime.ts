// The container runtime seen by the pod workers. The `process` runtime (process-runtime.ts) is the
// default; a CRI runtime can implement the same interface later.
// Guarantees (for every implementation): a container instance is identified by (pod uid,
// container name, attempt); `start` never runs the same instance twice; `inspect` reports what
// happened even after an agent restart; `stop` leaves no process of the instance behind.

/** One instance of a container: attempt = the restart count it was started with. */
export interface ContainerRef {
  podUid: string;
  name: string;
  attempt: number;
}

export interface ContainerConfig extends ContainerRef {
  namespace: string;
  podName: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /** Where the instance's output goes (`<podDir>/logs/<container>/`). */
  logDir: string;
}

export type ContainerRunState = 'created' | 'running' | 'exited';

export interface ContainerInfo extends ContainerRef {
  /** Runtime-specific id; the status shows `<runtime>://<id>`. */
  id: string;
  state: ContainerRunState;
  pid?: number;
  startedAt?: number;
  finishedAt?: number;
  exitCode?: number;
  signal?: string;
  /** Completed, Error, StartError, ... */
  reason?: string;
  message?: string;
}

export interface Runtime {
  /** `process`, `cri`, ...: the scheme of container IDs. */
  readonly name: string;
  readonly version: string;
  /** Starts the instance (or returns it if it was already started). */
  start(cfg: ContainerConfig): Promise<ContainerInfo>;
  /** The instance's current state; undefined if it never existed. */
  inspect(ref: ContainerRef): Promise<ContainerInfo | undefined>;
  /** What the instance was started with (argv, env, cwd, logDir); undefined if never started. */
  config(ref: ContainerRef): Promise<Pick<ContainerConfig, 'argv' | 'env' | 'cwd' | 'logDir'> | undefined>;
  /** Every instance of every container of the pod, ordered by name then attempt. */
  listPod(podUid: string): Promise<ContainerInfo[]>;
  /** The pods the runtime holds anything for. */
  listPods(): Promise<string[]>;
  /** SIGTERM to the instance's process group, SIGKILL after `graceMs`; resolves once it is gone. */
  stop(ref: ContainerRef, graceMs: number): Promise<void>;
  /** Stops everything of the pod (SIGKILL) and forgets it. */
  removePod(podUid: string): Promise<void>;
  /** Called when an instance exits (as soon as the runtime notices). */
  onExit(listener: (info: ContainerInfo) => void): void;
  close(): void;
}
