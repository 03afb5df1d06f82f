// The watch heartbeat both ends agree on. Kubernetes has no watch keepalive except bookmarks, so
// ours is one: a server sends a BOOKMARK (only metadata.resourceVersion, which client-go, kubectl
// and the python client accept) at least every WATCH_BOOKMARK_INTERVAL_MS on a watch that asked
// for `allowWatchBookmarks`, and a client ends such a watch when it heard nothing for
// WATCH_SILENCE_LIMIT_MS — a server that vanished without a FIN (paused, cut off) costs seconds.
// Does not: apply to watches without allowWatchBookmarks (they rely on TCP keepalive only).

export const WATCH_BOOKMARK_INTERVAL_MS = 2000;
/** Three missed heartbeats: room for a busy event loop on either end. */
export const WATCH_SILENCE_LIMIT_MS = 3 * WATCH_BOOKMARK_INTERVAL_MS;
