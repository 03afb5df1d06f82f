// One `kubectl exec` session over an accepted websocket.
// Guarantees: the command runs with the container's environment and working directory, in its
// own process group; stdin frames reach its stdin (EOF on a v5 close frame for channel 0, or when
// the client goes away); stdout/stderr go to channels 1/2 in order; when the process has exited
// and its output is sent, channel 3 carries the final Status (Success, or NonZeroExitCode with
// the exit code; 128+n for a signal) and the socket closes normally. If the client disconnects
// first, the process group gets SIGTERM and, 2 s later, SIGKILL — an exec leaves nothing behind.
// tty: there is no pseudo-terminal in the process runtime; stderr is merged into stdout (as a
// terminal would show it) and resize messages are accepted and ignored.
// Does not: allocate a pty, so programs that need one (full-screen editors) will not behave.
import { spawn } from 'node:child_process';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { commandEnv, killGroup } from '../probes/exec.js';
import type { ContainerContext } from '../runtime/context.js';
import { ERROR, STDERR, STDIN, STDOUT, decodeClientMessage, frame, type ChannelProtocol } from './channel.js';
import type { ExecRequest } from './routes.js';
import { exitStatus, failure, type Status } from './status.js';

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGALRM: 14, SIGTERM: 15 };
/** Pause the process's output while this much is queued on the socket. */
const HIGH_WATER = 4 * 1024 * 1024;
const KILL_GRACE_MS = 2000;

export function runExecSession(ws: WebSocket, protocol: ChannelProtocol, ctx: ContainerContext, req: ExecRequest, logger: Logger): void {
  const [file, ...args] = req.command;
  const child = spawn(file!, args, {
    env: commandEnv(ctx.env),
    cwd: ctx.cwd,
    detached: true,
    stdio: [req.stdin ? 'pipe' : 'ignore', req.stdout ? 'pipe' : 'ignore', req.stderr || (req.tty && req.stdout) ? 'pipe' : 'ignore'],
  });
  let finished = false;
  const log = logger.child({ pod: `${ctx.namespace}/${ctx.podName}`, container: ctx.container, command: req.command, pid: child.pid });
  log.debug('exec started');

  const finish = (status: Status): void => {
    if (finished) return;
    finished = true;
    if (ws.readyState === ws.OPEN) {
      ws.send(frame(ERROR, JSON.stringify(status)));
      ws.close(1000);
    }
    log.debug({ status: status.status, reason: status.reason }, 'exec finished');
  };

  const forward = (stream: NodeJS.ReadableStream | null, channel: number): void => {
    if (!stream) return;
    stream.on('data', (chunk: Buffer) => {
      if (ws.readyState !== ws.OPEN) return;
      ws.send(frame(channel, chunk), () => {
        if (ws.bufferedAmount < HIGH_WATER) stream.resume();
      });
      if (ws.bufferedAmount >= HIGH_WATER) stream.pause();
    });
  };
  forward(child.stdout, STDOUT);
  forward(child.stderr, req.tty ? STDOUT : STDERR);

  child.stdin?.on('error', (e) => log.debug({ err: e.message }, 'exec stdin closed early'));

  child.on('error', (e: NodeJS.ErrnoException) => {
    const what = e.code === 'ENOENT' ? `exec: "${file}": executable file not found in $PATH` : `exec: "${file}": ${e.message}`;
    finish(failure(500, 'InternalError', `Internal error occurred: error executing command in container: ${what}`));
  });
  child.on('close', (code, signal) => {
    if (child.pid === undefined) return; // spawn failed: 'error' answered
    const exitCode = code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 0) : 1);
    finish(exitStatus(req.command, exitCode));
  });

  ws.on('message', (raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) => {
    const msg = Buffer.isBuffer(raw) ? raw : Array.isArray(raw) ? Buffer.concat(raw) : Buffer.from(raw);
    if (!isBinary && msg.length === 0) return;
    const m = decodeClientMessage(msg, protocol);
    if (m.kind === 'stdin') {
      if (child.stdin && !child.stdin.writableEnded && m.data.length > 0) child.stdin.write(m.data);
    } else if (m.kind === 'close') {
      if (m.channel === STDIN) child.stdin?.end();
    } else if (m.kind === 'resize') {
      log.debug({ width: m.width, height: m.height }, 'resize ignored (no pty)');
    }
  });

  ws.on('close', () => {
    child.stdin?.end();
    if (finished || child.exitCode !== null || child.signalCode !== null) return;
    // The client went away while the command runs: stop it and anything it started.
    finished = true;
    log.debug('exec client disconnected; stopping the command');
    killGroup(child.pid, 'SIGTERM');
    const t = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    child.once('close', () => clearTimeout(t));
  });
  ws.on('error', (e) => log.debug({ err: e.message }, 'exec websocket error'));
}
