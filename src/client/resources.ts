// Looks up a served resource by group and plural name, for clients (a typo is a thrown error at
// start-up, not a 404 at run time).
import { RESOURCES, type ResourceInfo } from '../api/resources.js';

export type { ResourceInfo };

export function resource(group: string, plural: string): ResourceInfo {
  const r = RESOURCES.find((x) => x.group === group && x.resource === plural);
  if (!r) throw new Error(`no served resource ${plural}${group ? `.${group}` : ''}`);
  return r;
}
