// The record view of one run: its facts, its trace, its logs (a page at a time, oldest or newest first, searchable, live
// while In Progress), input and output, and J/K to its neighbours.
//
// Every navigation (J/K, back to the list, another run) starts a new generation: the live stream of the run that was
// shown is closed, and answers or events that arrive later for an older generation are dropped, so nothing of one run
// lands in another's view.
import { SIGN_IN, api } from './api.js';
import { $, cell, copy, copyButton, ms } from './dom.js';
import { jsonText, jsonView } from './json.js';
import { query, refresh, state } from './state.js';
import { drawTrace, instant, stamp, traceLogs } from './trace.js';

/** Logs per page. */
const PAGE = 200;
/** How many pages a search for a log to show may read before it gives up (logs sharing its exact timestamp). */
const FIND_PAGES = 5;
/** Bounds of a period open on one side (the API narrows a run's logs to the run's own log window). */
const START_OF_TIME = '2000-01-01T00:00:00Z';
const END_OF_TIME = '2100-01-01T00:00:00Z';

let generation = 0;
let shown = null; // the run on screen: { gen, key, runId, log, record, list }
let live = null; // its live stream while it is In Progress
let order = 'asc'; // the logs' order, kept from run to run

const current = (view, list) => view.gen === generation && view === shown && (!list || view.list === list);

/** Leaves the run shown: its stream closed, its pending answers void. */
function leave() {
  live?.close();
  live = null;
  shown = null;
  return ++generation;
}

/** What makes a record view the same one: a refresh of the page that changes none of it keeps the loaded logs. */
const keyOf = (runId) => JSON.stringify([state.script, runId, state.range, state.from, state.to, state.q, state.filters.runs, state.sort.runs]);

export async function openRun(runId) {
  const key = keyOf(runId);
  if (shown?.key === key && !$('record').hidden) {
    if ((state.log || '') !== shown.log) await showLog(shown, state.log);
    return;
  }
  const gen = leave();
  const logId = state.log || '';
  const wanted = logId ? 'asc' : order;
  try {
    // The record's facts come with its first page of logs, oldest first; a log to show or the newest first need their own.
    const [record, first] = await Promise.all([
      api(`/api/runs/${encodeURIComponent(runId)}?${query('runs', { logsLimit: logId || wanted === 'desc' ? 1 : PAGE })}`),
      logId ? findLog(runId, logId) : wanted === 'desc' ? api(logsUrl(runId, { order: 'desc', q: '' })) : null,
    ]);
    if (gen !== generation) return;
    const view = { gen, key, runId, log: logId, record, list: null };
    shown = view;
    render(view);
    if (first?.log) {
      // The record's one log is the run's first: nothing comes before a log shown at that time.
      const done = !record.logs?.length || instant(record.logs[0].timestamp) >= instant(first.log.timestamp);
      setList(view, { order: 'asc', q: '', items: first.items, cursor: first.nextCursor, total: record.logsTotal, earlier: { to: first.log.timestamp, cursor: null, done } });
      highlight(view, first.log.logId);
    } else {
      let page = first ?? { items: record.logs, nextCursor: record.logsNextCursor, total: record.logsTotal };
      if (logId) {
        note(`Log ${logId} is not among this run's logs.`);
        page = await api(logsUrl(runId, { order: 'asc', q: '' }));
        if (gen !== generation) return;
      }
      setList(view, { order: wanted, q: '', items: page.items, cursor: page.nextCursor, total: record.logsTotal ?? page.total });
    }
    if (record.run.status === 'In Progress') follow(view);
  } catch (error) {
    if (gen === generation) throw error;
  }
}

/** Shows the facts of the record: header, facts, trace, input and output (the logs have their own part). */
function render(view) {
  const { record } = view;
  $('record').hidden = false;
  $('record').removeAttribute('aria-busy');
  $('workspace').hidden = true;
  $('record-id').textContent = record.run.runId;
  $('record-prev').disabled = !record.prevRunId;
  $('record-next').disabled = !record.nextRunId;
  $('record-prev').dataset.run = record.prevRunId ?? '';
  $('record-next').dataset.run = record.nextRunId ?? '';
  $('record-q').value = '';
  $('record-order').value = view.log ? 'asc' : order;
  note('');
  facts(view);
}

