// E2E harness: waiting. One polling implementation (src/util/poll.ts); these are its test-facing
// signatures.
import { pollUntil } from '../../../src/util/poll.js';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` until it returns a value other than undefined (or false), or throws after
 * `timeoutMs` naming `what` and the last error `fn` threw.
 */
export function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  return pollUntil<T>(what, fn, { timeoutMs, everyMs });
}
