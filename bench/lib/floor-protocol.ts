// What the benchmark hands the physical-floor server (bench/lib/floor-server.ts): plain data
// in a JSON file, so the entry module stays free of anything but the server.

/** One captured response: status, header pairs as the real server sent them, the body. */
export interface CannedResponse {
  status: number;
  headers: [string, string][];
  bodyBase64: string;
}

export interface FloorConfig {
  host: string;
  /** The real server's data dir: its `tls/` gives the certificate; the ready file goes here. */
  serverDataDir: string;
  /** Where the floor writes its ready file. */
  dataDir: string;
  /** The kubeconfig whose credentials the floor accepts (the real server's admin one). */
  kubeconfig: string;
  create: CannedResponse;
  get: CannedResponse;
}

/** Headers Node's HTTP server writes itself on every response; the rest are replayed. */
export const NODE_OWN_HEADERS: ReadonlySet<string> = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);
