// `trireme` CLI: one binary, thin subcommands (each in its own file under src/cli/).
import { Command } from 'commander';
import { registerServer } from './server.js';

const program = new Command('trireme').description('Kubernetes-compatible orchestrator without a single point of failure');
program.showHelpAfterError();
registerServer(program);
await program.parseAsync(process.argv);
