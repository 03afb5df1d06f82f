// The dashboard's browser module (/dashboard/app.js): signs in with a dashboard token, keeps a
// list + watch feed of nodes, Deployments and Warning events (streaming fetch, resumed from the
// last resourceVersion, listed again on 410 or a stream error, abandoned after WATCH_SILENCE_MS
// without a byte: the server sends a bookmark every 2 s), polls the rest one request at a time
// (the cluster status, which has no watch, every second; node leases, DaemonSets, StatefulSets,
// the doctor less often), and renders rows.ts' rows into the page's tables. Why not a watch
// each: the API server speaks HTTP/1.1, and a browser opens at most 6 connections to one
// server, shared by its tabs; a watch holds one for good. Three streams and one for the polls
// leave room for a relist or a second look.
// Guarantees: the token goes only into the Authorization header of same-origin requests (never
// a cookie or URL the server sees) and lives in sessionStorage (gone with the tab); a 401 signs
// out; all text reaches the page through textContent, never as HTML. Runs in a browser only:
// it touches the DOM through the small typed surface below (the project compiles without the
// DOM library).
import {
  applyWatchEvent, cacheFromList, doctorView, formatAge, leaseRows, nodeRows, serverRows, storeLeader, warningRows, workloadRows,
  type Cache, type DoctorView, type ObjectLike, type WatchEvent,
} from './rows.js';
import type { ClusterStatus } from '../../api/cluster-status.js';
import type { Event, Node } from 'kubernetes-types/core/v1.js';
import type { DaemonSet, Deployment, StatefulSet } from 'kubernetes-types/apps/v1.js';
import type { Lease } from 'kubernetes-types/coordination/v1.js';

interface El {
  textContent: string | null;
  className: string;
  hidden: boolean;
  value: string;
  append(...nodes: (El | string)[]): void;
  replaceChildren(...nodes: (El | string)[]): void;
  setAttribute(name: string, value: string): void;
  addEventListener(type: string, fn: (e: { preventDefault(): void }) => void): void;
}
interface Browser {
  document: { getElementById(id: string): El | null; createElement(tag: string): El };
  sessionStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void; removeItem(k: string): void };
  location: { hash: string; pathname: string; search: string };
  history: { replaceState(state: unknown, title: string, url: string): void };
}
const w = globalThis as unknown as Browser;

const TOKEN_KEY = 'trireme-dashboard-token';
const CLUSTER_PATH = '/trireme/v1/cluster';
const DOCTOR_PATH = '/trireme/v1/cluster/doctor';
const POLL_MS = 1000;
const DOCTOR_EVERY = 15;
const REQUEST_TIMEOUT_MS = 3000;
/** Three missed 2 s bookmarks (src/api/watch-heartbeat.ts). */
const WATCH_SILENCE_MS = 6000;

class Unauthorized extends Error {}

function el(id: string): El {
  const e = w.document.getElementById(id);
  if (!e) throw new Error(`the page has no #${id}`);
  return e;
}

