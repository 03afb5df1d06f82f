// The API server's control-plane paths (authorization happened before, in the handler):
// - POST /trireme/v1/server-join (join-token holders): the cluster's bootstrap secrets, sealed
//   with the token's secret (src/api/join-bundle.ts), and the voting etcd members' client URLs;
// - GET /trireme/v1/cluster (admin): servers, store members, lease holders (src/api/cluster-status.ts);
// - GET /trireme/v1/cluster/doctor (admin): the single points of failure (src/ops/doctor), when given;
// - POST /trireme/v1/cluster/members/<name>/remove (admin): a store member out of the cluster,
//   under the quorum guard of the membership it is given (a refusal is a 409 Conflict whose
//   message says why);
// - the store member lines of /readyz?verbose.
// Guarantees: a server without a managed etcd member refuses server-join with a 409 saying so
// and hands out nothing; a join under the name of an existing member is a 409 naming the way
// out; bad bodies are 400s; this server's own member is never removed through itself.
// Does not: add the joiner to etcd (the joiner does, with the CA it received), or change the
// `default/kubernetes` Endpoints (the servers' own leases do).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TriremeError, isTriremeError } from '../errors.js';
import type { KubeObject } from '../api/object.js';
import { findByKind } from '../api/resources.js';
import { isDns1123Subdomain } from '../api/validation/index.js';
import { sealBundle, SERVER_JOIN_PATH, type JoinBundle } from '../api/join-bundle.js';
import { leaseLine, memberLine, type ClusterStatus, type StoreBackend, type StoreMemberStatus } from '../api/cluster-status.js';
import { SYSTEM_NAMESPACE } from '../api/namespaces.js';
import { decodeBody } from './decode-body.js';
import { readBody, sendJson } from './http-util.js';
import type { Registry } from './registry.js';
import type { Clock, Timer } from '../util/clock.js';

export const CLUSTER_PATH = '/trireme/v1/cluster';
export const DOCTOR_PATH = '/trireme/v1/cluster/doctor';
const REMOVE_PATH = /^\/trireme\/v1\/cluster\/members\/([^/]+)\/remove$/;
export const LEADER_LEASES = ['kube-controller-manager', 'kube-scheduler'] as const;

/** The managed etcd membership, as the server is handed it (src/cli wires src/etcd in). */
export interface StoreMembership {
  /** This server's own member name. */
  ownName: string;
  statuses(): Promise<StoreMemberStatus[]>;
  /** Removes a member; a TriremeError Conflict when the quorum guard refuses. */
  remove(name: string): Promise<void>;
}

export interface ClusterRoutesOptions {
  registry: Registry;
  backend: StoreBackend;
  membership?: StoreMembership;
  /** The files a joining server receives, relative to the data dir (CA, CA key, token). */
  secrets(): Record<string, string>;
  /** The join token's secret: the bundle key, and what authenticated the joiner. */
  tokenSecret: string;
  clock: Clock;
  /** Bound on the member lines of /readyz?verbose (default 2 s). */
  readyzTimeoutMs?: number;
  /** The doctor's report (src/ops/doctor/report.ts), served at DOCTOR_PATH. */
  doctor?: () => Promise<unknown>;
}

export interface ClusterRoutes {
  /** Answers `path` when it is one of ours; false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** For /readyz?verbose: one line per store member (none without a managed member), then one per leader Lease. */
  readyzLines(): Promise<string[]>;
  /** What GET CLUSTER_PATH answers. */
  status(): Promise<ClusterStatus>;
}

const ENDPOINTS = findByKind('v1', 'Endpoints')!;
const LEASES = findByKind('coordination.k8s.io/v1', 'Lease')!;

function httpsUrl(v: unknown, field: string): string {
  let ok = false;
  try {
    ok = typeof v === 'string' && new URL(v).protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) throw new TriremeError('BadRequest', `${field} must be an https URL, got ${JSON.stringify(v)}`);
  return v as string;
}

