// `trireme agent`: a worker node. Joins with the server's token (once), then runs the agent. Its
// client balances over every API server (src/client/balancer.ts): learned from the
// `default/kubernetes` Endpoints, remembered in DATA/agent/servers.json, so a restart works
// while the --server it was given is down.
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { startAgent } from '../agent/agent.js';
import { loadOrJoin, rememberedServersPath } from '../agent/node-join.js';
import { ServerBalancer } from '../client/balancer.js';
import { isTriremeError } from '../errors.js';
import { ApiClient } from '../client/api-client.js';
import { createLogger, type LogFormat } from '../util/log.js';
import { fenceOptions, fenceTimingsFromFlags, type FenceFlags } from './fence-flags.js';
import { agentTimingsFromFlags, nodeConditionOptions, nodeConditionsFromFlags, type NodeConditionFlags } from './node-flags.js';
import { ipAddress, logFormatOption, port, portRange } from './options.js';
import { proxyModeOption, proxySettingsFromFlags, type ProxyFlags } from './proxy-flags.js';
import { writeReadyFile } from './ready-file.js';
import { onShutdown } from './shutdown.js';

interface AgentFlags extends Partial<NodeConditionFlags>, FenceFlags, ProxyFlags {
  logFormat?: LogFormat;
  server: string;
  token?: string;
  dataDir: string;
  nodeIp: string;
  nodeName?: string;
  kubeletPort: number;
  portRange: [number, number];
}

export function registerAgent(program: Command): void {
  proxyModeOption(fenceOptions(nodeConditionOptions(logFormatOption(program.command('agent')))))
    .description('run a worker node agent that joins a cluster')
    .requiredOption('--server <url>', 'API server URL, e.g. https://127.0.0.1:6443')
    .option('--token <token>', 'join token (the server\'s DATA_DIR/token); needed on first start only')
    .option('--data-dir <dir>', 'data directory of this agent', '/var/lib/trireme-agent')
    .option('--node-ip <ip>', 'address of this node', ipAddress, '127.0.0.1')
    .option('--node-name <name>', 'node name (default: host name)')
    .option('--kubelet-port <port>', 'port of the agent API (logs, exec)', port, 10250)
    .option('--port-range <from-to>', 'host ports handed to containers', portRange, [40000, 49999] as [number, number])
    .option('--disable-proxy', 'run no Service proxy (ClusterIP and NodePort listeners) on this node')
    .action(async (flags: AgentFlags) => {
      const log = createLogger('agent', undefined, flags.logFormat);
      const dataDir = resolve(flags.dataDir);
      const proxy = await proxySettingsFromFlags(flags);
      if ('error' in proxy) {
        process.stderr.write(`trireme agent: ${proxy.error}\n`);
        process.exitCode = 1;
        return;
      }
      const nodeName = (flags.nodeName ?? hostname()).toLowerCase();
      let creds;
      try {
        creds = await loadOrJoin(dataDir, flags.server, flags.token, nodeName, flags.nodeIp, { logger: log });
      } catch (e) {
        // One line a person can act on, not a stack trace.
        if (!isTriremeError(e)) throw e;
        process.stderr.write(`trireme agent: cannot join: ${e.message}\n`);
        process.exitCode = 1;
        return;
      }
      const identity = { server: flags.server, caPem: creds.caPem, certPem: creds.clientCertPem, keyPem: creds.clientKeyPem, userAgent: `trireme-agent/${nodeName}` };
      const balancer = await ServerBalancer.open({ seed: flags.server, identity, stateFile: rememberedServersPath(dataDir), logger: log });
      balancer.start();
      const client = new ApiClient({ ...identity, balancer }, { logger: log });
      const agent = await startAgent({
        client, nodeName, nodeIp: flags.nodeIp, dataDir, kubeletPort: flags.kubeletPort, portRange: flags.portRange,
        servingCertPem: creds.servingCertPem, servingKeyPem: creds.servingKeyPem, caPem: creds.caPem, logger: log,
        knownServers: () => balancer.servers().map((v) => v.url), nodeConditions: nodeConditionsFromFlags(flags), timings: { ...agentTimingsFromFlags(flags), ...fenceTimingsFromFlags(flags) }, proxy: proxy.proxy,
      });
      writeReadyFile(dataDir, { pid: process.pid, kubelet: { host: flags.nodeIp, port: agent.kubeletPort } });
      process.stdout.write(`Trireme agent ${nodeName} (${flags.nodeIp}) joined ${flags.server}, kubelet API on port ${agent.kubeletPort}\n`);
      onShutdown(log, async () => {
        await agent.stop();
        client.close();
        balancer.stop();
      });
    });
}
