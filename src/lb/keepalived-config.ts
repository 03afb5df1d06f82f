// `trireme lb --print-keepalived`: a keepalived (2.2) configuration that holds a virtual IP on
// one of the machines running it, moving it when that machine, its link or its local API
// server fails. A pure function of validated input.
// Guarantees: one VRRP instance (VRRPv2, advert_int 1) for the VIP with its prefix length on
// the given interface; `state BACKUP` everywhere, so the highest priority wins the election
// (and takes the VIP back when it returns); a vrrp_script runs the given check command every
// 3 s (down after 2 failures, up after 2 successes) and, with no weight, puts the instance in
// FAULT while it fails, so a machine whose API server is not ready gives the VIP up; unicast
// peers when given (for networks without multicast), multicast otherwise; scripts run as root
// with keepalived's script security on. Accepted by `keepalived -t -f` as printed (tested).
// Does not: validate its input (endpoints.ts parses it), set VRRP authentication (deprecated in
// VRRPv3 and cleartext in v2), or manage more than one VIP.
import type { Cidr } from './endpoints.js';

export interface KeepalivedConfigInput {
  vip: Cidr;
  interface: string;
  /** 1..254: the highest priority holds the VIP. */
  priority: number;
  /** VRRP virtual router id 1..255, the same on every machine of this VIP. */
  routerId: number;
  /** Other machines' addresses for unicast VRRP; empty = multicast. */
  peers: readonly string[];
  /** The health check keepalived runs; exit 0 = healthy. Words, no shell. */
  checkCommand: readonly string[];
  generatedBy?: string;
}

/** keepalived splits a script line on spaces and honours double quotes only around the whole line. */
function scriptLine(words: readonly string[]): string {
  for (const w of words) {
    if (w === '' || /[\s"'\\]/.test(w)) throw new RangeError(`the check command cannot contain quotes, backslashes or white space inside one word: ${JSON.stringify(w)}`);
  }
  return `"${words.join(' ')}"`;
}

export function keepalivedConfig(input: KeepalivedConfigInput): string {
  const lines = [
    `# keepalived configuration for the Trireme API VIP${input.generatedBy ? `, printed by: ${input.generatedBy}` : ''}`,
    '# Run: keepalived -n -l -f keepalived.conf (or install as /etc/keepalived/keepalived.conf)',
    'global_defs {',
    '    script_user root',
    '    enable_script_security',
    '}',
    '',
    'vrrp_script trireme_api_check {',
    `    script ${scriptLine(input.checkCommand)}`,
    // The check is a node process (~0.4 s CPU, seconds of wall time on a loaded machine); its
    // own request times out after 2 s, so `timeout` only guards against a stuck process.
    '    interval 3',
    '    timeout 8',
    '    fall 2',
    '    rise 2',
    '}',
    '',
    `vrrp_instance trireme_api_${input.routerId} {`,
    '    state BACKUP',
    `    interface ${input.interface}`,
    `    virtual_router_id ${input.routerId}`,
    `    priority ${input.priority}`,
    '    advert_int 1',
    ...(input.peers.length > 0 ? ['    unicast_peer {', ...input.peers.map((p) => `        ${p}`), '    }'] : []),
    '    virtual_ipaddress {',
    `        ${input.vip.address}/${input.vip.prefix} dev ${input.interface}`,
    '    }',
    '    track_script {',
    '        trireme_api_check',
    '    }',
    '}',
    '',
  ];
  return lines.join('\n');
}
