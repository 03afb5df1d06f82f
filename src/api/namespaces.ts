// The namespaces the system itself uses, named once.
// Guarantees: the names Kubernetes gives them. Does not: create them (apiserver/bootstrap.ts does).

/** Where nodes' heartbeat Leases live (one per node, named after it). */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** Where control-plane components live, their leader-election Leases among them. */
export const SYSTEM_NAMESPACE = 'kube-system';
export const PUBLIC_NAMESPACE = 'kube-public';
export const DEFAULT_NAMESPACE = 'default';
