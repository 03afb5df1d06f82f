// End-to-end harness: real `trireme server` / `trireme agent` processes on loopback addresses,
// the real `kubectl` binaries against them, and cleanup of everything they start. This file is a
// façade: the helpers live in ./harness/, one job each, and test files import them from here.
//
//   paths.ts       repository, fixtures, the CLI entry, the run id
//   tracking.ts    every process started dies with the test process (`killAll()`)
//   wait.ts        `waitFor` / `sleep` (over src/util/poll.ts pollUntil)
//   raw-http.ts    raw HTTPS with a kubeconfig's admin credentials (src/client/config.ts reads it)
//   kubectl.ts     kubectl runs and long-running kubectl streams
//   server.ts      `startServer` (through src/launch/cli-process.ts, shared with the benchmarks)
//   node-flags.ts  agent flags and per-address container port ranges
//   agent.ts       `startAgent`, `waitNodeReady`
//   containers.ts  the agents' container processes seen from state files and /proc
//   workloads.ts   listing pods, readiness, deleting workloads
//   services.ts    the proxy suites' backends, GETs, UDP questions, Services and Endpoints
//                  (imported from ./harness/services.js directly)
//
// Servers and agents bind port 0 and report the ports they bound in their ready file
// (src/cli/ready-file.ts), so there is no free-port race.
export { repoRoot, fixture, runId, fixtureText, cliMain } from './harness/paths.js';
export { killAll } from './harness/tracking.js';
export { sleep, waitFor } from './harness/wait.js';
export { freePort } from '../../src/util/free-port.js';
export { readCredentials, rawRequest, type Credentials, type RawRequest, type RawResponse } from './harness/raw-http.js';
export {
  KUBECTL, kubectlVersioned, runKubectl, spawnKubectl, show, sedEditor, type KubectlOptions, type KubectlResult, type KubectlStream,
} from './harness/kubectl.js';
export { startServer, probeReady, type ExitInfo, type ServerHandle, type StartOptions } from './harness/server.js';
export { portRangeFor, type AgentFlags } from './harness/node-flags.js';
export { startAgent, waitNodeReady, type AgentHandle, type AgentOptions } from './harness/agent.js';
export {
  containerInstances, killContainers, processes, processesInGroups, processesWith, type ContainerInstance,
} from './harness/containers.js';
export { deleteWorkloads, listPods, podReady } from './harness/workloads.js';
