// `trireme server`: the control plane on this machine — the API server on the embedded store,
// the controller manager and the scheduler in-process, and a local node agent unless
// --disable-agent. Each in-process component talks to the API over HTTPS with its own identity,
// through one client-side balancer over every live server, this one first.
// Unless --disable-dns, it keeps the cluster DNS add-on deployed (src/dns/addon/, docs/dns.md).
// The controller manager and the scheduler run only while this server holds their Leases in
// kube-system (always); on losing one, the component stops and campaigns again. Their holder
// identities start with the node name; their leader metrics are on the API server's /metrics.
// `trireme apiserver` runs the API server alone (DESIGN.md §2: each component can run alone).
// The store follows from the flags and the data dir (src/cluster/server-mode.ts): SQLite, an
// external etcd (--etcd-endpoints), or a managed etcd member (--cluster-init, --server + --token,
// a restart of DATA/etcd with no flags, --cluster-reset; src/cluster/managed-store.ts). A start
// that cannot go ahead (contradicting flags, a refused join, a removed member) prints one line
// on stderr and exits 1; so does a member the cluster removes while the server runs.
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { hostname } from 'node:os';
import { InvalidArgumentError, type Command } from 'commander';
import type { AlertRule } from '../ops/alerts/rules.js';
import { startApiServer, type RunningApiServer } from '../apiserver/server.js';
import { COMPONENT_USERS } from '../apiserver/rbac/defaults.js';
import { issueNodeCredentials } from '../apiserver/node-credentials.js';
import { startAgent } from '../agent/agent.js';
import { ApiClient } from '../client/api-client.js';
import type { ClientConfig } from '../client/config.js';
import { balancedConfig, localFirstBalancer, type ServerBalancer } from '../client/balancer.js';
import { startControllerManager } from '../controllers/manager.js';
import { openStore, SQLITE_FILE } from '../storage/open.js';
import type { Store } from '../storage/store.js';
import type { SqliteStore } from '../storage/sqlite.js';
import { systemClock } from '../util/clock.js';
import { defaultSnapshotName, takeSnapshot, type SnapshotSource } from '../ops/snapshot/capture.js';
import { etcdClient } from '../ops/snapshot/etcd-file.js';
import { SnapshotMetrics } from '../ops/snapshot/metrics.js';
import { SnapshotRecords } from '../ops/snapshot/records.js';
import { prepareRestore, readServerSecrets, snapshotStoreKind, type PreparedRestore } from '../ops/snapshot/restore.js';
import { DEFAULT_REVISION_BUMP } from '../ops/snapshot/restore-revision.js';
import { DEFAULT_SNAPSHOT_RETENTION, DEFAULT_SNAPSHOT_SCHEDULE, parseSchedule } from '../ops/snapshot/schedule.js';
import { SnapshotService } from '../ops/snapshot/service.js';
import type { StoreMembership } from '../apiserver/cluster-routes.js';
import type { StoreBackend } from '../api/cluster-status.js';
import { caFingerprint } from '../apiserver/pki.js';
import { etcdPaths } from '../etcd/index.js';
import { planServerStart, type DataDirState, type ServerPlan } from '../cluster/server-mode.js';
import { startManagedStore, type ManagedStore } from '../cluster/managed-store.js';
import { isTriremeError, TriremeError } from '../errors.js';
import type { Logger } from '../util/log.js';
import { createLogger, type LogFormat } from '../util/log.js';
import { leaderElectionOptions, runWhileLeading, timingsFromFlags, type LeaderElectionFlags } from './leading.js';
import { LeaderMetrics } from '../client/leader-metrics.js';
import { fenceOptions, fenceTimingsFromFlags, type FenceFlags } from './fence-flags.js';
import { NodeLifecycleMetrics } from '../controllers/nodelifecycle/metrics.js';
import { WorkQueueMetrics } from '../client/workqueue-metrics.js';
import { SchedulerMetrics } from '../scheduler/metrics.js';
import { agentTimingsFromFlags, nodeConditionOptions, nodeConditionsFromFlags, type NodeConditionFlags } from './node-flags.js';
import { nodeLifecycleFromFlags, nodeLifecycleOptions, tolerationOptions, tolerationsFromFlags, type NodeLifecycleFlags, type TolerationFlags } from './node-lifecycle-flags.js';
import { collect, dnsDomain, ipAddress, logFormatOption, port, portRange, serviceRange, urlList } from './options.js';
import { DEFAULT_NODE_PORT_RANGE, DEFAULT_SERVICE_CIDR, parseServiceRange, type ServiceRange } from '../api/service-range.js';
import { writeReadyFile } from './ready-file.js';
import { startScheduler } from '../scheduler/start.js';
import { startDnsAddon } from '../dns/addon/start.js';
import { onShutdown } from './shutdown.js';
import { KnownServers, loadRules, SHIPPED_RULES, startServerAlerting } from '../ops/alerts/start.js';
import { RulesError } from '../ops/alerts/rules.js';
import { proxyModeOption, proxySettingsFromFlags, type ProxyFlags } from './proxy-flags.js';
import { flowLimitsFromFlags, flowOptions, type FlowFlags } from './flow-flags.js';
import { auditFromFlags, auditOptions, type AuditFlags } from './audit-flags.js';

