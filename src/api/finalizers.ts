// The finalizer names the system itself sets and removes, once for the whole tree (the API
// server adds them on delete and on namespace defaults; the garbage collector and the
// namespace lifecycle remove them). Guarantees: every user of these names imports them from
// here. Does not: cover finalizers that users or third-party controllers put on objects.

/** On `Namespace.spec.finalizers`: the namespace goes only once it has been emptied. */
export const NAMESPACE_FINALIZER = 'kubernetes';

/** Added by a delete with propagationPolicy Orphan: dependents lose their owner reference first. */
export const ORPHAN_FINALIZER = 'orphan';

/** Added by a delete with propagationPolicy Foreground: blocking dependents are deleted first. */
export const FOREGROUND_FINALIZER = 'foregroundDeletion';
