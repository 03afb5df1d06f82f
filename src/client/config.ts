// Where and how a client reaches the API: server URL, the CA it trusts, and its credentials.
// Reads the current context of a kubeconfig (inline *-data fields or file paths). The one
// kubeconfig reader of the project: the client, the benchmarks and the e2e harness use it.
// Guarantees: a kubeconfig without a current context, cluster server or CA is a BadRequest
// naming what is missing; client certificate and key come as a pair or not at all.
// Does not: support exec/auth-provider plugins, proxies or several contexts at once.
// A config may carry a live `balancer` (src/client/balancer.ts): then `server` is only the seed
// and every ApiClient built from the config (or a copy of it) spreads over the balancer's servers.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import { TriremeError } from '../errors.js';

export interface ClientConfig {
  server: string;
  caPem: string;
  certPem?: string;
  keyPem?: string;
  token?: string;
  userAgent?: string;
  /** The set of servers to use instead of `server` alone; shared by every client built from this config. */
  balancer?: ServerChooser;
}

/** What an ApiClient needs from a balancer (src/client/balancer.ts implements it). */
export interface ServerChooser {
  /** The server to try next, given the ones this request already tried; undefined when none is left. */
  pick(tried: ReadonlySet<string>): string | undefined;
  /** The server could not be connected to (nothing was sent): it is marked down at once. */
  reportConnectFailure(server: string, err: Error): void;
  /** A watch through the server heard nothing, not even its heartbeat, for too long. */
  reportSilence(server: string): void;
  /** The server answered (any HTTP status). */
  reportAnswered(server: string): void;
  /** Calls `fn` whenever a server is marked down (clients drop their sockets to it); returns the unsubscribe. */
  onDown(fn: (server: string) => void): () => void;
}

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }

export function loadKubeconfig(path: string): ClientConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TriremeError('BadRequest', `cannot read kubeconfig ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseKubeconfig(text, path);
}

/** The current context of kubeconfig text; relative file paths in it resolve against `path`'s dir. */
export function parseKubeconfig(text: string, path: string): ClientConfig {
  let doc: Record<string, unknown>;
  try {
    doc = (parse(text) ?? {}) as Record<string, unknown>;
  } catch (e) {
    throw new TriremeError('BadRequest', `cannot parse kubeconfig ${path}: ${(e as Error).message}`, { cause: e });
  }
  const base = dirname(resolve(path));
  const find = <T>(list: unknown, name: unknown, field: 'cluster' | 'user' | 'context'): T => {
    const entry = (list as Named<T>[] | undefined)?.find((x) => x.name === name);
    if (!entry?.[field]) throw new TriremeError('BadRequest', `kubeconfig ${path}: no ${field} named ${String(name)}`);
    return entry[field] as T;
  };
  const ctx = find<{ cluster: string; user: string }>(doc.contexts, doc['current-context'], 'context');
  const cluster = find<Record<string, string>>(doc.clusters, ctx.cluster, 'cluster');
  const user = find<Record<string, string>>(doc.users, ctx.user, 'user');
  const data = (inline: string | undefined, file: string | undefined): string | undefined => {
    if (inline) return Buffer.from(inline, 'base64').toString('utf8');
    if (file) return readFileSync(resolve(base, file), 'utf8');
    return undefined;
  };
  const caPem = data(cluster['certificate-authority-data'], cluster['certificate-authority']);
  if (!cluster.server || !caPem) throw new TriremeError('BadRequest', `kubeconfig ${path}: the cluster needs a server and a certificate authority`);
  const cfg: ClientConfig = { server: cluster.server, caPem };
  const certPem = data(user['client-certificate-data'], user['client-certificate']);
  const keyPem = data(user['client-key-data'], user['client-key']);
  if (certPem && keyPem) { cfg.certPem = certPem; cfg.keyPem = keyPem; }
  if (user.token) cfg.token = user.token;
  return cfg;
}
