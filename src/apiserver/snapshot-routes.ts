// The API server's snapshot paths (admin only: no RBAC rule but system:masters' admits them;
// authorization happened before, in the handler):
// - GET  /trireme/v1/snapshots        this server's snapshots and the other servers' records
// - POST /trireme/v1/snapshots        {name?}: a snapshot now, on this server's store member
// - POST /trireme/v1/snapshots/prune  this server's snapshots beyond the retention removed
// The work is the snapshot service's (src/ops/snapshot), handed in once the server runs it.
// Guarantees: bad bodies are 400s; a server without a snapshot service answers 503 saying so.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TriremeError } from '../errors.js';
import { decodeBody } from './decode-body.js';
import { readBody, sendJson } from './http-util.js';

export const SNAPSHOTS_PATH = '/trireme/v1/snapshots';

export interface SnapshotOps {
  list(): Promise<unknown[]>;
  save(name?: string): Promise<unknown>;
  prune(): Promise<string[]>;
}

export interface SnapshotRoutes {
  serve(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Hands in the service (src/cli wires src/ops/snapshot once the server started it). */
  setOps(ops: SnapshotOps | undefined): void;
}

export function createSnapshotRoutes(): SnapshotRoutes {
  let ops: SnapshotOps | undefined;
  const need = (): SnapshotOps => {
    if (!ops) throw new TriremeError('ServiceUnavailable', 'this server takes no snapshots (trireme apiserver, or a server still starting)');
    return ops;
  };
  return {
    setOps(o) { ops = o; },
    async serve(req, res, path) {
      if (path === SNAPSHOTS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
        sendJson(res, 200, { apiVersion: 'trireme/v1', kind: 'SnapshotList', items: await need().list() });
        return true;
      }
      if (path === SNAPSHOTS_PATH && req.method === 'POST') {
        const body = (decodeBody(req.headers['content-type'], await readBody(req, 64 * 1024)) ?? {}) as { name?: unknown };
        if (body.name !== undefined && typeof body.name !== 'string') throw new TriremeError('BadRequest', `name must be a string, got ${JSON.stringify(body.name)}`);
        sendJson(res, 200, await need().save(body.name));
        return true;
      }
      if (path === `${SNAPSHOTS_PATH}/prune` && req.method === 'POST') {
        sendJson(res, 200, { apiVersion: 'trireme/v1', kind: 'SnapshotPrune', pruned: await need().prune() });
        return true;
      }
      return false;
    },
  };
}
