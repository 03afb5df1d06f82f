// The API server process: store → registry (watch caches) → HTTPS handler, plus the cluster's
// first-start bootstrap (PKI, kubeconfig, join token, system namespaces), the namespace
// lifecycle loop and this server's endpoint lease. Guarantees: it answers only over HTTPS; once
// started, its address is in `default/kubernetes`; `stop()` removes it from there, ends watches,
// stops accepting connections, and closes the store after in-flight writes finished.
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { createAuthenticator, createAuthorizer } from './auth.js';
import { RbacCache } from './rbac/cache.js';
import { authorize as rbacAuthorize } from './rbac/authorizer.js';
import { reconcileDefaultRbac } from './rbac/reconcile.js';
import { NodeGraphCache } from './rbac/node-graph-cache.js';
import { authorizeNode } from './rbac/node-authorizer.js';
import { ensurePki, type Pki } from './pki.js';
import { writeAdminKubeconfig } from './kubeconfig.js';
import { ensureJoinToken, parseJoinToken, JOIN_TOKEN_USER } from './tokens.js';
import { createHandler, createUpgradeHandler, type HandlerDeps } from './handler.js';
import { createPodProxy } from './pod-proxy.js';
import { createResourceMetrics } from './resource-metrics.js';
import { issueNodeCredentials } from './node-credentials.js';
import { ApiMetrics } from './metrics.js';
import { registerCertificateMetrics } from './cert-metrics.js';
import { registerClusterStateMetrics } from './cluster-state-metrics.js';
import { registerMemberMetrics } from './store-member-metrics.js';
import { instrumentStore } from '../storage/instrumented.js';
import { Registry } from './registry.js';
import type { DefaultTolerations } from './strategies/index.js';
import { bootstrapCluster } from './bootstrap.js';
import type { ServiceRanges } from './service-ips.js';
import { DEFAULT_SERVICE_CIDR, parseServiceRange } from '../api/service-range.js';
import { EndpointReconciler } from './endpoints-reconciler.js';
import { NamespaceLifecycle } from './namespace-lifecycle.js';
import { OpenWatches } from './open-watches.js';
import { readiness } from './readiness.js';
import type { Store } from '../storage/store.js';
import { systemClock, type Clock } from '../util/clock.js';
import type { Logger } from '../util/log.js';
import type { UserInfo } from './auth.js';
import { createSnapshotRoutes, type SnapshotRoutes } from './snapshot-routes.js';
import { createClusterRoutes, type ClusterRoutes, type StoreMembership } from './cluster-routes.js';
import { doctorReport } from '../ops/doctor/report.js';
import { createDashboardRoutes } from './dashboard-routes.js';
import { createDashboardTokens, isDashboardToken } from './dashboard-token.js';
import { EncryptionKeys, KEYS_FILE } from './encryption-keys.js';
import { createEncryptionRoutes } from './encryption-routes.js';
import { encryptSecrets } from '../storage/encrypted.js';
import { AuditLog } from './audit/log.js';
import type { AuditPolicy } from './audit/policy.js';
import type { StoreBackend } from '../api/cluster-status.js';
import { DEFAULT_FLOW_LIMITS, FlowControl, type FlowLimits } from './flow-control.js';
import type { Duplex } from 'node:stream';
import { answerClientError } from './http-util.js';

/** Headers must arrive within this (Node's default is 60 s); the whole request body within REQUEST_TIMEOUT_MS. */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;

