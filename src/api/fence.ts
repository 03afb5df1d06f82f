// The fencing token a leader's writes carry (DESIGN.md §4): which Lease it leads by, as whom,
// and in which term (the Lease's transition count). Guarantees: formatFence and parseFence are
// inverses for every token (parts are percent-encoded, so ';' and '/' in them cannot confuse
// the split); parseFence rejects anything else. Says nothing about whether a token is current:
// that is the API server's check (src/apiserver/fence-check.ts).
import { isTriremeError, TriremeError } from '../errors.js';

export const FENCE_HEADER = 'X-Trireme-Fence';

export interface Fence {
  lease: { namespace: string; name: string };
  identity: string;
  transitions: number;
}

/** `<namespace>/<name>;<identity>;<transitions>`, each part percent-encoded. */
export function formatFence(f: Fence): string {
  const e = encodeURIComponent;
  return `${e(f.lease.namespace)}/${e(f.lease.name)};${e(f.identity)};${f.transitions}`;
}

/** The token in a header value, or undefined when it is malformed. */
export function parseFence(value: string): Fence | undefined {
  const parts = value.trim().split(';');
  if (parts.length !== 3) return undefined;
  const [where, who, term] = parts as [string, string, string];
  const slash = where.split('/');
  if (slash.length !== 2 || !/^(0|[1-9][0-9]{0,15})$/.test(term)) return undefined;
  try {
    const namespace = decodeURIComponent(slash[0]!);
    const name = decodeURIComponent(slash[1]!);
    const identity = decodeURIComponent(who);
    if (!namespace || !name || !identity) return undefined;
    return { lease: { namespace, name }, identity, transitions: Number(term) };
  } catch {
    // decodeURIComponent throws on a lone '%'.
    return undefined;
  }
}

/** Users that are leader-elected components: the API server refuses their writes without a fence. */
export const LEADER_ELECTED_USERS: readonly string[] = ['system:kube-controller-manager', 'system:kube-scheduler'];

/** The 409 of a write whose fence names a Lease that has moved on (context.fenced marks it). */
export function fencedError(message: string, lease: string): TriremeError {
  return new TriremeError('Conflict', message, { context: { fenced: true, lease } });
}

export function isFencedError(err: unknown): boolean {
  return isTriremeError(err, 'Conflict') && err.context.fenced === true;
}