/** The parts that change when an In Progress run completes: its facts, trace, input and output. */
function facts(view) {
  const { record } = view;
  const r = record.run;
  const meta = $('record-meta');
  meta.replaceChildren();
  for (const [k, v] of [['Status', r.status], ['Deployment Version', r.deploymentVersion], ['Response Time', ms(r.responseTimeMs)],
    ['Function', r.function], ['Executed On', stamp(r.executedOn)], ['Source Type', r.sourceType], ['Source', r.source], ['Error', r.error]]) {
    if (v == null) continue;
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    if (k === 'Status') { dd.className = 'record-status'; dd.replaceChildren(...statusTag(v)); }
    if (k === 'Error') dd.className = 'record-error';
    meta.append(dt, dd);
  }
  $('record-input').replaceChildren(jsonView(record.input));
  $('record-output').replaceChildren(jsonView(record.output));
  drawTrace($('record-trace'), {
    run: r, spans: record.spans ?? [], spansTotal: record.spansTotal, logs: view.list?.items ?? record.logs ?? [],
    onLog: (logId) => highlight(view, logId),
  });
}

function statusTag(status) {
  const tag = document.createElement('span');
  tag.className = `status ${status === 'Success' ? 'ok' : status === 'Failed' ? 'failed' : 'progress'}`;
  tag.textContent = status;
  return [tag];
}

// ---- The run's logs: a window of them in the chosen order, paged by cursor ----

/** The run's logs in <order> (asc or desc), searched by <q>; from/to left out: the run's whole log window. */
function logsUrl(runId, { order: by, q }, extra = {}) {
  const p = new URLSearchParams({ script: state.script, runId, sort: `timestamp:${by}`, limit: PAGE });
  if (q) p.set('q', q);
  for (const [k, v] of Object.entries(extra)) if (v != null) p.set(k, v);
  return `/api/logs?${p}`;
}

/**
 * The page of logs that starts with the log <logId>: the log itself by its id (an exact filter, one row), then the
 * run's logs oldest first from its timestamp on. Two reads of one page each, within the run's log window, however many
 * logs the run has (paging oldest first until it turns up would read up to the whole run); the logs before it load on
 * demand ("Load earlier logs").
 */
async function findLog(runId, logId) {
  const filter = JSON.stringify({ op: 'and', conditions: [{ column: 'logId', operator: 'eq', values: [logId] }] });
  const hits = (await api(logsUrl(runId, { order: 'asc', q: '' }, { filter, limit: 5 }))).items;
  const found = hits.find((l) => l.logId === logId) ?? hits[0];
  if (!found) return null;
  const bounds = { from: found.timestamp, to: END_OF_TIME };
  const items = [];
  let cursor = null;
  for (let i = 0; i < FIND_PAGES; i++) {
    const page = await api(logsUrl(runId, { order: 'asc', q: '' }, { ...bounds, cursor }));
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor || page.items.some((l) => l.logId === found.logId)) break;
  }
  return { log: found, items, nextCursor: cursor };
}

/**
 * Shows a list of logs: <items> in <order>, <cursor> for the next page in that order, <total> logs in all (that
 * match <q>), and <earlier> when the window starts inside the run (the logs before <earlier.to> load on demand).
 */
function setList(view, { order: by, q, items, cursor, total, earlier = null }) {
  const list = { order: by, q, items: [], seen: new Set(), cursor, total: total ?? items.length, earlier, loading: false };
  view.list = list;
  $('record-logs').replaceChildren();
  add(view, list, items, 'end');
  controls(view, list);
  return list;
}

function add(view, list, items, where) {
  const fresh = items.filter((l) => !list.seen.has(l.logId));
  for (const l of fresh) list.seen.add(l.logId);
  const rows = fresh.map(row);
  const body = $('record-logs');
  body.querySelector('.none')?.remove();
  if (where === 'start') { list.items.unshift(...fresh); body.prepend(...rows); } else { list.items.push(...fresh); body.append(...rows); }
  if (list.items.length === 0) body.replaceChildren(noLogs(list));
  traceLogs(list.items);
  return fresh.length;
}