interface ServerFlags extends Partial<LeaderElectionFlags>, Partial<NodeConditionFlags>, Partial<NodeLifecycleFlags>, Partial<TolerationFlags>, Partial<FlowFlags>, FenceFlags, ProxyFlags, AuditFlags {
  logFormat?: LogFormat;
  dataDir: string;
  bindAddress: string;
  httpsPort: number;
  tlsSan: string[];
  disableAgent?: boolean;
  nodeName?: string;
  nodeIp?: string;
  kubeletPort: number;
  portRange: [number, number];
  etcdEndpoints?: string[];
  etcdPrefix: string;
  clusterInit?: boolean;
  server?: string;
  token?: string;
  clusterReset?: boolean;
  etcdClientPort?: number;
  etcdPeerPort?: number;
  serviceClusterIpRange: ServiceRange;
  serviceNodePortRange: [number, number];
  disableDns?: boolean;
  clusterDomain: string;
  restoreFrom?: string;
  restoreRevisionBump: number;
  snapshotSchedule: string;
  snapshotRetention: number;
  snapshotDir?: string;
  alertWebhook?: string;
  alertRules: string;
  alertInterval: number;
}

export function registerServer(program: Command): void {
  apiServerOptions(program.command('apiserver').description('run the API server alone (embedded SQLite store, or --etcd-endpoints)'))
    .action(async (flags: ServerFlags) => {
      const log = createLogger('server', undefined, flags.logFormat);
      const started = await refusedAsOneLine('apiserver', () => startApi(flags, log));
      if (!started) process.exit(1); // as `trireme server`: nothing half-started keeps the process
      const { api, managed, snapshotSource } = started;
      onShutdown(log, async () => { await api.stop(); snapshotSource.close(); await managed?.stop(); });
      printReady(flags, api, undefined, managed);
    });

  proxyModeOption(fenceOptions(nodeLifecycleOptions(nodeConditionOptions(leaderElectionOptions(apiServerOptions(program.command('server').description('run a control-plane server (API server, controllers, scheduler) and a local agent')))))))
    .option('--disable-agent', 'do not run a node agent in this process')
    .option('--disable-proxy', 'the local agent runs no Service proxy (ClusterIP and NodePort listeners)')
    .option('--disable-dns', 'do not deploy the cluster DNS add-on (kube-system/coredns behind kube-system/kube-dns)')
    .option('--cluster-domain <domain>', 'the cluster DNS zone', dnsDomain, 'cluster.local')
    .option('--node-name <name>', 'node name of the local agent (default: host name)')
    .option('--kubelet-port <port>', 'port of the local agent API (logs, exec)', port, 10250)
    .option('--port-range <from-to>', 'host ports handed to containers', portRange, [40000, 49999] as [number, number])
    .option('--cluster-init', 'start a new HA cluster: this server runs the first member of a managed etcd')
    .option('--server <url>', 'join the HA cluster of this server (https://HOST:6443); needs --token')
    .option('--token <token>', 'join token of the cluster (the first server\'s DATA_DIR/token)')
    .option('--cluster-reset', 'make this server\'s etcd member a one-member cluster from its own data (after losing the majority for good)')
    .option('--restore-from <file>', 'with --cluster-reset: reset the cluster to this snapshot file (trireme snapshot save); the other servers rejoin')
    .option('--restore-revision-bump <n>', 'least number of revisions a restore skips past the snapshot\'s (and past the replaced store\'s); the jump also covers the writes the lost cluster can have made since the snapshot was taken', positiveInt, DEFAULT_REVISION_BUMP)
    .option('--snapshot-schedule <cron>', 'when this server snapshots its store (cron, UTC); "off" for never', scheduleOption, DEFAULT_SNAPSHOT_SCHEDULE)
    .option('--snapshot-retention <n>', 'snapshots this server keeps (older ones are pruned after each save)', positiveInt, DEFAULT_SNAPSHOT_RETENTION)
    .option('--snapshot-dir <dir>', 'where this server keeps its snapshots (default: DATA_DIR/snapshots)')
    .option('--etcd-client-port <port>', 'client port of the managed etcd member (on the node IP)', port, 2379)
    .option('--etcd-peer-port <port>', 'peer port of the managed etcd member (on the node IP)', port, 2380)
    .option('--alert-webhook <url>', 'evaluate the alert rules here (on the controller-manager leader) and POST Alertmanager-style JSON to this URL')
    .option('--alert-rules <file>', 'the alert rules file the built-in evaluator reads', SHIPPED_RULES)
    .option('--alert-interval <s>', 'seconds between two evaluations (and scrapes) of the built-in evaluator', positiveSeconds, 15)
    .action(async (flags: ServerFlags) => {
      const log = createLogger('server', undefined, flags.logFormat);
      const dataDir = resolve(flags.dataDir);
      const advertise = advertiseAddress(flags);
      const timings = timingsFromFlags(flags as LeaderElectionFlags);
      // Read before anything starts: a rules file the evaluator cannot use is a refused start.
      const alertRules = flags.alertWebhook ? await refusedAsOneLine('server', () => loadAlertRules(flags.alertRules)) : undefined;
      if (flags.alertWebhook && !alertRules) return;
      const nodeName = (flags.nodeName ?? hostname()).toLowerCase();
      const proxy = flags.disableAgent ? { proxy: false as const } : await proxySettingsFromFlags(flags);
      if ('error' in proxy) {
        process.stderr.write(`trireme server: ${proxy.error}\n`);
        process.exitCode = 1;
        return;
      }
      const started = await refusedAsOneLine('server', () => startApi(flags, log));
      // A start that failed half-way (after its store client, watch caches or listener came up)
      // must not leave the process running without serving: its managed etcd is already stopped.
      if (!started) process.exit(1);
      const { api, managed, snapshotSource } = started;
      const leaderMetrics = new LeaderMetrics(api.metrics.registry);
      // Once per process: the controller manager starts anew with each leadership term.
      const nodeLifecycle = { ...nodeLifecycleFromFlags(flags), metrics: new NodeLifecycleMetrics(api.metrics.registry) };
      const queueMetrics = new WorkQueueMetrics(api.metrics.registry);
      const schedulerMetrics = new SchedulerMetrics(api.metrics.registry);
      const stops: (() => Promise<void>)[] = [];
      let kubelet: { host: string; port: number } | undefined;
      const stopAll = async (): Promise<void> => {
        for (const stop of stops.reverse()) await stop();
        await api.stop();
        await managed?.stop();
      };
      onShutdown(log, stopAll);
      const snapshots = new SnapshotService({
        source: snapshotSource.source, dir: snapshotDirOf(flags), retention: flags.snapshotRetention, server: nodeName,
        secrets: () => ({ 'tls/ca.crt': api.pki.caCertPem, 'tls/ca.key': api.pki.caKeyPem, 'encryption/keys.json': api.encryptionKeyFile(), ...tokenSecret(dataDir) }),
        metrics: new SnapshotMetrics(api.metrics.registry, nodeName), records: new SnapshotRecords(api.registry), clock: systemClock,
        logger: createLogger('snapshot', undefined, flags.logFormat),
      });
      api.snapshots.setOps({ list: () => snapshots.list(), save: (name) => snapshots.save(name), prune: () => snapshots.prune() });
      if (flags.snapshotSchedule !== 'off') snapshots.startSchedule(flags.snapshotSchedule);
      await snapshots.seedMetrics().catch((err: unknown) => log.warn({ err }, 'reading the snapshot dir for the snapshot metrics failed'));
      stops.push(async () => { api.snapshots.setOps(undefined); await snapshots.stop(); snapshotSource.close(); });
      // A member the cluster removed while this server ran: nothing it serves can be trusted now.
      void managed?.member.done.then((failure) => {
        if (failure === undefined) return;
        process.stderr.write(`trireme server: ${failure.message}\n`);
        stopAll().finally(() => process.exit(1));
      });

      // Every in-process client balances over all servers, this one first (src/client/balancer.ts):
      // a server whose own API is unhealthy still reaches the others.
      const balancer = await localFirstBalancer({
        localServer: api.url, identity: await identity(api, COMPONENT_USERS.balancer, 'trireme-balancer'),
        stateFile: join(dataDir, 'servers.json'), logger: createLogger('balancer', undefined, flags.logFormat),
      });
      balancer.start();
      stops.push(async () => balancer.stop());

      const cmLog = createLogger('controller-manager', undefined, flags.logFormat);
      const cmConfig = await identity(api, COMPONENT_USERS.controllerManager, 'trireme-controller-manager', balancer);
      const alerting = alertRules && flags.alertWebhook ? {
        rules: alertRules, webhook: flags.alertWebhook, intervalMs: flags.alertInterval * 1000, selfUrl: api.url, selfMetrics: api.metrics.registry,
        known: new KnownServers(api.registry, api.url, cmLog), identity: await alertIdentity(api),
        logger: createLogger('alerts', undefined, flags.logFormat),
      } : undefined;
      if (alerting) {
        const stopKnown = alerting.known.start(alerting.intervalMs);
        stops.push(async () => stopKnown());
      }
      stops.push(runWhileLeading({
        leaseName: 'kube-controller-manager', clientConfig: cmConfig, logger: cmLog, timings, onLost: 'campaign', nodeName, metrics: leaderMetrics,
        start: async (fence) => {
          const controllerClient = new ApiClient(cmConfig, { logger: cmLog });
          controllerClient.setFence(fence);
          const cm = await startControllerManager(controllerClient, { logger: cmLog, nodeLifecycle, queueMetrics });
          // One evaluator per cluster: the one on the controller-manager leader.
          const alerts = alerting ? startServerAlerting(alerting) : undefined;
          return { stop: async () => { await alerts?.stop(); await cm.stop(); controllerClient.close(); } };
        },
      }).stop);

      const schedLog = createLogger('scheduler', undefined, flags.logFormat);
      const schedConfig = await identity(api, COMPONENT_USERS.scheduler, 'trireme-scheduler', balancer);
      stops.push(runWhileLeading({
        leaseName: 'kube-scheduler', clientConfig: schedConfig, logger: schedLog, timings, onLost: 'campaign', nodeName, metrics: leaderMetrics,
        start: (fence) => startScheduler(schedConfig, schedLog, { fence, metrics: schedulerMetrics }),
      }).stop);

      if (!flags.disableDns) {
        // Every server runs it; its writes are safe to race (src/dns/addon/reconciler.ts).
        const addon = startDnsAddon({
          clientConfig: await identity(api, COMPONENT_USERS.dnsAddon, 'trireme-addons', balancer), serverUrl: api.url, pki: api.pki,
          serviceRange: flags.serviceClusterIpRange, clusterDomain: flags.clusterDomain, logger: createLogger('dns-addon', undefined, flags.logFormat),
        });
        stops.push(addon.stop);
      }

      if (!flags.disableAgent) {
        const creds = await issueNodeCredentials(api.pki, { nodeName, nodeIp: advertise });
        const agentLog = createLogger('agent', undefined, flags.logFormat);
        const client = new ApiClient(balancedConfig({ server: api.url, caPem: creds.caPem, certPem: creds.clientCertPem, keyPem: creds.clientKeyPem, userAgent: `trireme-agent/${nodeName}` }, balancer), { logger: agentLog });
        const agent = await startAgent({
          client, nodeName, nodeIp: advertise, dataDir, kubeletPort: flags.kubeletPort, portRange: flags.portRange,
          servingCertPem: creds.servingCertPem, servingKeyPem: creds.servingKeyPem, caPem: creds.caPem, logger: agentLog,
          knownServers: () => balancer.servers().map((v) => v.url), nodeConditions: nodeConditionsFromFlags(flags), timings: { ...agentTimingsFromFlags(flags), ...fenceTimingsFromFlags(flags) }, proxy: proxy.proxy,
        });
        stops.push(async () => { await agent.stop(); client.close(); });
        kubelet = { host: advertise, port: agent.kubeletPort };
      }
      printReady(flags, api, kubelet, managed);
    });
}

