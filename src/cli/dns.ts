// `trireme dns`: the cluster DNS server (src/dns/), as a client of the API reached through a
// kubeconfig and the client-side balancer (it learns the other API servers from
// `default/kubernetes`, and remembers them in --servers-file when given). It lists and watches
// Services, Endpoints and Pods, and only then binds its listeners, so "it answers" means "it has
// the cluster's names". `trireme server` runs it as the kube-system add-on (src/dns/addon/).
// Bad flags are one line on stderr and exit 1. Stops on SIGTERM/SIGINT.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../client/api-client.js';
import { balancedConfig, ServerBalancer } from '../client/balancer.js';
import { loadKubeconfig, type ClientConfig } from '../client/config.js';
import { ClusterCache } from '../dns/cluster-cache.js';
import { startDnsServer, type RunningDnsServer } from '../dns/server.js';
import { ForwardingUpstream, parseResolvConf, parseUpstream, type HostPort } from '../dns/upstream.js';
import { parseListen } from '../lb/endpoints.js';
import type { ServiceRange } from '../api/service-range.js';
import { isTriremeError } from '../errors.js';
import { systemClock } from '../util/clock.js';
import { createLogger, type LogFormat } from '../util/log.js';
import { collect, dnsDomain, logFormatOption, serviceRange } from './options.js';
import { writeReadyFile } from './ready-file.js';
import { onShutdown } from './shutdown.js';

interface DnsFlags {
  kubeconfig: string;
  listen: HostPort;
  tcpListen?: HostPort;
  clusterDomain: string;
  ttl: number;
  upstream: string[];
  resolvConf: string;
  upstreamTimeout: number;
  serviceClusterIpRange?: ServiceRange;
  serversFile?: string;
  dataDir?: string;
  logFormat?: LogFormat;
}

function listen(v: string): HostPort {
  try {
    return parseListen(v);
  } catch (e) {
    if (isTriremeError(e)) throw new InvalidArgumentError(e.message);
    throw e;
  }
}

function intIn(name: string, lo: number, hi: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < lo || n > hi) throw new InvalidArgumentError(`${name} must be an integer in ${lo}..${hi}, not ${v}`);
    return n;
  };
}

/** The upstreams: --upstream if given, else resolv.conf's nameservers; never this server itself. */
function upstreams(flags: DnsFlags, self: HostPort[]): HostPort[] {
  let list: HostPort[];
  if (flags.upstream.length > 0) {
    list = flags.upstream.map((u) => {
      try {
        return parseUpstream(u);
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    });
  } else {
    let text = '';
    try {
      text = readFileSync(flags.resolvConf, 'utf8');
    } catch (e) {
      throw new InvalidArgumentError(`cannot read ${flags.resolvConf}: ${(e as Error).message} (give --upstream)`);
    }
    list = parseResolvConf(text);
  }
  return list.filter((u) => !self.some((s) => s.port === u.port && (s.host === u.host || s.host === '0.0.0.0')));
}

/** A start that cannot go ahead: one line on stderr, exit code 1. */
function fail(e: unknown): void {
  process.stderr.write(`trireme dns: ${(e as Error).message.split('\n')[0]}\n`);
  process.exitCode = 1;
}

export function registerDns(program: Command): void {
  // One line for bad input, not the whole help (the agent keeps a replica's stderr in its log).
  logFormatOption(program.command('dns').showHelpAfterError(false))
    .description('run the cluster DNS server: <svc>.<ns>.svc.<zone>, SRV, PTR, pod records; other names forwarded')
    .requiredOption('--kubeconfig <path>', 'kubeconfig of the API server to read Services, Endpoints and Pods from')
    .option('--listen <host:port>', 'UDP (and TCP) address to serve on; port 0: the OS chooses (see --data-dir)', listen, { host: '0.0.0.0', port: 53 })
    .option('--tcp-listen <host:port>', 'TCP address, when not the same as --listen (on the process runtime each containerPort has its own host port)', listen)
    .option('--cluster-domain <domain>', 'the cluster zone', dnsDomain, 'cluster.local')
    .option('--ttl <s>', 'TTL of answers, and the SOA minimum (negative caching)', intIn('--ttl', 0, 3600), 5)
    .option('--upstream <ip[:port]>', 'resolver for names outside the cluster (repeatable; default: resolv.conf nameservers)', collect, [])
    .option('--resolv-conf <path>', 'where the host\'s resolvers are listed', '/etc/resolv.conf')
    .option('--upstream-timeout <ms>', 'how long all upstreams together may take before SERVFAIL', intIn('--upstream-timeout', 100, 60_000), 2000)
    .option('--service-cluster-ip-range <cidr>', 'reverse names of unknown addresses in this range are NXDOMAIN, not forwarded', serviceRange)
    .option('--servers-file <path>', 'remember the API servers learned here (a restart works while the kubeconfig\'s server is down)')
    .option('--data-dir <dir>', 'write ready.json (pid, bound ports) here once serving')
    .action(async (flags: DnsFlags) => {
      const log = createLogger('dns', undefined, flags.logFormat);
      const self = [flags.listen, ...(flags.tcpListen ? [flags.tcpListen] : [])];
      let up: HostPort[];
      try {
        up = upstreams(flags, self);
      } catch (e) {
        return fail(e);
      }
      if (up.length === 0) log.warn({ resolvConf: flags.resolvConf }, 'no upstream resolvers: names outside the cluster get SERVFAIL');
      let balancer: ServerBalancer;
      let cfg: ClientConfig;
      try {
        cfg = { ...loadKubeconfig(flags.kubeconfig), userAgent: 'trireme-dns' };
        balancer = await ServerBalancer.open({ seed: cfg.server, identity: cfg, stateFile: flags.serversFile, logger: log });
      } catch (e) {
        return fail(e);
      }
      balancer.start();
      const client = new ApiClient(balancedConfig(cfg, balancer), { logger: log });
      const cache = new ClusterCache(client, log, systemClock.now());
      const stopClients = (): void => { cache.stop(); client.close(); balancer.stop(); };
      try {
        await cache.start();
      } catch (e) {
        stopClients();
        return fail(e);
      }
      const zone = { domain: flags.clusterDomain, ttl: flags.ttl, ...(flags.serviceClusterIpRange ? { serviceRange: flags.serviceClusterIpRange } : {}) };
      let server: RunningDnsServer;
      try {
        server = await startDnsServer({
          udp: flags.listen, ...(flags.tcpListen ? { tcp: flags.tcpListen } : {}), logger: log,
          responder: { snapshot: () => cache.snapshot(), zone, upstream: new ForwardingUpstream(up, flags.upstreamTimeout, log) },
        });
      } catch (e) {
        stopClients();
        return fail(e); // e.g. EADDRINUSE, or EACCES for port 53 without the privilege
      }
      onShutdown(log, async () => { await server.close(); stopClients(); });
      const tcpHost = flags.tcpListen?.host ?? flags.listen.host;
      if (flags.dataDir) {
        writeReadyFile(flags.dataDir, { pid: process.pid, dns: { udp: { host: flags.listen.host, port: server.udpPort }, tcp: { host: tcpHost, port: server.tcpPort } } });
      }
      log.info({ udp: `${flags.listen.host}:${server.udpPort}`, tcp: `${tcpHost}:${server.tcpPort}`, zone: zone.domain, upstreams: up.map((u) => `${u.host}:${u.port}`) }, 'serving DNS');
      process.stdout.write(`Trireme DNS for ${zone.domain} on udp ${flags.listen.host}:${server.udpPort} tcp ${tcpHost}:${server.tcpPort}\n`);
    });
}
