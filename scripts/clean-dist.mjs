// Removes the compiled output so that a deleted source file never survives as a stale .js.
import { rmSync } from 'node:fs';
rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
