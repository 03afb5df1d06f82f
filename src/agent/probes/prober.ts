// Turns a Probe's action into a Prober bound to one container's context.
// Guarantees: exactly one action is used (exec, httpGet, tcpSocket, grpc — in that order if a
// bad spec has several); an unresolvable named port or a missing action yields a prober that
// always fails with a message saying why (the kubelet reports these as probe errors).
import type { Probe } from 'kubernetes-types/core/v1.js';
import { execProbe } from './exec.js';
import { grpcProbe } from './grpc.js';
import { httpProbe } from './http.js';
import { tcpProbe } from './tcp.js';
import type { ProbeContext, ProbeOutcome, Prober } from './types.js';

function failing(message: string): Prober {
  return () => Promise.resolve<ProbeOutcome>({ success: false, message });
}

export function proberFor(probe: Probe, ctx: ProbeContext): Prober {
  if (probe.exec) {
    const command = probe.exec.command ?? [];
    return (timeoutMs) => execProbe(command, ctx.exec, timeoutMs);
  }
  // Ports resolve at each run: a named port's host port is the pod worker's to know.
  const port = (p: number | string): number | undefined => ctx.resolvePort(p);
  const unresolved = (p: number | string): ProbeOutcome => ({ success: false, message: `unable to resolve port ${JSON.stringify(p)}` });
  if (probe.httpGet) {
    const g = probe.httpGet;
    const scheme = (g.scheme ?? 'HTTP').toUpperCase() === 'HTTPS' ? 'HTTPS' : 'HTTP';
    return async (timeoutMs, signal) => {
      const p = port(g.port);
      if (p === undefined) return unresolved(g.port);
      return httpProbe({ scheme, host: g.host || ctx.host, port: p, path: g.path ?? '/', headers: g.httpHeaders ?? [] }, timeoutMs, signal);
    };
  }
  if (probe.tcpSocket) {
    const t = probe.tcpSocket;
    return async (timeoutMs, signal) => {
      const p = port(t.port);
      if (p === undefined) return unresolved(t.port);
      return tcpProbe(t.host || ctx.host, p, timeoutMs, signal);
    };
  }
  if (probe.grpc) {
    const g = probe.grpc;
    return async (timeoutMs, signal) => {
      const p = port(g.port);
      if (p === undefined) return unresolved(g.port);
      return grpcProbe(ctx.host, p, g.service ?? '', timeoutMs, signal);
    };
  }
  return failing('probe has no action (exec, httpGet, tcpSocket or grpc)');
}
