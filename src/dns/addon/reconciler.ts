// Keeps the cluster DNS add-on in place: every `periodMs` it reads the Nodes, the
// `kube-system/kube-dns` Service, the `coredns` Deployment and the kubeconfig Secret, asks
// plan.ts what to change, and writes it. Every `trireme server` runs one, without a leader:
// writes are safe to race — creates are create-if-absent (AlreadyExists means another server
// did it), updates carry the resourceVersion read (Conflict means another server wrote first;
// the next round looks again), the Service delete carries a uid precondition — and every server
// computes the same desired objects from the same inputs, so they converge.
// Credentials: no service-account tokens exist yet, so the DNS replicas get a client
// certificate for `system:trireme-dns` (group `trireme:dns`: read Services, Endpoints, Pods;
// see src/apiserver/auth.ts), signed by the cluster CA and stored as a kubeconfig in the Secret
// `kube-system/trireme-dns-kubeconfig`, which the pods mount. The Secret is replaced when its
// certificate is not from this CA or expires within 30 days, or when the server it names is no
// longer among the published API servers (`default/kubernetes`). Trade-off: anyone who may read
// Secrets in kube-system holds a read-only cluster identity for up to a year; it cannot be
// revoked (only the CA can be replaced), and rotation means replicas pick up the new file
// (secret volumes are refreshed) while the old certificate stays valid.
// Does not: watch (a deleted object is back within one period), or record Events (it logs each
// write, and each distinct failure once).
import type { Deployment } from 'kubernetes-types/apps/v1.js';
import type { Node, Secret, Service } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../api/object.js';
import { DEFAULT_NAMESPACE, SYSTEM_NAMESPACE } from '../../api/namespaces.js';
import type { ApiClient } from '../../client/api-client.js';
import { endpointUrls, normalizeServerUrl } from '../../client/balancer-plan.js';
import { parseKubeconfig } from '../../client/config.js';
import { resource } from '../../client/resources.js';
import { renderKubeconfig } from '../../apiserver/kubeconfig.js';
import { leafProblem, type IssuedCert } from '../../apiserver/pki.js';
import { isTriremeError } from '../../errors.js';
import { ignoreNotFound } from '../../controllers/common/writes.js';
import type { Clock, Timer } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { DNS_DEPLOYMENT, DNS_SECRET, DNS_SECRET_KEY, DNS_SERVICE, DNS_USER, dnsDeployment, dnsSecret, dnsService, type AddonInput } from './manifests.js';
import { planAddon, type AddonAction, type SecretState } from './plan.js';

const NODES = resource('', 'nodes');
const SERVICES = resource('', 'services');
const SECRETS = resource('', 'secrets');
const ENDPOINTS = resource('', 'endpoints');
const DEPLOYMENTS = resource('apps', 'deployments');

export const DEFAULT_ADDON_PERIOD_MS = 2_000;

export interface DnsAddonOptions {
  client: ApiClient;
  input: Omit<AddonInput, 'schedulableNodes'>;
  /** This server's URL (written into a new kubeconfig), the CA, and how to get a DNS certificate. */
  credentials: { serverUrl: string; caPem: string; issue(): Promise<IssuedCert> };
  clock: Clock;
  logger: Logger;
  periodMs?: number;
}

/** Why the Secret's kubeconfig cannot be used, or undefined when it can. */
export async function kubeconfigProblem(secret: Secret, caPem: string, now: number, published: readonly string[]): Promise<string | undefined> {
  const b64 = secret.data?.[DNS_SECRET_KEY];
  if (!b64) return `the Secret has no ${DNS_SECRET_KEY} key`;
  let cfg;
  try {
    cfg = parseKubeconfig(Buffer.from(b64, 'base64').toString('utf8'), `${SYSTEM_NAMESPACE}/${DNS_SECRET}`);
  } catch (e) {
    return (e as Error).message;
  }
  if (!cfg.certPem || !cfg.keyPem) return 'the kubeconfig has no client certificate';
  if (cfg.caPem.trim() !== caPem.trim()) return 'the kubeconfig trusts another CA';
  const problem = await leafProblem(cfg.certPem, cfg.keyPem, caPem, now);
  if (problem) return `its certificate: ${problem}`;
  const server = normalizeServerUrl(cfg.server);
  if (published.length > 0 && (!server || !published.includes(server))) return `its server ${cfg.server} is no longer a published API server`;
  return undefined;
}

export class DnsAddonReconciler {
  private timer: Timer | undefined;
  private running = false;
  private ticking: Promise<void> = Promise.resolve();
  private lastFailure: string | undefined;

