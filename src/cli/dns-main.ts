// Entry for `trireme dns` alone: bin/trireme comes here for `dns`, so each DNS replica (a pod of
// the kube-system add-on) loads only the DNS server and its API client, not the whole CLI.
// `trireme` help still lists `dns` (main.ts registers it too).
import { Command } from 'commander';
import { registerDns } from './dns.js';

const program = new Command('trireme');
registerDns(program);
await program.parseAsync(process.argv);
