// The dashboard's static files: the HTML page and its style sheet (strings here), and the two
// browser modules, app.js and rows.js, which are this directory's compiled app.ts and rows.ts
// read from next to this file. Guarantees: `dashboardFile` answers only these four names, with
// their content type; the page holds no cluster data (app.js fetches it with the token).
// Does not: authenticate or set any header beyond the type (the API server's route does).
import { readFile } from 'node:fs/promises';
import { TriremeError } from '../../errors.js';

const HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trireme dashboard</title>
<link rel="stylesheet" href="/dashboard/style.css">
<link rel="icon" href="data:,">
<script type="module" src="/dashboard/app.js"></script>
</head>
<body>
<header>
  <h1>Trireme</h1>
  <span id="summary"></span>
  <span id="updated"></span>
  <button id="signout" type="button">Sign out</button>
</header>
<section id="signin" hidden>
  <h2>Sign in</h2>
  <p id="signin-message"></p>
  <p>Run <code>trireme dashboard</code> and open the address it prints, or paste its token here.</p>
  <form id="signin-form" autocomplete="off">
    <input id="token-input" type="password" autocomplete="off" placeholder="trd1.…" aria-label="dashboard token">
    <button type="submit">Sign in</button>
  </form>
</section>
<main id="main" hidden>
  <section>
    <h2>Servers <small id="cluster-note"></small></h2>
    <table><thead><tr><th>Server</th><th>API</th><th>State</th><th>Store</th><th>Raft index</th><th>Lag</th><th>Leads / detail</th></tr></thead><tbody id="servers"></tbody></table>
    <table class="narrow"><thead><tr><th>Leader lease</th><th>Holder</th><th>Renewed</th><th>Transitions</th></tr></thead><tbody id="leases"></tbody></table>
  </section>
  <section>
    <h2>Nodes <small id="nodes-note"></small></h2>
    <table><thead><tr><th>Node</th><th>Status</th><th>Heartbeat</th><th>Problems</th><th>Scheduling / taints</th></tr></thead><tbody id="nodes"></tbody></table>
  </section>
  <section>
    <h2>Workloads <small id="workloads-note"></small></h2>
    <table><thead><tr><th>Kind</th><th>Namespace</th><th>Name</th><th>Ready</th></tr></thead><tbody id="workloads"></tbody></table>
  </section>
  <section>
    <h2>Recent warnings <small id="warnings-note"></small></h2>
    <table><thead><tr><th>Last seen</th><th>Namespace</th><th>Object</th><th>Reason</th><th>Message</th><th>Count</th></tr></thead><tbody id="warnings"></tbody></table>
  </section>
  <section>
    <h2>Doctor</h2>
    <table><thead><tr><th>Severity</th><th>Subject</th><th>Finding</th><th>Fix</th></tr></thead><tbody id="doctor"></tbody></table>
  </section>
</main>
</body>
</html>
`;

const CSS = `:root { --fg: #1d232a; --muted: #68737d; --line: #dde2e6; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --lead: #0550ae; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, sans-serif; color: var(--fg); background: #f6f8fa; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .6rem 1.2rem; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0; font-size: 1.2rem; }
#summary { font-weight: 600; }
#updated { color: var(--muted); margin-left: auto; }
main, #signin { padding: .4rem 1.2rem 1.2rem; }
section { margin-top: .8rem; }
h2 { font-size: 1rem; margin: .4rem 0; }
h2 small { font-weight: normal; color: var(--warn); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); margin-bottom: .5rem; }
table.narrow { width: auto; min-width: 50%; }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .8rem; text-transform: uppercase; }
td.empty { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem; font-weight: 600; color: #fff; }
.badge.ok { background: var(--ok); }
.badge.bad { background: var(--bad); }
.badge.warn { background: var(--warn); }
.badge.lead { background: var(--lead); }
button { font: inherit; }
input { font: inherit; width: 28rem; max-width: 100%; }
`;

export interface DashboardFile {
  contentType: string;
  body: Buffer;
}

const MODULES = new Set(['app.js', 'rows.js']);

/** The dashboard file at `/dashboard` (name '') or `/dashboard/<name>`; NotFound otherwise. */
export async function dashboardFile(name: string): Promise<DashboardFile> {
  if (name === '') return { contentType: 'text/html; charset=utf-8', body: Buffer.from(HTML) };
  if (name === 'style.css') return { contentType: 'text/css; charset=utf-8', body: Buffer.from(CSS) };
  if (MODULES.has(name)) {
    try {
      return { contentType: 'text/javascript; charset=utf-8', body: await readFile(new URL(`./${name}`, import.meta.url)) };
    } catch (e) {
      throw new TriremeError('Internal', `dashboard module ${name} is missing from the build: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new TriremeError('NotFound', 'the server could not find the requested resource');
}
