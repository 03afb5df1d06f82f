// Rows of RoleBinding and ClusterRoleBinding (Kubernetes 1.32 columns: Name, Role, Age, and with
// `-o wide` Users, Groups, ServiceAccounts). Role and ClusterRole print as Kubernetes prints them,
// Name and Created At: the default table (index.ts). Guarantees: the role is `Kind/name`,
// subjects are joined with ", " and service accounts are `namespace/name`, as kubectl shows them.
import type { RoleBinding, Subject } from 'kubernetes-types/rbac/v1.js';
import { since } from './age.js';
import { AGE, NAME, col, wide } from './columns.js';
import type { Printer } from './types.js';

function subjects(list: readonly Subject[] | undefined, kind: Subject['kind']): string {
  return (list ?? []).filter((s) => s.kind === kind)
    .map((s) => (kind === 'ServiceAccount' ? `${s.namespace ?? ''}/${s.name}` : s.name)).join(', ');
}

export const roleBindingPrinter: Printer = {
  columns: [
    NAME, col('Role', 'string', 'The role the binding grants (roleRef).'), AGE,
    wide('Users', 'string', 'Users in the binding.'), wide('Groups', 'string', 'Groups in the binding.'),
    wide('ServiceAccounts', 'string', 'ServiceAccounts in the binding.'),
  ],
  row(obj, ctx) {
    const b = obj as Partial<RoleBinding>;
    const role = b.roleRef ? `${b.roleRef.kind}/${b.roleRef.name}` : '';
    return {
      cells: [b.metadata?.name ?? '', role, since(b.metadata?.creationTimestamp, ctx.now),
        subjects(b.subjects, 'User'), subjects(b.subjects, 'Group'), subjects(b.subjects, 'ServiceAccount')],
    };
  },
};
