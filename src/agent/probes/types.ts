// Shapes shared by the probers, the worker and the manager.
// Guarantees nothing by itself; see each module.

/** The outcome of one probe run, or the published result of a probe. */
export interface ProbeOutcome {
  success: boolean;
  /** Why, in words a user sees in an `Unhealthy` event ("HTTP probe failed with statuscode: 500"). */
  message: string;
}

/** What a probe needs to know about the container it probes; provided by the pod worker. */
export interface ProbeContext {
  /** Default host for httpGet/tcpSocket/grpc: the pod IP. */
  host: string;
  /** Resolves a port number or a named `containerPort` to the host port the process listens
   *  on; undefined when the name is unknown. */
  resolvePort(p: number | string): number | undefined;
  /** Runs a command with the container's environment and working directory, killing it after
   *  `timeoutMs` (see `runCommand`). */
  exec(command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
}

/** Runs one probe: resolves with the outcome (never rejects); stops early when `signal` aborts. */
export type Prober = (timeoutMs: number, signal: AbortSignal) => Promise<ProbeOutcome>;