export interface ApiServerOptions {
  dataDir: string;
  store: Store;
  bindAddress: string;
  port: number;
  /** Address other components and clients use to reach this server (a kubeconfig's host). */
  advertiseAddress: string;
  tlsSans: string[];
  logger: Logger;
  clock?: Clock;
  /** Which kind of store `store` is, for GET /trireme/v1/cluster (default sqlite). */
  storeBackend?: StoreBackend;
  /** The managed etcd membership, when this server runs a member (server join, member removal). */
  membership?: StoreMembership;
  /**
   * This server's endpoint lease (kept in `default/kubernetes` while it lives): holderIdentity
   * (default `ip:port`, e.g. the node name), renew interval and ttl (defaults 1 s and 5 s).
   */
  endpointLease?: { identity?: string; renewMs?: number; ttlMs?: number };
  /** `--service-cluster-ip-range`, `--service-node-port-range` (every server of a cluster needs the same). */
  serviceRanges?: ServiceRanges;
  /** tolerationSeconds pod admission adds for not-ready / unreachable nodes (default strategies/pod.ts). */
  defaultTolerations?: DefaultTolerations;
  /** Flow control's seats and long-running cap (default DEFAULT_FLOW_LIMITS). */
  flowLimits?: FlowLimits;
  /** The audit log (`--audit-log-*`, src/cli/audit-flags.ts); absent: off. */
  audit?: { path: string; maxSizeBytes: number; maxBackups: number; policy: AuditPolicy };
}

