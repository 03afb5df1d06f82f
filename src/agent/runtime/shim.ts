// The per-container shim (conmon-style): `node shim.js <container-dir>`.
// Started detached (own session) by the process runtime, it
//   1. reads spec.json (argv, env, cwd, logDir),
//   2. spawns the container process in its own process group,
//   3. pipes its stdout/stderr into the container's log (src/agent/logs/writer.ts),
//   4. writes state.json ({shimPid, pid, pgid, startedAt, procStart, shimStart, bootId}) once the
//      process runs: the /proc start times of both pids and the boot id, so that a later agent
//      never mistakes a recycled pid for them (proc-identity.ts),
//   5. writes exit.json ({exitCode, signal, finishedAt, reason}) when it ends, then exits.
// Guarantees: the shim outlives the agent, so an agent restart neither kills nor duplicates the
// container; a start failure (e.g. command not found) still yields exit.json (reason StartError,
// exit code 128) and no state.json. Does not restart anything: that is the agent's decision.
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { systemClock, type Clock } from '../../util/clock.js';
import { procStartTime, readBootId } from './proc-identity.js';
import { EXIT, SPEC, STATE, isSpecFile, readJsonSync, writeJsonSync, type ExitFile, type SpecFile, type StateFile } from './state-files.js';
import { ContainerLogWriter } from '../logs/writer.js';

function main(dir: string, clock: Clock): void {
  let spec: SpecFile | undefined;
  let problem = 'no spec.json in the container directory';
  try {
    spec = readJsonSync(path.join(dir, SPEC), isSpecFile);
  } catch (e) {
    problem = (e as Error).message;
  }
  if (!spec || spec.argv.length === 0) {
    writeJsonSync(path.join(dir, EXIT), { exitCode: 128, signal: null, finishedAt: clock.now(), reason: 'StartError', message: spec ? 'spec.json has an empty argv' : problem } satisfies ExitFile);
    return;
  }
  const log = new ContainerLogWriter(spec.logDir);
  const [cmd, ...args] = spec.argv as [string, ...string[]];
  const child = spawn(cmd, args, { cwd: spec.cwd, env: spec.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let done = false;
  const finish = (exit: ExitFile): void => {
    if (done) return;
    done = true;
    let written = false;
    // Give the pipes a moment to drain (a grandchild may hold them open: do not wait forever).
    const timer = setTimeout(write, 1000);
    let open = 2;
    const onEnd = (): void => {
      if (--open === 0) write();
    };
    child.stdout.once('close', onEnd);
    child.stderr.once('close', onEnd);
    if (child.stdout.destroyed) onEnd();
    if (child.stderr.destroyed) onEnd();
    function write(): void {
      if (written) return;
      written = true;
      clearTimeout(timer);
      try {
        log.close();
      } finally {
        writeJsonSync(path.join(dir, EXIT), exit);
        process.exit(0);
      }
    }
  };
  child.stdout.on('data', (b: Buffer) => log.write('stdout', b));
  child.stderr.on('data', (b: Buffer) => log.write('stderr', b));
  child.once('spawn', () => {
    const pid = child.pid as number;
    const state: StateFile = {
      shimPid: process.pid, pid, pgid: pid, startedAt: clock.now(),
      procStart: procStartTime(pid), shimStart: procStartTime(process.pid), bootId: readBootId(),
    };
    writeJsonSync(path.join(dir, STATE), state);
  });
  child.once('error', (err) => {
    // Spawn failures (ENOENT, EACCES on cmd or cwd) arrive here without an exit event.
    if (child.pid === undefined) finish({ exitCode: 128, signal: null, finishedAt: clock.now(), reason: 'StartError', message: err.message });
  });
  child.once('exit', (code, signal) => {
    const exitCode = code ?? 128 + (signal ? (osSignal(signal) ?? 0) : 0);
    finish({ exitCode, signal, finishedAt: clock.now(), reason: exitCode === 0 ? 'Completed' : 'Error' });
  });
}

/** The host's number for a signal, so a killed process reports 128+n as shells do. */
function osSignal(name: NodeJS.Signals): number | undefined {
  return os.constants.signals[name];
}

const dir = process.argv[2];
if (dir) main(dir, systemClock);
