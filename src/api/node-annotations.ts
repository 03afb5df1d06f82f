// Annotations an agent keeps on its own Node for others to read. Guarantees: names only.

/** The API server URLs the agent's client balances over, sorted, comma-separated; `trireme doctor` reads it. */
export const API_SERVERS_ANNOTATION = 'trireme.io/api-servers';
