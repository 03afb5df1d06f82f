// Starts the DNS add-on reconciler inside `trireme server`: its own client identity
// (`system:trireme-addons`, cluster-admin: it writes in kube-system), the command of this very
// installation (this Node binary and this package's bin/trireme, found at run time), and the
// DNS replicas' certificates issued from the cluster CA. Assumes every node has Trireme at the
// same path as this server (true for one machine and for uniform installs); a node where it
// lives elsewhere fails the replica's start, visibly (StartError), and the other replica serves.
import { join } from 'node:path';
import { ApiClient } from '../../client/api-client.js';
import type { ClientConfig } from '../../client/config.js';
import { DNS_GROUP } from '../../apiserver/auth.js';
import type { Pki } from '../../apiserver/pki.js';
import type { ServiceRange } from '../../api/service-range.js';
import { systemClock } from '../../util/clock.js';
import type { Logger } from '../../util/log.js';
import { packageInfo } from '../../util/package-info.js';
import { DNS_USER } from './manifests.js';
import { DnsAddonReconciler } from './reconciler.js';

export interface DnsAddonStart {
  /** A client config whose identity may write in kube-system (through the server's balancer). */
  clientConfig: ClientConfig;
  serverUrl: string;
  pki: Pki;
  serviceRange: ServiceRange;
  clusterDomain: string;
  logger: Logger;
}

/** How a pod on this host runs this installation's trireme. */
export function triremeCommand(): string[] {
  return [process.execPath, join(packageInfo().root, 'bin', 'trireme')];
}

export function startDnsAddon(o: DnsAddonStart): { stop(): Promise<void> } {
  const client = new ApiClient(o.clientConfig, { logger: o.logger });
  const reconciler = new DnsAddonReconciler({
    client, clock: systemClock, logger: o.logger,
    input: { serviceRange: o.serviceRange, clusterDomain: o.clusterDomain, trireme: triremeCommand(), image: `trireme/dns:v${packageInfo().version}` },
    credentials: { serverUrl: o.serverUrl, caPem: o.pki.caCertPem, issue: () => o.pki.issueClientCert({ commonName: DNS_USER, organizations: [DNS_GROUP] }) },
  });
  reconciler.start();
  return { stop: async () => { await reconciler.stop(); client.close(); } };
}