function row(l) {
  const tr = document.createElement('tr');
  tr.dataset.log = l.logId;
  const id = cell(l.logId, 'id');
  id.append(copyButton(l.logId, `Copy Log ID ${l.logId}`));
  const time = cell(stamp(l.timestamp), 'time');
  time.title = l.timestamp;
  tr.append(id, cell(l.level, `level ${String(l.level).toLowerCase()}`), cell(l.message, 'message'), time);
  return tr;
}

function noLogs(list) {
  const tr = document.createElement('tr');
  tr.className = 'none';
  const td = cell(list.q ? `No logs of this run match “${list.q}”.` : 'No logs for this run yet.');
  td.colSpan = 4;
  tr.append(td);
  return tr;
}

function controls(view, list) {
  const shownCount = list.items.length;
  const total = Math.max(list.total, shownCount);
  $('record-count').textContent = `${shownCount.toLocaleString()} of ${total.toLocaleString()} ${total === 1 ? 'log' : 'logs'}${list.q ? ` matching “${list.q}”` : ''}`;
  $('record-more').hidden = !list.cursor;
  $('record-more').disabled = list.loading;
  $('record-earlier').hidden = !list.earlier || list.earlier.done;
  $('record-earlier').disabled = list.loading;
}

/** The next page in the list's order. */
async function more() {
  const view = shown;
  const list = view?.list;
  if (!list?.cursor || list.loading) return;
  list.loading = true;
  controls(view, list);
  try {
    const page = await api(logsUrl(view.runId, list, { cursor: list.cursor }));
    if (!current(view, list)) return;
    add(view, list, page.items, 'end');
    list.cursor = page.nextCursor;
  } finally {
    list.loading = false;
    if (current(view, list)) controls(view, list);
  }
}

/** The page before the window's first log (a window opened at a log to show). */
async function earlier() {
  const view = shown;
  const list = view?.list;
  if (!list?.earlier || list.earlier.done || list.loading) return;
  list.loading = true;
  controls(view, list);
  try {
    const { to, cursor } = list.earlier;
    const page = await api(logsUrl(view.runId, { order: 'desc', q: list.q }, { from: START_OF_TIME, to, cursor }));
    if (!current(view, list)) return;
    const first = $('record-logs').firstElementChild;
    const top = first?.getBoundingClientRect().top;
    add(view, list, [...page.items].reverse(), 'start');
    if (first && top != null) $('record-log-scroll').scrollTop += first.getBoundingClientRect().top - top; // the rows in view stay where they were
    list.earlier = { to, cursor: page.nextCursor, done: !page.nextCursor };
  } finally {
    list.loading = false;
    if (current(view, list)) controls(view, list);
  }
}

/** Reloads the list from its start: another order or another search. The rows shown stay until the new ones come. */
async function reload(view, by, q) {
  const ticket = {};
  view.reloading = ticket;
  $('record-count').textContent = 'Loading…';
  try {
    const page = await api(logsUrl(view.runId, { order: by, q }));
    if (!current(view) || view.reloading !== ticket) return;
    setList(view, { order: by, q, items: page.items, cursor: page.nextCursor, total: page.total });
  } catch (error) {
    if (current(view) && view.reloading === ticket) $('record-count').textContent = `Could not load the logs: ${error.message}`;
  }
}

/** Scrolls to a log of the list and marks it. */
function highlight(view, logId) {
  if (!current(view)) return false;
  for (const tr of $('record-logs').querySelectorAll('tr.target')) { tr.classList.remove('target'); tr.removeAttribute('aria-current'); }
  const tr = $('record-logs').querySelector(`tr[data-log="${CSS.escape(logId)}"]`);
  if (!tr) return false;
  tr.classList.add('target');
  tr.setAttribute('aria-current', 'true');
  tr.scrollIntoView({ block: 'center' });
  return true;
}

/** Shows another log of the run on screen: in the list already, or in a window that starts at it. */
async function showLog(view, logId) {
  view.log = logId || '';
  if (!logId || highlight(view, logId)) return;
  const found = await findLog(view.runId, logId);
  if (!current(view)) return;
  if (!found) { note(`Log ${logId} is not among this run's logs.`); return; }
  order = 'asc';
  $('record-order').value = 'asc';
  $('record-q').value = '';
  setList(view, { order: 'asc', q: '', items: found.items, cursor: found.nextCursor, total: view.record.logsTotal, earlier: { to: found.log.timestamp, cursor: null } });
  highlight(view, found.log.logId);
}

