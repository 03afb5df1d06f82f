// Option parsers shared by subcommands: each rejects bad input with a one-line message.
import { isIP } from 'node:net';
import { InvalidArgumentError, type Command } from 'commander';
import { parseLogFormat, type LogFormat } from '../util/log.js';
import { parseServiceRange, type ServiceRange } from '../api/service-range.js';

export function port(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`not a port number: ${v}`);
  return n;
}

export function ipAddress(v: string): string {
  if (isIP(v) === 0) throw new InvalidArgumentError(`not an IP address: ${v}`);
  return v;
}

export function collect(v: string, prev: string[]): string[] {
  return [...prev, v];
}

export function portRange(v: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(v);
  const from = Number(m?.[1]);
  const to = Number(m?.[2]);
  if (!m || from < 1 || to > 65535 || from > to) throw new InvalidArgumentError(`not a port range (like 40000-49999): ${v}`);
  return [from, to];
}

/** `--service-cluster-ip-range`: an IPv4 CIDR. */
export function serviceRange(v: string): ServiceRange {
  try {
    return parseServiceRange(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

/** Comma-separated http(s) URLs, e.g. etcd client endpoints. */
export function urlList(v: string): string[] {
  const urls = v.split(',').map((u) => u.trim()).filter(Boolean);
  for (const u of urls) {
    let ok = false;
    try {
      ok = ['http:', 'https:'].includes(new URL(u).protocol);
    } catch {
      ok = false;
    }
    if (!ok) throw new InvalidArgumentError(`not an http(s) URL: ${u}`);
  }
  if (urls.length === 0) throw new InvalidArgumentError('at least one URL is needed');
  return urls;
}

/** Adds `--log-format json|text` (default: text on a terminal, json otherwise). */
export function logFormatOption(cmd: Command): Command {
  return cmd.option('--log-format <format>', 'log lines as json or text (default: text on a terminal, json otherwise)', (v: string): LogFormat => {
    try {
      return parseLogFormat(v);
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  });
}

/** A DNS domain such as `cluster.local` (lower-cased, trailing dot dropped). */
export function dnsDomain(v: string): string {
  const d = v.replace(/\.$/, '').toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(d)) throw new InvalidArgumentError(`not a DNS domain: ${v}`);
  return d;
}
