// Process checks for tests that wait for a process to end: the launcher's own (src/launch).
export { processGone } from '../../src/launch/process-gone.js';