function note(text) {
  $('record-note').textContent = text;
  $('record-note').hidden = !text;
}

// ---- Live: the logs of an In Progress run as they arrive, and its completion in place ----

function follow(view) {
  live?.close();
  const source = new EventSource(`/api/runs/${encodeURIComponent(view.runId)}/logs/stream?script=${encodeURIComponent(state.script)}`);
  live = source;
  $('record-live').hidden = false;
  const mine = () => live === source && current(view);
  let counting = null;
  source.addEventListener('log', (e) => {
    if (!mine()) { source.close(); return; }
    const list = view.list;
    const l = JSON.parse(e.data);
    if (list.seen.has(l.logId)) return;
    // The stream starts with every log the run has: only those that belong in the window shown are added; the count
    // is asked again once the burst is over.
    if (matches(l, list.q) && belongs(list, l)) {
      add(view, list, [l], list.order === 'asc' ? 'end' : 'start');
      controls(view, list);
    }
    counting ??= setTimeout(() => { counting = null; recount(view, list); }, 1000);
  });
  source.addEventListener('end', () => {
    source.close();
    if (!mine()) return;
    live = null;
    $('record-live').hidden = true;
    complete(view);
  });
  source.addEventListener('timeout', () => { source.close(); if (mine()) follow(view); });
  source.addEventListener('unauthorized', () => { source.close(); if (mine()) location.assign(SIGN_IN); });
}

/** A log of the stream belongs on screen when the window reaches the end it would join. */
function belongs(list, l) {
  const complete = !list.cursor && (!list.earlier || list.earlier.done);
  if (list.order === 'asc') return !list.cursor && (complete || list.items.length === 0 || instant(l.timestamp) >= instant(list.items[list.items.length - 1].timestamp));
  return complete || list.items.length === 0 || instant(l.timestamp) >= instant(list.items[0].timestamp);
}

/** The search of /api/logs: a log whose id, run id or message contains the text (any case). */
function matches(l, q) {
  if (!q) return true;
  const text = q.toLowerCase();
  return [l.logId, l.runId, l.message].some((v) => String(v ?? '').toLowerCase().includes(text));
}

async function recount(view, list) {
  if (!current(view, list)) return;
  const page = await api(logsUrl(view.runId, list, { limit: 1 })).catch(() => null);
  if (!page || !current(view, list)) return;
  list.total = page.total;
  controls(view, list);
}

/** The run span landed: its status, response time, output, error and trace, in place; the logs loaded stay. */
async function complete(view) {
  const record = await api(`/api/runs/${encodeURIComponent(view.runId)}?${query('runs', { logsLimit: 1 })}`).catch(() => null);
  if (!record || !current(view)) return;
  view.record = record;
  facts(view);
  $('record-prev').disabled = !record.prevRunId;
  $('record-next').disabled = !record.nextRunId;
  $('record-prev').dataset.run = record.prevRunId ?? '';
  $('record-next').dataset.run = record.nextRunId ?? '';
  recount(view, view.list);
}

// ---- Navigation ----

export function move(button) {
  const target = $(button).dataset.run;
  if (!target) return;
  leave();
  $('record').setAttribute('aria-busy', 'true');
  state.run = target;
  state.log = '';
  refresh();
}

export function closeRun() {
  leave();
  state.run = '';
  state.log = '';
  $('record').hidden = true;
  refresh();
}

// ---- The record view's own controls ----

$('copy-input').addEventListener('click', () => { if (shown) copy($('copy-input'), jsonText(shown.record.input)); });
$('copy-output').addEventListener('click', () => { if (shown) copy($('copy-output'), jsonText(shown.record.output)); });
$('record-more').addEventListener('click', () => { more().catch((error) => { $('record-count').textContent = `Could not load more logs: ${error.message}`; }); });
$('record-earlier').addEventListener('click', () => { earlier().catch((error) => { $('record-count').textContent = `Could not load earlier logs: ${error.message}`; }); });
$('record-order').addEventListener('change', (e) => {
  order = e.target.value;
  if (shown) reload(shown, order, shown.list?.q ?? '');
});
let typing;
$('record-q').addEventListener('input', (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => { if (shown) reload(shown, shown.list?.order ?? order, e.target.value.trim()); }, 300);
});
