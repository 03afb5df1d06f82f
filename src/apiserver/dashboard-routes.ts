// The API server's dashboard paths (authorization happened before, in the handler):
// - GET /dashboard, /dashboard/app.js, /dashboard/rows.js, /dashboard/style.css: the page and
//   its files (src/ops/dashboard/), which hold no cluster data, so anyone may load them;
// - POST /trireme/v1/dashboard/tokens (admins): a read-only dashboard token for the caller,
//   body `{ "ttlSeconds": N }` or none (dashboard-token.ts).
// Guarantees: the page goes out with a Content-Security-Policy that admits only this origin's
// script, style and fetches (no inline script, no framing, no form posts), `nosniff`,
// `no-referrer` and `no-store`; a bad ttl is a 400 and mints nothing.
// Does not: authenticate (the token travels in the Authorization header the page's script sets).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { TriremeError } from '../errors.js';
import { dashboardFile } from '../ops/dashboard/page.js';
import type { UserInfo } from './auth.js';
import { DASHBOARD_TOKEN_PATH, type DashboardTokens } from './dashboard-token.js';
import { decodeBody } from './decode-body.js';
import { readBody, sendJson } from './http-util.js';

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface DashboardRoutes {
  /** Answers `path` when it is one of ours; false otherwise. */
  serve(req: IncomingMessage, res: ServerResponse, path: string, user: UserInfo | undefined): Promise<boolean>;
}

export function createDashboardRoutes(opts: { tokens: DashboardTokens; now: () => number }): DashboardRoutes {
  return {
    async serve(req, res, path, user) {
      if (path === DASHBOARD_TOKEN_PATH && req.method === 'POST') {
        if (!user) throw new TriremeError('Unauthorized', 'Unauthorized');
        const raw = await readBody(req, 4096);
        const body = raw.toString('utf8').trim() === '' ? undefined : decodeBody(req.headers['content-type'], raw) as { ttlSeconds?: unknown };
        const ttl = body?.ttlSeconds;
        if (ttl !== undefined && typeof ttl !== 'number') throw new TriremeError('BadRequest', `ttlSeconds must be a number, got ${JSON.stringify(ttl)}`);
        const minted = opts.tokens.mint(user.name, opts.now(), ttl);
        sendJson(res, 201, { apiVersion: 'trireme/v1', kind: 'DashboardToken', subject: user.name, ...minted });
        return true;
      }
      if (path !== '/dashboard' && !path.startsWith('/dashboard/')) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new TriremeError('MethodNotAllowed', 'the server does not allow this method on the requested resource');
      const file = await dashboardFile(path === '/dashboard' ? '' : path.slice('/dashboard/'.length));
      res.writeHead(200, {
        'Content-Type': file.contentType, 'Content-Length': file.body.length,
        'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer', 'Cache-Control': 'no-store',
      });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    },
  };
}
