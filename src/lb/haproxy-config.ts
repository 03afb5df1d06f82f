// `trireme lb --print-haproxy`: an HAProxy (2.6) configuration that does what `trireme lb` does,
// printed from the same flags. A pure function of its input.
// Guarantees: TCP mode (TLS passes through; kubectl's client certificates reach the API
// servers); every server checked with `GET /readyz` over TLS (`check check-ssl verify none`:
// liveness, not identity; /readyz is readable anonymously) every second, down after 2 failures,
// up after 2 successes, its sessions cut when it goes down (`on-marked-down shutdown-sessions`);
// a failed connect is retried on another server (`retries` + `option redispatch 1`); TCP
// keepalive on both sides; a 2 s connect timeout and long client/server/tunnel timeouts so
// watches are not cut by HAProxy. The text is accepted by `haproxy -c -f` as printed (tested).
// Does not: validate its input (endpoints.ts does), add a stats page, TLS termination, or
// logging to a syslog socket (it logs to stdout, which systemd's journal or `-db` shows).
import type { BackendAddress, HostPort } from './endpoints.js';

export interface HaproxyConfigInput {
  listen: HostPort;
  backends: readonly BackendAddress[];
  /** The command line the text came from, for its header comment. */
  generatedBy?: string;
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function haproxyConfig(input: HaproxyConfigInput): string {
  const lines = [
    `# HAProxy configuration for the Trireme API${input.generatedBy ? `, printed by: ${input.generatedBy}` : ''}`,
    '# Run: haproxy -f haproxy.cfg (or install as /etc/haproxy/haproxy.cfg)',
    'global',
    '    log stdout format raw local0',
    '',
    'defaults',
    '    mode tcp',
    '    log global',
    '    option tcplog',
    '    option dontlognull',
    '    # A failed connect is retried, on another server (redispatch on every retry).',
    '    retries 3',
    '    option redispatch 1',
    '    timeout connect 2s',
    '    timeout check 2s',
    '    # Watches stay open for many minutes: long idle timeouts on both sides.',
    '    timeout client 1h',
    '    timeout server 1h',
    '    timeout tunnel 1h',
    '    timeout client-fin 10s',
    '    timeout server-fin 10s',
    '',
    'frontend trireme-api',
    `    bind ${hostPort(input.listen.host, input.listen.port)}`,
    '    option clitcpka',
    '    default_backend trireme-api-servers',
    '',
    'backend trireme-api-servers',
    '    balance leastconn',
    '    option srvtcpka',
    '    option httpchk',
    '    http-check send meth GET uri /readyz',
    '    http-check expect status 200',
    '    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions',
    ...input.backends.map((b) => `    server ${b.name} ${hostPort(b.host, b.port)} check check-ssl verify none`),
    '',
  ];
  return lines.join('\n');
}
