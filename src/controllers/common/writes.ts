// Small write helpers shared by controllers. Guarantees: `ignoreNotFound` swallows only
// NotFound (the object is already gone: the goal of a delete, or nothing left to patch);
// `aggregate` turns several failures into one error so the key is retried once.
import { isTriremeError, TriremeError } from '../../errors.js';

export async function ignoreNotFound<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (e) {
    if (isTriremeError(e, 'NotFound')) return undefined;
    throw e;
  }
}

export function aggregate(errors: readonly unknown[], what: string): void {
  if (errors.length === 0) return;
  if (errors.length === 1) throw errors[0];
  const msgs = errors.map((e) => (e instanceof Error ? e.message : String(e)));
  throw new TriremeError('Internal', `${what}: ${errors.length} errors: ${msgs.join('; ')}`, { cause: errors[0] });
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
