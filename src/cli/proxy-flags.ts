// The Service proxy flags shared by `trireme agent` and `trireme server`: `--disable-proxy` and
// `--proxy-mode auto|nftables|userspace`.
// Guarantees: a mode other than the three is refused by the parser; `--proxy-mode nftables` where
// nftables cannot be programmed (not root, no nft, no nf_tables) is refused before the agent
// starts, with one line naming why. Does not: choose the mode for 'auto' (the proxy probes).
import { InvalidArgumentError, type Command } from 'commander';
import { probeNft } from '../agent/proxy/nft.js';
import { PROXY_MODES, type ProxyMode, type ServiceProxySettings } from '../agent/proxy/proxy.js';

export interface ProxyFlags {
  disableProxy?: boolean;
  proxyMode?: ProxyMode;
}

function proxyMode(v: string): ProxyMode {
  if (!(PROXY_MODES as readonly string[]).includes(v)) throw new InvalidArgumentError(`proxy mode must be one of ${PROXY_MODES.join(', ')}, not ${v}`);
  return v as ProxyMode;
}

export function proxyModeOption(cmd: Command): Command {
  return cmd.option('--proxy-mode <mode>', 'Service data plane: nftables (kernel DNAT; needs root and nft), userspace (listeners in the agent), or auto (nftables when usable)', proxyMode, 'userspace');
}

/** The agent's proxy settings from the flags, or a one-line reason the flags cannot work here. */
export async function proxySettingsFromFlags(flags: ProxyFlags): Promise<{ proxy: ServiceProxySettings | false } | { error: string }> {
  if (flags.disableProxy) return { proxy: false };
  const mode = flags.proxyMode ?? 'userspace';
  if (mode === 'nftables') {
    const probe = await probeNft();
    if (!probe.ok) return { error: `--proxy-mode nftables: nftables cannot be programmed here (${probe.reason})` };
  }
  return { proxy: { mode } };
}
