// `trireme lb`: the standalone TCP balancer for kubectl and users (src/lb/tcp-balancer.ts), and
// the printers of equivalent HAProxy and keepalived configurations, from the same flags:
//   trireme lb --listen HOST:PORT --server URL [--server URL ...] [--data-dir DIR]
//   trireme lb --print-haproxy --listen HOST:PORT --server URL ...
//   trireme lb --print-keepalived --vip CIDR --interface IF --priority N [--router-id N] [--peer IP ...]
//   trireme lb --check URL        (exit 0 when URL/readyz answers 200: keepalived's vrrp_script)
// Bad input is one line on stderr and exit 1, printing nothing else. This file imports only the
// balancer's modules, so `bin/trireme lb …` starts fast (lb-main.ts).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { isTriremeError } from '../errors.js';
import { parseInterface, parseIntIn, parseIpv4, parseIpv4Cidr, parseListen, parseServerUrls, type Cidr, type HostPort } from '../lb/endpoints.js';
import { haproxyConfig } from '../lb/haproxy-config.js';
import { keepalivedConfig } from '../lb/keepalived-config.js';
import { checkReadyz } from '../lb/readyz-check.js';
import { startTcpBalancer } from '../lb/tcp-balancer.js';
import { createLogger, type LogFormat } from '../util/log.js';
import { collect, logFormatOption } from './options.js';
import { writeReadyFile } from './ready-file.js';
import { onShutdown } from './shutdown.js';

interface LbFlags {
  listen?: HostPort;
  server: string[];
  ca?: string;
  dataDir?: string;
  rise: number;
  fall: number;
  checkInterval: number;
  printHaproxy?: boolean;
  printKeepalived?: boolean;
  vip?: Cidr;
  interface?: string;
  priority?: number;
  routerId: number;
  peer: string[];
  checkUrl: string;
  check?: string;
  logFormat?: LogFormat;
}

/** Turns a parser's TriremeError into commander's one-line "invalid argument". */
function arg<T>(parse: (v: string) => T): (v: string) => T {
  return (v) => {
    try {
      return parse(v);
    } catch (e) {
      if (isTriremeError(e)) throw new InvalidArgumentError(e.message);
      throw e;
    }
  };
}

/** How keepalived runs this same trireme: node's absolute path and this script's (no PATH lookup). */
function selfCommand(): string[] {
  return [process.execPath, resolve(process.argv[1] ?? 'trireme')];
}

