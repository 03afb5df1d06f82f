// E2E harness: the flags of a node agent (the server's local one or a `trireme agent`): node
// name, kubelet port (default 0: the agent binds one and its ready file names it) and a
// container port range per loopback address.

export interface AgentFlags {
  nodeName: string;
  /** Kubelet API port on the node IP (default 0: the OS picks, the ready file tells). */
  kubeletPort?: number;
  /** Host ports handed to containers (default `portRangeFor(node IP)`). */
  portRange?: [number, number];
}

/**
 * A container port range of 50 ports derived from the last octet of a loopback address
 * (127.0.0.40 → 22000-22049), so agents of test files on distinct addresses never share ports.
 * It lies below Linux's ephemeral range, so outgoing connections do not take these ports.
 */
export function portRangeFor(host: string): [number, number] {
  const octet = Number(host.split('.').at(-1));
  if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new Error(`not an IPv4 address: ${host}`);
  const from = 20_000 + octet * 50;
  return [from, from + 49];
}

/** `--node-name … --node-ip … --kubelet-port … --port-range …` for an agent on `nodeIp`. */
export function agentFlagArgs(nodeIp: string, a: AgentFlags, kubeletPort = a.kubeletPort ?? 0): string[] {
  const [from, to] = a.portRange ?? portRangeFor(nodeIp);
  return ['--node-name', a.nodeName, '--node-ip', nodeIp, '--kubelet-port', String(kubeletPort), '--port-range', `${from}-${to}`];
}
