// Container probes (liveness, readiness, startup) for the agent's pod workers.
//
//   new ProbeManager({ clock? })
//     .add(podUid, container, kind, probe: V1Probe, ctx: ProbeContext, onChange(result), opts?)
//     .remove(podUid, container?) / .stopAll()
//     .isReady(podUid, container) / .startupDone(podUid, container) / .isAlive(...) / .result(...)
//   runCommand(command, { env, cwd, timeoutMs }) — a ProbeContext.exec (and preStop) building block
//   probeTiming(probe, kind), probeTerminationGracePeriodSeconds(probe, podGrace)
//   httpProbe / tcpProbe / grpcProbe / execProbe / proberFor — single runs
export { ProbeManager, type ProbeAddOptions } from './manager.js';
export { ProbeWorker, type ProbeWorkerOptions } from './worker.js';
export { ProbeState, type RecordOutcome } from './state.js';
export { probeTiming, probeTerminationGracePeriodSeconds, type ProbeKind, type ProbeTiming } from './spec.js';
export type { ProbeContext, ProbeOutcome, Prober } from './types.js';
export { proberFor } from './prober.js';
export { httpProbe, httpUrl, type HttpProbeTarget } from './http.js';
export { tcpProbe } from './tcp.js';
export { grpcProbe, encodeHealthCheckRequest, decodeHealthCheckStatus } from './grpc.js';
export { runCommand, execProbe, commandEnv, killGroup, type RunCommandOptions, type RunCommandResult } from './exec.js';
