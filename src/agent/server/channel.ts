// The websocket remote-command channel protocol (kubectl exec/attach), v4 and v5.
// Every binary message is one byte of channel followed by data: 0 stdin, 1 stdout, 2 stderr,
// 3 error (final Status JSON), 4 resize (`{"Width":w,"Height":h}`); v5 adds 255 "close stream"
// whose data byte names the stream the client finished (stdin EOF).
// Guarantees: pure encoding/decoding; unknown channels decode as such (the session ignores them).

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
export const CLOSE = 255;

export const V5 = 'v5.channel.k8s.io';
export const V4 = 'v4.channel.k8s.io';
/** In order of preference. */
export const SUPPORTED_PROTOCOLS = [V5, V4] as const;
export type ChannelProtocol = (typeof SUPPORTED_PROTOCOLS)[number];

/** Picks the best protocol the client offers (from `Sec-WebSocket-Protocol`); undefined if none. */
export function pickProtocol(offered: Iterable<string>): ChannelProtocol | undefined {
  const set = new Set([...offered].map((p) => p.trim()));
  return SUPPORTED_PROTOCOLS.find((p) => set.has(p));
}

export function parseProtocolHeader(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  return (Array.isArray(header) ? header.join(',') : header).split(',').map((s) => s.trim()).filter(Boolean);
}

export function frame(channel: number, data: Buffer | string): Buffer {
  const body = typeof data === 'string' ? Buffer.from(data) : data;
  return Buffer.concat([Buffer.from([channel]), body]);
}

export type ClientMessage =
  | { kind: 'stdin'; data: Buffer }
  | { kind: 'resize'; width: number; height: number }
  | { kind: 'close'; channel: number }
  | { kind: 'ignored'; channel: number | undefined };

/** Decodes one message from the client. `close` frames are only honoured in v5. */
export function decodeClientMessage(msg: Buffer, protocol: ChannelProtocol): ClientMessage {
  const channel = msg[0];
  const data = msg.subarray(1);
  if (channel === STDIN) return { kind: 'stdin', data };
  if (channel === RESIZE) {
    try {
      const v = JSON.parse(data.toString('utf8')) as { Width?: unknown; Height?: unknown };
      if (typeof v.Width === 'number' && typeof v.Height === 'number') return { kind: 'resize', width: v.Width, height: v.Height };
    } catch {
      // A malformed resize is ignored, like the kubelet does.
    }
    return { kind: 'ignored', channel };
  }
  if (channel === CLOSE && protocol === V5 && data.length >= 1) return { kind: 'close', channel: data[0]! };
  return { kind: 'ignored', channel };
}