function make(tag: string, text?: string, cls?: string): El {
  const e = w.document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

interface Feed {
  path: string;
  cache: Cache<ObjectLike>;
  /** Set once the first list arrived. */
  listed: boolean;
  error: string | undefined;
}

interface State {
  token: string;
  feeds: Record<'nodes' | 'nodeLeases' | 'deployments' | 'daemonSets' | 'statefulSets' | 'events', Feed>;
  cluster: { status?: ClusterStatus; error?: string; at?: number };
  doctor: DoctorView | undefined;
  stopped: boolean;
}

async function api(state: State, path: string, signal?: AbortSignal): Promise<Response> {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${state.token}`, Accept: 'application/json' }, credentials: 'omit', signal });
  if (r.status === 401) throw new Unauthorized('the server refused the token (expired or not this cluster\'s)');
  return r;
}

async function statusMessage(r: Response): Promise<string> {
  const text = await r.text();
  try {
    return (JSON.parse(text) as { message?: string }).message ?? `HTTP ${r.status}`;
  } catch {
    return `HTTP ${r.status}`;
  }
}

async function getJson<T>(state: State, path: string): Promise<{ code: number; body: T | undefined }> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), REQUEST_TIMEOUT_MS);
  try {
    const r = await api(state, path, ac.signal);
    const text = await r.text();
    let body: T | undefined;
    try {
      body = JSON.parse(text) as T;
    } catch {
      body = undefined;
    }
    return { code: r.status, body };
  } catch (e) {
    if (ac.signal.aborted) throw new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** Reads one watch stream to its end; returns the last resourceVersion, or undefined to list again. */
async function watchOnce(state: State, feed: Feed, rv: string, changed: () => void): Promise<string | undefined> {
  const sep = feed.path.includes('?') ? '&' : '?';
  const ac = new AbortController();
  let silent = false;
  let timer = setTimeout(() => { silent = true; ac.abort(); }, WATCH_SILENCE_MS);
  const heard = () => {
    clearTimeout(timer);
    timer = setTimeout(() => { silent = true; ac.abort(); }, WATCH_SILENCE_MS);
  };
  try {
    const r = await api(state, `${feed.path}${sep}watch=true&allowWatchBookmarks=true&timeoutSeconds=240&resourceVersion=${encodeURIComponent(rv)}`, ac.signal);
    if (r.status !== 200 || !r.body) throw new Error(await statusMessage(r));
    feed.error = undefined;
    changed();
    const reader = r.body.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    let last: string | undefined = rv;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return last;
      heard();
      buf += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        const step = applyWatchEvent(feed.cache, JSON.parse(line) as WatchEvent);
        if (step.kind === 'expired') return undefined;
        if (step.kind === 'error') throw new Error(step.message);
        if (step.resourceVersion) last = step.resourceVersion;
        if (step.kind === 'changed') changed();
      }
      if (state.stopped) return last;
    }
  } catch (e) {
    if (silent) throw new Error(`watch silent for ${WATCH_SILENCE_MS / 1000} s`);
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** List, then watch from the list's resourceVersion, forever: resume after a stream ends, list again after 410 or an error. */
async function runFeed(state: State, feed: Feed, changed: () => void, signOut: (why: string) => void): Promise<void> {
  let rv: string | undefined;
  let backoff = 500;
  while (!state.stopped) {
    try {
      if (rv === undefined) {
        const { code, body } = await getJson<{ items?: ObjectLike[]; metadata?: { resourceVersion?: string }; message?: string }>(state, feed.path);
        if (code !== 200) throw new Error(body?.message ?? `HTTP ${code}`);
        feed.cache = cacheFromList(body?.items ?? []);
        feed.listed = true;
        feed.error = undefined;
        rv = body?.metadata?.resourceVersion ?? '0';
        changed();
      }
      rv = await watchOnce(state, feed, rv, changed);
      backoff = 500;
    } catch (e) {
      if (e instanceof Unauthorized) return signOut(e.message);
      feed.error = message(e);
      // After an error the events in between may be lost or the stream may be from a server
      // that went away: list again rather than trust the old resourceVersion.
      rv = undefined;
      changed();
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 5000);
    }
  }
}

/** One list of a polled feed, replacing its cache. */
async function listOnce(state: State, feed: Feed): Promise<void> {
  const { code, body } = await getJson<{ items?: ObjectLike[]; message?: string }>(state, feed.path);
  if (code !== 200) throw new Error(body?.message ?? `HTTP ${code}`);
  feed.cache = cacheFromList(body?.items ?? []);
  feed.listed = true;
  feed.error = undefined;
}

/**
 * Everything polled, one request at a time (so polls take one of the browser's connections to
 * the server): the cluster status every tick, node leases every 2nd, DaemonSets and
 * StatefulSets every 5th, the doctor every DOCTOR_EVERY-th.
 */
async function pollLoop(state: State, changed: () => void, signOut: (why: string) => void): Promise<void> {
  const f = state.feeds;
  for (let tick = 0; !state.stopped; tick++) {
    const started = Date.now();
    const feeds = [...(tick % 2 === 0 ? [f.nodeLeases] : []), ...(tick % 5 === 0 ? [f.daemonSets, f.statefulSets] : [])];
    try {
      try {
        const { code, body } = await getJson<ClusterStatus & { message?: string }>(state, CLUSTER_PATH);
        if (code === 200 && body) state.cluster = { status: body, at: Date.now() };
        else state.cluster = { ...state.cluster, error: body?.message ?? `HTTP ${code}` };
      } catch (e) {
        if (e instanceof Unauthorized) throw e;
        state.cluster = { ...state.cluster, error: message(e) };
      }
      changed();
      for (const feed of feeds) {
        try {
          await listOnce(state, feed);
        } catch (e) {
          if (e instanceof Unauthorized) throw e;
          feed.error = message(e);
        }
      }
      if (tick % DOCTOR_EVERY === 0) {
        try {
          const { code, body } = await getJson<unknown>(state, DOCTOR_PATH);
          state.doctor = doctorView(code, body);
        } catch (e) {
          if (e instanceof Unauthorized) throw e;
          state.doctor = { state: 'error', message: message(e) };
        }
      }
    } catch (e) {
      return signOut(message(e));
    }
    changed();
    await sleep(Math.max(0, POLL_MS - (Date.now() - started)));
  }
}

function cells(tr: El, values: (string | El)[]): El {
  for (const v of values) {
    const td = make('td');
    if (typeof v === 'string') td.textContent = v;
    else td.append(v);
    tr.append(td);
  }
  return tr;
}

function badge(text: string, cls: string): El {
  return make('span', text, `badge ${cls}`);
}

function emptyRow(cols: number, text: string): El {
  const tr = make('tr');
  const td = make('td', text, 'empty');
  td.setAttribute('colspan', String(cols));
  tr.append(td);
  return tr;
}

function feedNote(feed: Feed): string {
  if (feed.error) return `reconnecting: ${feed.error}`;
  return feed.listed ? '' : 'loading…';
}

const items = <T>(f: Feed): T[] => [...f.cache.values()] as unknown as T[];

function render(state: State): void {
  const now = Date.now();
  const { status, error, at } = state.cluster;

  const servers = el('servers');
  const leases = el('leases');
  if (status) {
    const rows = serverRows(status);
    servers.replaceChildren(...(rows.length === 0 ? [emptyRow(7, 'no server published')] : rows.map((r) => {
      const tr = make('tr');
      tr.setAttribute('data-server', r.name);
      tr.setAttribute('data-state', r.state);
      tr.setAttribute('data-store-role', r.storeRole);
      return cells(tr, [
        r.name, r.api ?? '-', badge(r.state, r.state === 'up' ? 'ok' : r.state === 'down' ? 'bad' : 'warn'),
        r.storeRole === 'leader' ? badge('leader', 'lead') : r.storeRole,
        r.raftIndex === undefined ? '-' : String(r.raftIndex), r.lag === undefined ? '-' : String(r.lag),
        r.leads.join(', ') || (r.detail ?? ''),
      ]);
    })));
    leases.replaceChildren(...leaseRows(status, now).map((l) => {
      const tr = make('tr');
      tr.setAttribute('data-lease', l.name);
      tr.setAttribute('data-holder-server', l.holderServer ?? '');
      return cells(tr, [l.name, l.holder ?? 'no holder', formatAge(l.renewedAgeSeconds), l.transitions === undefined ? '-' : String(l.transitions)]);
    }));
    const leader = storeLeader(status);
    el('summary').textContent = `store ${status.store.backend}${leader ? `, leader ${leader}` : status.store.members.length > 0 ? ', no leader' : ''}` +
      `${status.store.error ? ` (${status.store.error})` : ''}${status.answeredBy ? `, answered by ${status.answeredBy}` : ''}`;
  }
  el('cluster-note').textContent = error
    ? `cluster status: ${error}${at ? ` (last answer ${formatAge((now - at) / 1000)} ago)` : ''}`
    : status ? '' : 'loading…';

  const f = state.feeds;
  const nodes = nodeRows(items<Node>(f.nodes), items<Lease>(f.nodeLeases), now);
  el('nodes').replaceChildren(...(nodes.length === 0 ? [emptyRow(5, f.nodes.listed ? 'no nodes' : 'loading…')] : nodes.map((n) => {
    const tr = make('tr');
    tr.setAttribute('data-node', n.name);
    tr.setAttribute('data-ready', n.ready);
    return cells(tr, [
      n.name, badge(n.ready === 'True' ? 'Ready' : n.ready === 'False' ? 'NotReady' : 'Unknown', n.ready === 'True' ? 'ok' : 'bad'),
      formatAge(n.heartbeatAgeSeconds), n.problems.join(', ') || '-',
      [n.schedulable ? '' : 'SchedulingDisabled', ...n.taints].filter(Boolean).join(', ') || '-',
    ]);
  })));
  el('nodes-note').textContent = feedNote(f.nodes) || feedNote(f.nodeLeases);

  const workloads = workloadRows(items<Deployment>(f.deployments), items<DaemonSet>(f.daemonSets), items<StatefulSet>(f.statefulSets));
  el('workloads').replaceChildren(...(workloads.length === 0 ? [emptyRow(4, f.deployments.listed ? 'no workloads' : 'loading…')] : workloads.map((r) => {
    const tr = make('tr');
    tr.setAttribute('data-workload', `${r.kind}/${r.namespace}/${r.name}`);
    tr.setAttribute('data-ready', `${r.ready}/${r.desired}`);
    return cells(tr, [r.kind, r.namespace, r.name, badge(`${r.ready}/${r.desired}`, r.ok ? 'ok' : 'bad')]);
  })));
  el('workloads-note').textContent = feedNote(f.deployments) || feedNote(f.daemonSets) || feedNote(f.statefulSets);

  const warnings = warningRows(items<Event>(f.events), now);
  el('warnings').replaceChildren(...(warnings.length === 0 ? [emptyRow(6, f.events.listed ? 'no warnings' : 'loading…')] : warnings.map((r) => {
    const tr = make('tr');
    tr.setAttribute('data-reason', r.reason);
    return cells(tr, [formatAge(r.lastSeenAgeSeconds), r.namespace || '-', r.object, r.reason, r.message, String(r.count)]);
  })));
  el('warnings-note').textContent = feedNote(f.events);

  const d = state.doctor;
  const doctor = el('doctor');
  if (!d) doctor.replaceChildren(emptyRow(4, 'loading…'));
  else if (d.state === 'unavailable') doctor.replaceChildren(emptyRow(4, 'doctor not available on this server'));
  else if (d.state === 'error') doctor.replaceChildren(emptyRow(4, `doctor: ${d.message}`));
  else if (d.findings.length === 0) doctor.replaceChildren(emptyRow(4, 'no single point of failure found'));
  else {
    doctor.replaceChildren(...d.findings.map((x) => {
      const tr = make('tr');
      tr.setAttribute('data-finding', x.id);
      return cells(tr, [badge(x.severity, /^(critical|error)$/i.test(x.severity) ? 'bad' : 'warn'), x.subject, x.message, x.fix]);
    }));
  }
  el('updated').textContent = at ? `updated ${new Date(at).toLocaleTimeString()}` : '';
}

function start(token: string): void {
  const feed = (path: string): Feed => ({ path, cache: new Map(), listed: false, error: undefined });
  const state: State = {
    token,
    feeds: {
      nodes: feed('/api/v1/nodes'),
      nodeLeases: feed('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases'),
      deployments: feed('/apis/apps/v1/deployments'),
      daemonSets: feed('/apis/apps/v1/daemonsets'),
      statefulSets: feed('/apis/apps/v1/statefulsets'),
      events: feed('/api/v1/events?fieldSelector=type%3DWarning'),
    },
    cluster: {},
    doctor: undefined,
    stopped: false,
  };
  // Renders are coalesced: a burst of watch events costs one.
  let pending: ReturnType<typeof setTimeout> | undefined;
  const changed = () => {
    if (pending !== undefined || state.stopped) return;
    pending = setTimeout(() => {
      pending = undefined;
      render(state);
    }, 50);
  };
  const ticker = setInterval(changed, 1000);
  const signOut = (why: string) => {
    if (state.stopped) return;
    state.stopped = true;
    clearInterval(ticker);
    w.sessionStorage.removeItem(TOKEN_KEY);
    showSignIn(why);
  };
  el('signout').addEventListener('click', () => signOut('signed out'));
  el('signin').hidden = true;
  el('main').hidden = false;
  for (const f of [state.feeds.nodes, state.feeds.deployments, state.feeds.events]) void runFeed(state, f, changed, signOut);
  void pollLoop(state, changed, signOut);
  render(state);
}

function showSignIn(why: string): void {
  el('main').hidden = true;
  el('signin').hidden = false;
  el('signin-message').textContent = why;
}

function main(): void {
  // `trireme dashboard` prints …/dashboard#token=…: the fragment never reaches a server; take it
  // and drop it from the address bar and history entry.
  const m = /(?:^#|&)token=([^&]+)/.exec(w.location.hash);
  if (m) {
    w.sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]!));
    w.history.replaceState(null, '', `${w.location.pathname}${w.location.search}`);
  }
  el('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = el('token-input');
    const token = input.value.trim();
    input.value = '';
    if (token === '') return showSignIn('paste a token from `trireme dashboard`');
    w.sessionStorage.setItem(TOKEN_KEY, token);
    start(token);
  });
  const token = w.sessionStorage.getItem(TOKEN_KEY);
  if (token) start(token);
  else showSignIn('sign in with a token from `trireme dashboard`');
}

main();