/** Runs a start; a TriremeError that refuses it becomes one line on stderr (not a stack trace) and exit code 1. */
async function refusedAsOneLine<T>(command: string, start: () => Promise<T>): Promise<T | undefined> {
  try {
    return await start();
  } catch (e) {
    if (!isTriremeError(e)) throw e;
    process.stderr.write(`trireme ${command}: ${e.message.split('\n')[0]}\n`);
    process.exitCode = 1;
    return undefined;
  }
}

async function dataDirState(dataDir: string): Promise<DataDirState> {
  const state: DataDirState = { sqliteStore: existsSync(join(dataDir, SQLITE_FILE)), memberConfig: existsSync(etcdPaths(dataDir).config) };
  try {
    state.caHash = caFingerprint(await readFile(join(dataDir, 'tls', 'ca.crt'), 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  return state;
}

function apiServerOptions(cmd: Command): Command {
  return flowOptions(auditOptions(tolerationOptions(logFormatOption(cmd))))
    .option('--data-dir <dir>', 'data directory (store, certificates, kubeconfig)', '/var/lib/trireme')
    .option('--bind-address <ip>', 'address the API server listens on', ipAddress, '0.0.0.0')
    .option('--https-port <port>', 'API server port', port, 6443)
    .option('--tls-san <name-or-ip>', 'extra name or IP for the serving certificate (repeatable)', collect, [])
    .option('--node-ip <ip>', 'address of this node (also advertised for the API server)', ipAddress)
    .option('--etcd-endpoints <urls>', 'store the cluster in this etcd (comma-separated client URLs) instead of the embedded SQLite', urlList)
    .option('--etcd-prefix <prefix>', 'key prefix in etcd, so that several clusters can share one etcd', '')
    .option('--service-cluster-ip-range <cidr>', 'IPv4 range ClusterIPs come from (the same on every server)', serviceRange, parseServiceRange(DEFAULT_SERVICE_CIDR))
    .option('--service-node-port-range <from-to>', 'ports NodePorts come from (the same on every server)', portRange, [DEFAULT_NODE_PORT_RANGE.min, DEFAULT_NODE_PORT_RANGE.max] as [number, number]);
}

function advertiseAddress(flags: ServerFlags): string {
  return flags.nodeIp ?? (flags.bindAddress === '0.0.0.0' ? '127.0.0.1' : flags.bindAddress);
}

async function startApi(flags: ServerFlags, log: Logger): Promise<{ api: RunningApiServer; managed?: ManagedStore; snapshotSource: OpenSnapshotSource }> {
  const dataDir = resolve(flags.dataDir);
  const audit = await auditFromFlags(flags);
  const restoreFrom = flags.restoreFrom === undefined ? undefined : { file: resolve(flags.restoreFrom), store: await snapshotStoreKind(resolve(flags.restoreFrom)) };
  const plan: ServerPlan = planServerStart({ ...flags, restoreFrom }, await dataDirState(dataDir));
  if (plan.mode === 'restart-managed' && plan.ignoredFlags.length > 0) {
    log.info({ ignored: plan.ignoredFlags }, 'the data dir already has a managed etcd member: restarting it, join/init flags ignored');
  }
  const logger = createLogger('store', undefined, flags.logFormat);
  const snapLog = createLogger('snapshot', undefined, flags.logFormat);
  const nodeName = (flags.nodeName ?? hostname()).toLowerCase();
  const ip = advertiseAddress(flags);
  const clientPort = flags.etcdClientPort ?? 2379;
  const peerPort = flags.etcdPeerPort ?? 2380;
  let restored: PreparedRestore | undefined;
  if (plan.mode === 'restore-sqlite' || plan.mode === 'restore-managed') {
    restored = await prepareRestore({
      file: plan.file, dataDir, snapshotDir: snapshotDirOf(flags), server: nodeName, revisionBump: flags.restoreRevisionBump, clock: systemClock, logger: snapLog,
      ...(plan.mode === 'restore-managed' ? { member: { name: nodeName, peerUrl: hostUrl(ip, peerPort), clientUrl: hostUrl(ip, clientPort) } } : {}),
    });
  }
  let store: Store;
  let backend: StoreBackend = 'sqlite';
  let membership: StoreMembership | undefined;
  let managed: ManagedStore | undefined;
  let snapshotSource: OpenSnapshotSource;
  if (plan.mode === 'sqlite' || plan.mode === 'restore-sqlite') {
    const sqlite = openStore({ backend: 'sqlite', dataDir, logger }) as SqliteStore;
    store = sqlite;
    snapshotSource = { source: { kind: 'sqlite', backup: (dest) => sqlite.backup(dest) }, close: () => undefined };
  } else if (plan.mode === 'external-etcd') {
    store = openStore({ backend: 'etcd', endpoints: plan.endpoints, prefix: flags.etcdPrefix, logger });
    backend = 'etcd';
    const client = etcdClient(plan.endpoints[0]!);
    snapshotSource = { source: { kind: 'etcd', client, prefix: flags.etcdPrefix }, close: () => client.close() };
  } else {
    managed = await startManagedStore({
      plan, dataDir, name: nodeName, ip, clientPort, peerPort, tlsSans: flags.tlsSan,
      logger: createLogger('etcd', undefined, flags.logFormat),
    });
    // Snapshots come from this server's own member, so every machine holds its own copy.
    const client = etcdClient(managed.member.clientUrl, managed.tls);
    snapshotSource = { source: { kind: 'etcd', client, prefix: flags.etcdPrefix }, close: () => client.close() };
    try {
      if (plan.mode === 'restore-managed') {
        // prepareRestore wrote the revision into the backend; the member must have started on it.
        const now = Number((await client.maintenance.status()).header.revision);
        if (now < restored!.revision.target) {
          throw new TriremeError('Internal', `the restored etcd member is at revision ${now}, not the ${restored!.revision.target} the restore set: refusing to serve revisions a client may have seen`);
        }
        snapLog.info({ revision: now, snapshotRevision: restored!.manifest.revision, by: restored!.revision.by }, 'etcd member runs at the restored revision, everything before compacted: watchers relist');
      } else if (plan.mode === 'reset') {
        // Before anything is written to the reset cluster: its data as the survivor had it.
        const pre = await takeSnapshot({
          source: snapshotSource.source, dir: snapshotDirOf(flags), name: defaultSnapshotName(nodeName, Date.now(), 'pre-reset'), server: nodeName,
          secrets: await readServerSecrets(dataDir), clock: systemClock,
        });
        snapLog.info({ file: pre.path, revision: pre.manifest.revision, objects: pre.manifest.objectCount }, 'snapshot of the store before the cluster reset taken');
      }
    } catch (e) {
      client.close();
      await managed.stop();
      throw e;
    }
    store = openStore({ backend: 'etcd', endpoints: managed.endpoints, prefix: flags.etcdPrefix, tls: managed.tls, logger });
    backend = 'managed-etcd';
    membership = managed.membership;
  }
  try {
    const api = await startApiServer({
      dataDir, store, bindAddress: flags.bindAddress, port: flags.httpsPort, advertiseAddress: advertiseAddress(flags),
      tlsSans: flags.tlsSan, logger: createLogger('apiserver', undefined, flags.logFormat), storeBackend: backend, membership,
      serviceRanges: { serviceRange: flags.serviceClusterIpRange, nodePortRange: { min: flags.serviceNodePortRange[0], max: flags.serviceNodePortRange[1] } },
      defaultTolerations: tolerationsFromFlags(flags), ...(audit ? { audit } : {}),
      flowLimits: flowLimitsFromFlags(flags),
    });
    return { api, snapshotSource, ...(managed ? { managed } : {}) };
  } catch (e) {
    snapshotSource.close();
    await managed?.stop();
    throw e;
  }
}

interface OpenSnapshotSource {
  source: SnapshotSource;
  close(): void;
}

const hostUrl = (ip: string, port: number): string => `https://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;

function snapshotDirOf(flags: ServerFlags): string {
  return resolve(flags.snapshotDir ?? join(flags.dataDir, 'snapshots'));
}

/** The join token, for a snapshot's secrets (a restore onto a new data dir hands out the same one). */
function tokenSecret(dataDir: string): Record<string, string> {
  try {
    return { token: readFileSync(join(dataDir, 'token'), 'utf8') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`not a whole number of at least 1: ${v}`);
  return n;
}

function scheduleOption(v: string): string {
  if (v === 'off') return v;
  try {
    parseSchedule(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return v;
}

/** The ready banner, and the ready file with the ports actually bound (`--https-port 0`). */
function printReady(flags: ServerFlags, api: RunningApiServer, kubelet?: { host: string; port: number }, managed?: ManagedStore): void {
  const etcd = managed ? { name: managed.member.name, clientUrl: managed.member.clientUrl, peerUrl: managed.member.peerUrl, pid: managed.member.pid() } : undefined;
  writeReadyFile(resolve(flags.dataDir), { pid: process.pid, apiServer: { url: api.url, port: api.port, kubeconfig: api.kubeconfigPath }, ...(kubelet ? { kubelet } : {}), ...(etcd ? { etcd } : {}) });
  process.stdout.write(`Trireme API server at ${api.url}\nkubeconfig: ${api.kubeconfigPath}\n  export KUBECONFIG=${api.kubeconfigPath}\n`);
}

/**
 * A client identity for an in-process component, signed by the cluster CA (through `balancer`
 * when given): its own user in no group, so only its own ClusterRole (rbac/defaults.ts) grants it anything.
 */
async function identity(api: RunningApiServer, commonName: string, userAgent: string, balancer?: ServerBalancer): Promise<ClientConfig> {
  const cert = await api.pki.issueClientCert({ commonName, organizations: [] });
  const config: ClientConfig = { server: api.url, caPem: api.pki.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem, userAgent };
  return balancer ? balancedConfig(config, balancer) : config;
}

function positiveSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a positive number of seconds, not ${JSON.stringify(v)}`);
  return n;
}

/** The rules file, or a BadRequest naming what is wrong with it (a refused start). */
async function loadAlertRules(file: string): Promise<AlertRule[]> {
  try {
    return await loadRules(file);
  } catch (e) {
    if (e instanceof RulesError) throw new TriremeError('BadRequest', `--alert-rules ${file}: ${e.message}`);
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TriremeError('BadRequest', `--alert-rules ${file}: no such file`);
    throw e;
  }
}

/** The client certificate the evaluator scrapes the other servers' /metrics with. */
async function alertIdentity(api: RunningApiServer): Promise<{ caPem: string; certPem: string; keyPem: string }> {
  const cert = await api.pki.issueClientCert({ commonName: COMPONENT_USERS.alerts, organizations: [] });
  return { caPem: api.pki.caCertPem, certPem: cert.certPem, keyPem: cert.keyPem };
}