export function registerLb(program: Command): void {
  // One line for bad input, not the whole help (keepalived logs and scripts read stderr).
  const cmd = logFormatOption(program.command('lb').showHelpAfterError(false))
    .description('TCP load balancer in front of API servers with /readyz health checks; or print HAProxy/keepalived configs')
    .option('--listen <host:port>', 'address the balancer listens on (port 0: the OS chooses; see the ready file)', arg(parseListen))
    .option('--server <url>', 'an API server https://HOST:PORT (repeatable)', collect, [])
    .option('--ca <file>', 'verify the servers\' certificates in health checks against this CA (default: not verified)')
    .option('--data-dir <dir>', 'write ready.json (pid, bound address) here once the first checks are done')
    .option('--rise <n>', 'good checks that bring a server back', arg((v) => parseIntIn(v, '--rise', 1, 100)), 2)
    .option('--fall <n>', 'failed checks that take a server out', arg((v) => parseIntIn(v, '--fall', 1, 100)), 2)
    .option('--check-interval <ms>', 'pause between two checks of one server', arg((v) => parseIntIn(v, '--check-interval', 100, 60_000)), 1000)
    .option('--print-haproxy', 'print an HAProxy configuration for --listen and --server, and exit')
    .option('--print-keepalived', 'print a keepalived configuration for --vip, and exit')
    .option('--vip <cidr>', 'virtual IP with prefix length, e.g. 10.0.0.100/24', arg((v) => parseIpv4Cidr(v)))
    .option('--interface <name>', 'network interface that carries the VIP', arg(parseInterface))
    .option('--priority <n>', 'VRRP priority 1..254; the highest holds the VIP', arg((v) => parseIntIn(v, '--priority', 1, 254)))
    .option('--router-id <n>', 'VRRP virtual_router_id 1..255, the same on every machine', arg((v) => parseIntIn(v, '--router-id', 1, 255)), 51)
    .option('--peer <ip>', 'another keepalived machine, for unicast VRRP (repeatable)', (v: string, prev: string[]) => [...prev, arg((x) => parseIpv4(x, '--peer'))(v)], [] as string[])
    .option('--check-url <url>', 'what keepalived\'s check asks for /readyz', 'https://127.0.0.1:6443')
    .option('--check <url>', 'check URL/readyz once: exit 0 when it answers 200, 1 otherwise (with the reason on stderr)');

  cmd.action(async (flags: LbFlags) => {
    const fail = (msg: string): never => cmd.error(`error: ${msg}`, { exitCode: 1 });
    const caPem = flags.ca === undefined ? undefined : readCa(flags.ca, fail);
    const modes = [flags.printHaproxy, flags.printKeepalived, flags.check !== undefined].filter(Boolean).length;
    if (modes > 1) fail('--print-haproxy, --print-keepalived and --check exclude each other');

    if (flags.check !== undefined) {
      const reason = await checkReadyz(flags.check, { timeoutMs: 2000, ...(caPem !== undefined ? { caPem } : {}) });
      if (reason !== undefined) {
        process.stderr.write(`${flags.check}: ${reason}\n`);
        process.exitCode = 1;
      }
      return;
    }

    if (flags.printKeepalived) {
      if (flags.vip === undefined) fail('--print-keepalived needs --vip CIDR');
      if (flags.interface === undefined) fail('--print-keepalived needs --interface NAME');
      if (flags.priority === undefined) fail('--print-keepalived needs --priority N');
      let checkUrl: string;
      try {
        checkUrl = parseServerUrls([flags.checkUrl])[0]!.url;
      } catch (e) {
        return fail(`--check-url: ${(e as Error).message.replace(/^--server: /, '')}`);
      }
      const checkCommand = [...selfCommand(), 'lb', '--check', checkUrl, ...(flags.ca !== undefined ? ['--ca', resolve(flags.ca)] : [])];
      try {
        process.stdout.write(keepalivedConfig({
          vip: flags.vip!, interface: flags.interface!, priority: flags.priority!, routerId: flags.routerId, peers: flags.peer,
          checkCommand, generatedBy: 'trireme lb --print-keepalived',
        }));
      } catch (e) {
        fail((e as Error).message);
      }
      return;
    }

    if (flags.listen === undefined) fail('--listen HOST:PORT is needed');
    let backends;
    try {
      backends = parseServerUrls(flags.server);
    } catch (e) {
      return fail((e as Error).message);
    }
    if (flags.printHaproxy) {
      process.stdout.write(haproxyConfig({ listen: flags.listen!, backends, generatedBy: 'trireme lb --print-haproxy' }));
      return;
    }

    const log = createLogger('lb', undefined, flags.logFormat);
    const lb = await startTcpBalancer({
      listen: flags.listen!, backends, logger: log, thresholds: { rise: flags.rise, fall: flags.fall }, checkIntervalMs: flags.checkInterval,
      check: (b) => checkReadyz(b.url, { timeoutMs: Math.min(2000, Math.max(500, flags.checkInterval)), ...(caPem !== undefined ? { caPem } : {}) }),
    });
    onShutdown(log, () => lb.stop());
    await lb.firstChecks(5000);
    log.info({ listen: `${lb.host}:${lb.port}`, backends: lb.stats() }, 'balancer ready');
    if (flags.dataDir !== undefined) writeReadyFile(resolve(flags.dataDir), { pid: process.pid, lb: { host: lb.host, port: lb.port } });
    process.stdout.write(`Trireme balancer at ${lb.host}:${lb.port} for ${backends.map((b) => b.url).join(' ')}\n`);
  });
}

function readCa(file: string, fail: (msg: string) => never): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    return fail(`--ca: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