export interface RunningApiServer {
  url: string;
  pki: Pki;
  port: number;
  kubeconfigPath: string;
  registry: Registry;
  /** This server's metrics; /metrics serves its registry (in-process components add theirs to it). */
  metrics: ApiMetrics;
  /** The snapshot paths; the server hands them its snapshot service (setOps). */
  snapshots: SnapshotRoutes;
  /** The content of DATA/encryption/keys.json now (the Secrets keys), for snapshots. */
  encryptionKeyFile(): string;
  stop(): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions): Promise<RunningApiServer> {
  const clock = opts.clock ?? systemClock;
  const log = opts.logger;
  const sans = [...new Set([opts.advertiseAddress, ...(opts.bindAddress === '0.0.0.0' ? [] : [opts.bindAddress]), ...opts.tlsSans])];
  const pki = await ensurePki(opts.dataDir, { sans, clock });
  const token = await ensureJoinToken(opts.dataDir, pki.caCertPem);
  const tokens = new Map<string, UserInfo>([[parseJoinToken(token).secret, JOIN_TOKEN_USER]]);
  const dashboardTokens = createDashboardTokens(pki.caKeyPem);
  const authenticator = createAuthenticator({
    caCertPem: pki.caCertPem, tokens,
    signedToken: (t) => (isDashboardToken(t) ? dashboardTokens.verify(t, clock.now()) : undefined),
  });

  const metrics = new ApiMetrics();
  // Secrets at rest: encrypted below the registry, so watch caches hold plaintext (encryption-keys.ts).
  const encryptionKeys = await EncryptionKeys.open({ dataDir: opts.dataDir, store: opts.store, caKeyPem: pki.caKeyPem, clock, logger: log });
  const encrypting = encryptSecrets(opts.store, encryptionKeys);
  const store = instrumentStore(encrypting, metrics.registry, opts.storeBackend ?? 'sqlite');
  const registry = new Registry(store, { clock, logger: log, serviceRanges: opts.serviceRanges, ...(opts.defaultTolerations ? { defaultTolerations: opts.defaultTolerations } : {}) });
  await registry.start();
  encryptionKeys.start();
  registerCertificateMetrics(metrics.registry, () => ({ ca: pki.caCertPem, serving: pki.serverCertPem }));
  registerClusterStateMetrics(metrics.registry, registry);
  if (opts.membership) registerMemberMetrics(metrics.registry, opts.membership);

  const server = https.createServer({
    key: pki.serverKeyPem, cert: pki.serverCertPem, ca: pki.caCertPem,
    requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 65_000,
    // A client that trickles its headers or body (slowloris) is cut off instead of holding a socket.
    headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS,
  });
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    // TCP keepalive: a client whose machine vanished is noticed by the kernel, not in hours.
    s.setKeepAlive(true, 1000);
  });
  server.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'));
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => answerClientError(err, socket));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.bindAddress, () => { server.off('error', reject); resolve(); });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `https://${hostForUrl(opts.advertiseAddress)}:${port}`;

  await bootstrapCluster(registry, { ip: opts.advertiseAddress, port }, opts.serviceRanges?.serviceRange ?? parseServiceRange(DEFAULT_SERVICE_CIDR));
  // RBAC: the default roles restored, then an informer cache of the four kinds feeds the authorizer;
  // ahead of RBAC, the node authorizer over a graph of the pods (its own informer).
  await reconcileDefaultRbac(registry);
  const rbac = new RbacCache(registry);
  rbac.start();
  const nodeGraph = new NodeGraphCache(registry);
  nodeGraph.start();
  const authorizer = createAuthorizer((user, attrs) => authorizeNode(nodeGraph.current(), user, attrs) ?? rbacAuthorize(rbac.current(), user, attrs));
  const endpoints = new EndpointReconciler(registry, { server: { ip: opts.advertiseAddress, port }, ...opts.endpointLease, clock, logger: log });
  await endpoints.start();
  const namespaces = new NamespaceLifecycle(registry, clock, log);
  namespaces.start();

  const proxyCert = await pki.issueClientCert({ commonName: 'system:apiserver', organizations: ['system:masters'] });
  const proxyToNode = createPodProxy(registry, { caPem: pki.caCertPem, certPem: proxyCert.certPem, keyPem: proxyCert.keyPem });
  const resourceMetrics = createResourceMetrics({ registry, clock, logger: log, creds: { caPem: pki.caCertPem, certPem: proxyCert.certPem, keyPem: proxyCert.keyPem } });
  const cluster: ClusterRoutes = createClusterRoutes({
    registry, clock, backend: opts.storeBackend ?? 'sqlite', membership: opts.membership, tokenSecret: parseJoinToken(token).secret,
    secrets: () => ({ 'tls/ca.crt': pki.caCertPem, 'tls/ca.key': pki.caKeyPem, token: `${token}\n`, [KEYS_FILE]: encryptionKeys.fileContent() }),
    doctor: () => doctorReport({ registry, clock, caPem: pki.caCertPem, clusterStatus: () => cluster.status() }),
  });
  let ready = true;
  const watches = new OpenWatches();
  const snapshots = createSnapshotRoutes();
  const auditLog = opts.audit ? new AuditLog({ ...opts.audit, clock, logger: log, registry: metrics.registry }) : undefined;
  const deps: HandlerDeps = {
    caPem: pki.caCertPem, proxyToNode, watches, resourceMetrics,
    nodeCredentials: (request) => issueNodeCredentials(pki, request),
    snapshots,
    encryption: createEncryptionRoutes({ keys: encryptionKeys, raw: opts.store, encrypting }),
    cluster,
    dashboard: createDashboardRoutes({ tokens: dashboardTokens, now: () => clock.now() }),
    registry, metrics, logger: log, serverAddress: `${opts.advertiseAddress}:${port}`,
    authenticate: (req) => authenticator.authenticate(req),
    authorize: (user, attrs) => authorizer(user, attrs),
    rbac: () => rbac.current(),
    health: () => readiness({ store: opts.store, clock, shuttingDown: () => !ready }),
    flow: new FlowControl(opts.flowLimits ?? DEFAULT_FLOW_LIMITS),
    ...(auditLog && opts.audit ? { audit: { policy: opts.audit.policy, log: auditLog, logger: log, now: () => clock.now() } } : {}),
  };
  server.on('request', createHandler(deps));
  server.on('upgrade', createUpgradeHandler(deps));

  const kubeconfigPath = await writeAdminKubeconfig(opts.dataDir, { serverUrl: url, pki, clock });
  log.info({ url, kubeconfig: kubeconfigPath }, 'API server ready');

  return {
    url, port, kubeconfigPath, registry, pki, metrics, snapshots,
    encryptionKeyFile: () => encryptionKeys.fileContent(),
    async stop() {
      ready = false;
      namespaces.stop();
      // Out of default/kubernetes first, so that clients stop choosing this server.
      await endpoints.stop();
      watches.endAll();
      rbac.stop();
      nodeGraph.stop();
      encryptionKeys.stop();
      await new Promise<void>((resolve) => {
        // Connections still busy after a grace period are cut: shutdown must finish.
        const grace = setTimeout(() => { for (const s of sockets) s.destroy(); }, 2000);
        server.close(() => { clearTimeout(grace); resolve(); });
        server.closeIdleConnections();
      });
      registry.stop();
      await auditLog?.close();
      await opts.store.close();
      log.info('API server stopped');
    },
  };
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}
