// `trireme` CLI: one binary, thin subcommands (each in its own file under src/cli/).
import { Command } from 'commander';
import { registerAgent } from './agent.js';
import { registerCluster } from './cluster.js';
import { registerDoctor } from './doctor.js';
import { registerControllerManager } from './controller-manager.js';
import { registerDashboard } from './dashboard.js';
import { registerDns } from './dns.js';
import { registerLb } from './lb.js';
import { registerScheduler } from './scheduler.js';
import { registerServer } from './server.js';
import { registerSnapshot } from './snapshot.js';
import { registerSecrets } from './secrets.js';

const program = new Command('trireme').description('Kubernetes-compatible orchestrator without a single point of failure');
program.showHelpAfterError();
registerServer(program);
registerAgent(program);
registerControllerManager(program);
registerScheduler(program);
registerCluster(program);
registerDoctor(program);
registerDashboard(program);
registerLb(program);
registerDns(program);
registerSnapshot(program);
registerSecrets(program);
await program.parseAsync(process.argv);
