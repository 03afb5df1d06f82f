// The physical floor of the API server benchmark, as a child process of its own: a bare Node
// HTTPS server with the real server's TLS setup (its ECDSA P-256 serving certificate and key
// from the data dir, the cluster CA, client certificates requested, keep-alive) that does only
// what no API server can avoid — read the request body, parse it as JSON — and answers the
// bytes a real API server answered to the same request (status, headers, body; captured from
// the real server just before). What the API server does beyond this (authentication,
// admission, validation, storage, encoding) is what the API/floor ratio measures.
//
// Usage: node floor-server.js <config.json> (see FloorConfig). Writes `<dataDir>/ready.json`
// (src/cli/ready-file.ts) once listening on port 0, like the real CLI; exits on SIGTERM.
// Guarantees: POST answers the captured create response, GET the captured get response, only
// after the body was read and parsed (a body that is not JSON gets a 400); anything else 404.
// Does not: store, validate or vary anything: it is a yardstick, never a server.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pkiPaths } from '../../src/apiserver/pki.js';
import { writeReadyFile } from '../../src/cli/ready-file.js';
import type { CannedResponse, FloorConfig } from './floor-protocol.js';

function main(): void {
  const file = process.argv[2];
  if (file === undefined) throw new Error('usage: floor-server.js CONFIG.json');
  const cfg = JSON.parse(readFileSync(file, 'utf8')) as FloorConfig;
  const paths = pkiPaths(cfg.serverDataDir);
  const canned = (c: CannedResponse): { status: number; headers: [string, string][]; body: Buffer } =>
    ({ status: c.status, headers: c.headers, body: Buffer.from(c.bodyBase64, 'base64') });
  const create = canned(cfg.create);
  const get = canned(cfg.get);
  const server = createServer({
    key: readFileSync(paths.serverKey), cert: readFileSync(paths.serverCert), ca: readFileSync(paths.caCert),
    requestCert: true, rejectUnauthorized: false, keepAliveTimeout: 65_000,
  });
  server.on('request', (req, res) => {
    const answer = (r: { status: number; headers: [string, string][]; body: Buffer }): void => {
      res.writeHead(r.status, r.headers.flat());
      res.end(r.body);
    };
    if (req.method === 'GET') {
      req.resume();
      req.on('end', () => answer(get));
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        res.writeHead(400, { 'Content-Type': 'text/plain' }).end(`not JSON: ${(e as Error).message}`);
        return;
      }
      answer(create);
    });
  });
  server.listen(0, cfg.host, () => {
    const port = (server.address() as AddressInfo).port;
    writeReadyFile(cfg.dataDir, { pid: process.pid, apiServer: { url: `https://${cfg.host}:${port}`, port, kubeconfig: cfg.kubeconfig } });
  });
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

main();
