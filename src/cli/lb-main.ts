// Entry for `trireme lb` alone: bin/trireme comes here for `lb`, so the balancer and its
// `--check` (which keepalived runs every 3 s) load only their own modules instead of the whole
// CLI (about a second of CPU). `trireme` help still lists `lb` (main.ts registers it too).
import { Command } from 'commander';
import { registerLb } from './lb.js';

const program = new Command('trireme');
registerLb(program);
await program.parseAsync(process.argv);
