// Which objects a controller owns, adopts and releases (pure), as Kubernetes'
// ControllerRefManager: an object it controls that still matches the selector is owned;
// one it controls that no longer matches is released; an orphan (no controller) that
// matches and is not being deleted is adopted — unless the owner itself is being deleted.
// Objects controlled by someone else are never touched. Does not: write anything.
import type { KubeObject } from '../../api/object.js';
import { matchesLabels, type LabelSelector } from '../../api/selectors.js';
import { controllerOf, isBeingDeleted } from './owner.js';

export interface Claim<T> {
  /** Controlled and matching: the controller's objects (adopted ones are added by the caller once adopted). */
  owned: T[];
  adopt: T[];
  release: T[];
}

export function classifyClaims<T extends KubeObject>(owner: KubeObject, selector: LabelSelector, objects: readonly T[]): Claim<T> {
  const uid = owner.metadata?.uid;
  const out: Claim<T> = { owned: [], adopt: [], release: [] };
  const ownerDeleting = isBeingDeleted(owner);
  for (const o of objects) {
    const ref = controllerOf(o);
    const matches = matchesLabels(selector, o.metadata?.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) out.owned.push(o);
      else if (!isBeingDeleted(o)) out.release.push(o);
      continue;
    }
    if (matches && !ownerDeleting && !isBeingDeleted(o)) out.adopt.push(o);
  }
  return out;
}