  constructor(private readonly o: DnsAddonOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(ms: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.ticking = this.tick().finally(() => { if (this.running) this.schedule(this.o.periodMs ?? DEFAULT_ADDON_PERIOD_MS); });
    }, ms);
  }

  /** One round: observe, plan, write. Failures are logged (once per distinct message) and retried next round. */
  async tick(): Promise<void> {
    try {
      const actions = await this.plan();
      for (const a of actions) {
        if (!this.running) return;
        await this.execute(a);
      }
      if (this.lastFailure) this.o.logger.info('the DNS add-on reconciles again');
      this.lastFailure = undefined;
    } catch (e) {
      const msg = (e as Error).message;
      if (msg !== this.lastFailure) this.o.logger.warn({ err: msg }, 'cannot reconcile the DNS add-on; retrying');
      this.lastFailure = msg;
    }
  }

  private async plan(): Promise<AddonAction[]> {
    const c = this.o.client;
    const [nodes, service, deployment, secret, kubernetes] = await Promise.all([
      c.list<Node & KubeObject>(NODES),
      ignoreNotFound(c.get<Service & KubeObject>(SERVICES, SYSTEM_NAMESPACE, DNS_SERVICE)),
      ignoreNotFound(c.get<Deployment & KubeObject>(DEPLOYMENTS, SYSTEM_NAMESPACE, DNS_DEPLOYMENT)),
      ignoreNotFound(c.get<Secret & KubeObject>(SECRETS, SYSTEM_NAMESPACE, DNS_SECRET)),
      ignoreNotFound(c.get(ENDPOINTS, DEFAULT_NAMESPACE, 'kubernetes')),
    ]);
    const schedulableNodes = nodes.items.filter((n) => n.spec?.unschedulable !== true).length;
    let secretState: SecretState = { state: 'absent' };
    if (secret) {
      const why = await kubeconfigProblem(secret, this.o.credentials.caPem, this.o.clock.now(), endpointUrls(kubernetes));
      secretState = why === undefined ? { state: 'valid' } : { state: 'unusable', why, resourceVersion: secret.metadata?.resourceVersion ?? '' };
    }
    const input = { ...this.o.input, schedulableNodes };
    return planAddon({ service: dnsService(input), deployment: dnsDeployment(input) }, { service, deployment, secret: secretState });
  }

  private async execute(a: AddonAction): Promise<void> {
    const c = this.o.client;
    const log = this.o.logger;
    try {
      switch (a.kind) {
        case 'issue-secret': {
          const cert = await this.o.credentials.issue();
          const text = renderKubeconfig({
            serverUrl: this.o.credentials.serverUrl, caCertPem: this.o.credentials.caPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem,
            userName: DNS_USER, contextName: 'trireme-dns',
          });
          const obj = dnsSecret(text);
          if (a.resourceVersion === undefined) await c.create(SECRETS, SYSTEM_NAMESPACE, obj as Secret & KubeObject);
          else await c.update(SECRETS, SYSTEM_NAMESPACE, { ...obj, metadata: { ...obj.metadata, resourceVersion: a.resourceVersion } } as Secret & KubeObject);
          log.info({ why: a.why, server: this.o.credentials.serverUrl }, `issued ${SYSTEM_NAMESPACE}/${DNS_SECRET}`);
          return;
        }
        case 'create':
          await c.create(a.what === 'service' ? SERVICES : DEPLOYMENTS, SYSTEM_NAMESPACE, a.object as KubeObject);
          log.info({ name: a.object.metadata?.name }, `created the DNS add-on's ${a.what}`);
          return;
        case 'update':
          await c.update(a.what === 'service' ? SERVICES : DEPLOYMENTS, SYSTEM_NAMESPACE, a.object as KubeObject);
          log.info({ name: a.object.metadata?.name, why: a.why }, `reconciled the DNS add-on's ${a.what}`);
          return;
        case 'delete':
          await c.delete(SERVICES, SYSTEM_NAMESPACE, DNS_SERVICE, { preconditions: { uid: a.uid } });
          log.warn({ why: a.why }, `deleted ${SYSTEM_NAMESPACE}/${DNS_SERVICE} to create it again`);
          return;
      }
    } catch (e) {
      // Another server got there first: the next round sees its write.
      if (isTriremeError(e, 'AlreadyExists') || isTriremeError(e, 'Conflict') || isTriremeError(e, 'NotFound')) {
        log.debug({ action: a.kind, err: (e as Error).message }, 'lost a race with another server; looking again next round');
        return;
      }
      throw e;
    }
  }
}
