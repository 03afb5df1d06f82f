// DNS over TCP framing (RFC 1035 §4.2.2): each message is preceded by its length in two bytes.
// Guarantees: `frame` prefixes one message; a `Deframer` yields every complete message of the
// bytes pushed so far, in order, whatever the chunking, and keeps the rest for the next push.
// Does not: bound how many bytes it buffers (a message is at most 65535 bytes).

export function frame(msg: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(msg.length);
  return Buffer.concat([len, msg]);
}

export class Deframer {
  private buffered = Buffer.alloc(0);

  /** The complete messages now available (copies, safe to keep). */
  push(chunk: Buffer): Buffer[] {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    const out: Buffer[] = [];
    while (this.buffered.length >= 2 && this.buffered.length >= 2 + this.buffered.readUInt16BE(0)) {
      const len = this.buffered.readUInt16BE(0);
      out.push(Buffer.from(this.buffered.subarray(2, 2 + len)));
      this.buffered = this.buffered.subarray(2 + len);
    }
    return out;
  }
}
