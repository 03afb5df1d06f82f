// Test helper: free loopback ports (one implementation, in src/util/free-port.ts).
export { freePort } from '../../src/util/free-port.js';
