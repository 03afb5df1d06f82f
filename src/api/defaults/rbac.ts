// Defaults of RBAC bindings, as Kubernetes 1.32 sets them (SetDefaults_Subject): a User or Group
// subject without apiGroup gets rbac.authorization.k8s.io; a ServiceAccount keeps "". Mutates the
// copy applyDefaults hands it. Does not touch roles (they have no defaults).
import { objList, type Obj } from '../validation/access.js';

export function defaultBinding(obj: Obj): void {
  for (const s of objList(obj.subjects)) {
    if ((s.kind === 'User' || s.kind === 'Group') && (s.apiGroup === undefined || s.apiGroup === '')) s.apiGroup = 'rbac.authorization.k8s.io';
  }
}