export function createClusterRoutes(opts: ClusterRoutesOptions): ClusterRoutes {
  const membership = opts.membership;

  const serverJoin = async (request: unknown): Promise<unknown> => {
    const r = (request ?? {}) as Record<string, unknown>;
    if (typeof r.name !== 'string' || !isDns1123Subdomain(r.name)) throw new TriremeError('BadRequest', `name must be a DNS-1123 subdomain, got ${JSON.stringify(r.name)}`);
    const peerUrl = httpsUrl(r.peerUrl, 'peerUrl');
    httpsUrl(r.clientUrl, 'clientUrl');
    if (!membership) {
      throw new TriremeError('Conflict', 'this server runs no managed etcd member: servers can join only a cluster whose first server was started with --cluster-init');
    }
    const members = await membership.statuses();
    if (members.some((m) => m.name === r.name)) {
      throw new TriremeError('Conflict', `a store member named ${r.name} already exists: join under another --node-name, or remove it first (trireme cluster remove ${r.name})`);
    }
    const samePeer = members.find((m) => m.name !== '' && m.peerUrls.includes(peerUrl));
    if (samePeer) throw new TriremeError('Conflict', `store member ${samePeer.name} already uses peer URL ${peerUrl}`);
    const voting = members.filter((m) => !m.isLearner && m.name !== '');
    const bundle: JoinBundle = { files: opts.secrets(), etcdClientUrls: [...new Set(voting.flatMap((m) => m.clientUrls))] };
    return { apiVersion: 'trireme/v1', kind: 'ServerJoinBundle', sealed: sealBundle(opts.tokenSecret, bundle) };
  };

  const leaderLeases = async (): Promise<ClusterStatus['leases']> => {
    const leases: ClusterStatus['leases'] = [];
    for (const name of LEADER_LEASES) {
      try {
        const l = await opts.registry.get(LEASES, SYSTEM_NAMESPACE, name) as KubeObject & { spec?: { holderIdentity?: string; renewTime?: string; leaseTransitions?: number } };
        leases.push({ name, holder: l.spec?.holderIdentity, renewTime: l.spec?.renewTime, transitions: l.spec?.leaseTransitions });
      } catch (e) {
        if (!isTriremeError(e, 'NotFound')) throw e;
        leases.push({ name });
      }
    }
    return leases;
  };

  const status = async (): Promise<ClusterStatus> => {
    const servers: { address: string }[] = [];
    try {
      const ep = await opts.registry.get(ENDPOINTS, 'default', 'kubernetes') as KubeObject & { subsets?: { addresses?: { ip: string }[]; ports?: { port: number }[] }[] };
      for (const s of ep.subsets ?? []) {
        for (const a of s.addresses ?? []) for (const p of s.ports ?? [{ port: 0 }]) servers.push({ address: p.port ? `${a.ip}:${p.port}` : a.ip });
      }
    } catch (e) {
      if (!isTriremeError(e, 'NotFound')) throw e;
    }
    const leases = await leaderLeases();
    const store: ClusterStatus['store'] = { backend: opts.backend, members: [] };
    if (membership) {
      try {
        store.members = await membership.statuses();
      } catch (e) {
        store.error = e instanceof Error ? e.message : String(e);
      }
    }
    return { apiVersion: 'trireme/v1', kind: 'ClusterStatus', ...(membership ? { answeredBy: membership.ownName } : {}), servers, store, leases };
  };

  const remove = async (name: string): Promise<unknown> => {
    if (!membership) throw new TriremeError('Conflict', 'this server runs no managed etcd member: there is no store membership to change');
    if (name === membership.ownName) throw new TriremeError('Conflict', `store member ${name} is the member of the server answering: ask another server`);
    const members = await membership.statuses();
    if (!members.some((m) => m.name === name)) throw new TriremeError('NotFound', `store member ${JSON.stringify(name)} not found`, { context: { name } });
    await membership.remove(name);
    return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200, message: `store member ${name} removed` };
  };

  return {
    status,
    async serve(req, res, path) {
      if (path === SERVER_JOIN_PATH && req.method === 'POST') {
        sendJson(res, 200, await serverJoin(decodeBody(req.headers['content-type'], await readBody(req, 64 * 1024))));
        return true;
      }
      if (path === CLUSTER_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
        sendJson(res, 200, await status());
        return true;
      }
      if (path === DOCTOR_PATH && opts.doctor && (req.method === 'GET' || req.method === 'HEAD')) {
        sendJson(res, 200, await opts.doctor());
        return true;
      }
      const m = REMOVE_PATH.exec(path);
      if (m && req.method === 'POST') {
        sendJson(res, 200, await remove(decodeURIComponent(m[1]!)));
        return true;
      }
      return false;
    },
    async readyzLines() {
      const timeoutMs = opts.readyzTimeoutMs ?? 2_000;
      let timer: Timer | undefined;
      const late = new Promise<string[]>((resolve) => {
        timer = opts.clock.setTimeout(() => resolve([`store members and leader leases unknown: no answer within ${timeoutMs} ms`]), timeoutMs);
      });
      const unknown = (what: string) => (e: unknown) => [`${what} unknown: ${e instanceof Error ? e.message : String(e)}`];
      const members = membership ? membership.statuses().then((ms) => ms.map(memberLine), unknown('store members')) : Promise.resolve([]);
      const leases = leaderLeases().then((ls) => ls.map(leaseLine), unknown('leader leases'));
      try {
        return await Promise.race([Promise.all([members, leases]).then(([a, b]) => [...a, ...b]), late]);
      } finally {
        if (timer) opts.clock.clearTimeout(timer);
      }
    },
  };
}
