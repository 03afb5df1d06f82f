// The watch streams one API server has open, so that its shutdown ends them promptly (a
// watch would otherwise hold its connection, and server.close(), for up to 30 minutes).
// Guarantees: each server owns one instance; `endAll` ends only that server's streams, and a
// stream opened after `endAll` is ended at once. Does not: serve or encode events.

export class OpenWatches {
  private readonly ends = new Set<() => void>();
  private closed = false;

  /** Registers a stream's `end`; after `endAll` the stream is ended at once instead. */
  add(end: () => void): void {
    if (this.closed) {
      end();
      return;
    }
    this.ends.add(end);
  }

  delete(end: () => void): void {
    this.ends.delete(end);
  }

  get size(): number {
    return this.ends.size;
  }

  /** Ends every open stream and refuses new ones (server shutdown). */
  endAll(): void {
    this.closed = true;
    for (const end of [...this.ends]) end();
    this.ends.clear();
  }
}
