// The monitoring page: built on the query API (/api), state kept in the URL so that a link can be shared. This module
// wires the page (script, period, tabs, tools, live updates); each part lives in its own module under js/.
import { api, cancelled, session, signedOut } from './js/api.js';
import { $, copy } from './js/dom.js';
import { syncFilters, wireFilters } from './js/filters.js';
import { loadLogsTab, moreLogs } from './js/logs.js';
import { loadErrors } from './js/errors.js';
import { closeRun, move, openRun } from './js/record.js';
import { loadRunsTab, moreRuns } from './js/runs.js';
import { loadVersions } from './js/versions.js';
import { TABS, endsNow, listOf, onRefresh, query, readUrl, refresh, state, writeUrl } from './js/state.js';

/** How often a live page asks for what is new (one question at a time, never overlapping). */
const LIVE_EVERY_MS = 5000;
/** The tabs that follow new runs and logs while the period ends now. */
const LIVE_TABS = ['runs', 'logs'];

/** The refresh under way, or the last one: a newer refresh aborts it, and with it its live updates and "More". */
let current = new AbortController();
let liveTimer;
let paused = false;
/** A live update is under way (there is never more than one). */
let updating = false;

/** The tabs the page has (each a button tab-X and a panel panel-X). */
const tabs = () => TABS.filter((t) => $(`tab-${t}`));

async function loadScripts() {
  const scripts = await api('/api/scripts');
  const select = $('script');
  for (const s of scripts) select.add(new Option(`${s.name} (${s.runs})`, s.name));
  if (scripts.length === 0) return showEmpty('No data to display: no script has run yet.');
  if (!scripts.some((s) => s.name === state.script)) state.script = '';
  select.value = state.script;
  if (!state.script) return showEmpty('Select a script to see its runs and logs.');
}

function showEmpty(text) {
  current.abort();
  $('empty').textContent = text;
  $('empty').hidden = false;
  $('workspace').hidden = true;
}

/** A tab's data: All Runs and Logs here; Versions and Top errors in their own modules. */
function loadTab(tab, signal, live) {
  if (tab === 'runs') return loadRunsTab(signal, live);
  if (tab === 'logs') return loadLogsTab(signal, live);
  if (tab === 'versions') return loadVersions(signal);
  if (tab === 'errors') return loadErrors(signal);
  return undefined;
}

function showTabs() {
  if (!tabs().includes(state.tab)) state.tab = 'runs';
  for (const t of tabs()) {
    const selected = t === state.tab;
    $(`tab-${t}`).setAttribute('aria-selected', String(selected));
    $(`tab-${t}`).tabIndex = selected ? 0 : -1;
    const panel = $(`panel-${t}`);
    if (panel) panel.hidden = !selected;
  }
  $('filter-count').textContent = state.filters[listOf(state.tab)].conditions.length;
  // Versions and Top errors are not lists: nothing of theirs to export.
  $('export-csv').hidden = $('export-parquet').hidden = listOf(state.tab) !== state.tab;
  for (const th of document.querySelectorAll('th[data-sort]')) {
    const [field, direction] = state.sort[th.closest('table').dataset.list].split(':');
    th.setAttribute('aria-sort', field !== th.dataset.sort ? 'none' : direction === 'asc' ? 'ascending' : 'descending');
  }
}

async function refreshPage() {
  clearTimeout(liveTimer);
  current.abort();
  const run = (current = new AbortController());
  writeUrl();
  if (!state.script) return;
  $('empty').hidden = true;
  $('workspace').hidden = !!state.run;
  showTabs();
  syncFilters();
  showLive();
  try {
    if (state.run) await openRun(state.run);
    else await loadTab(state.tab, run.signal, false);
  } catch (error) {
    if (run.signal.aborted || cancelled(error)) return;
    $('empty').textContent = `Could not load: ${error.message}`;
    $('empty').hidden = false;
  }
  if (run === current) followLive();
}

// The live page: while the period ends now, the open tab asks again every few seconds (after the last answer, so
// never two at once) and merges what is new; a refresh (any change of the page) starts the cycle again.
const canLive = () => !!state.script && !state.run && endsNow() && LIVE_TABS.includes(state.tab);

function showLive() {
  const on = canLive();
  $('live').hidden = !on;
  $('live-toggle').hidden = !on;
  $('live').textContent = paused ? 'Paused' : 'Live';
  $('live').classList.toggle('paused', paused);
  $('live-toggle').textContent = paused ? 'Resume' : 'Pause';
  $('live-toggle').setAttribute('aria-label', paused ? 'Resume live updates' : 'Pause live updates');
}

function followLive() {
  clearTimeout(liveTimer);
  if (canLive() && !paused) liveTimer = setTimeout(liveUpdate, LIVE_EVERY_MS);
}

async function liveUpdate() {
  clearTimeout(liveTimer);
  const run = current;
  if (updating || !canLive() || paused || run.signal.aborted) return;
  if (!document.hidden) {
    updating = true;
    try {
      await loadTab(state.tab, run.signal, true);
      $('live').title = `Updated at ${new Date().toLocaleTimeString()}`;
    } catch (error) {
      if (run.signal.aborted || cancelled(error)) return;
      $('live').title = `The last update failed: ${error.message}`;
    } finally {
      updating = false;
    }
  }
  if (run === current) followLive();
}

function pauseOrResume() {
  paused = !paused;
  showLive();
  clearTimeout(liveTimer);
  if (!paused) liveUpdate();
}

async function exportList(format) {
  const list = listOf(state.tab);
  const message = $('export-message');
  message.textContent = 'Exporting…';
  try {
    const response = await fetch(`/api/${list}/export?${query(list, { format })}`);
    if (signedOut(response)) return;
    if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? `${response.status}`);
    const name = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? `${list}.${format}`;
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await response.blob());
    link.download = name;
    link.click();
    message.textContent = `Exported ${name}.`;
  } catch (error) {
    message.textContent = `Export failed: ${error.message}`;
  }
}

function selectTab(tab) {
  if (state.tab === tab) return;
  state.tab = tab;
  $('export-message').textContent = '';
  refresh();
}

/** Tabs as the ARIA pattern has them: one tab stop, arrow keys (and Home, End) move along and select. */
function wireTabs() {
  for (const t of tabs()) $(`tab-${t}`).addEventListener('click', () => selectTab(t));
  document.querySelector('[role=tablist]').addEventListener('keydown', (e) => {
    const all = tabs();
    const at = all.indexOf(e.target.id.replace(/^tab-/, ''));
    if (at < 0) return;
    const to = { ArrowRight: (at + 1) % all.length, ArrowLeft: (at - 1 + all.length) % all.length, Home: 0, End: all.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    $(`tab-${all[to]}`).focus();
    selectTab(all[to]);
  });
}

function wireSort() {
  for (const th of document.querySelectorAll('th[data-sort]')) {
    th.tabIndex = 0;
    const sort = () => {
      const list = th.closest('table').dataset.list;
      const [field, direction] = state.sort[list].split(':');
      state.sort[list] = `${th.dataset.sort}:${field === th.dataset.sort && direction === 'desc' ? 'asc' : 'desc'}`;
      refresh();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
  }
}

function wire() {
  $('script').addEventListener('change', (e) => {
    state.script = e.target.value;
    state.run = '';
    state.log = '';
    state.filters = { runs: { op: 'and', conditions: [] }, logs: { op: 'and', conditions: [] } };
    refresh();
  });
  $('range').addEventListener('change', (e) => { state.range = e.target.value; $('custom-range').hidden = state.range !== 'custom'; refresh(); });
  for (const id of ['from', 'to']) $(id).addEventListener('change', (e) => { state[id] = e.target.value; refresh(); });
  wireTabs();
  let typing;
  $('q').addEventListener('input', (e) => { clearTimeout(typing); typing = setTimeout(() => { state.q = e.target.value; refresh(); }, 300); });
  wireFilters();
  $('runs-more').addEventListener('click', () => moreRuns(current.signal).catch(ignoreCancelled));
  $('logs-more').addEventListener('click', () => moreLogs(current.signal).catch(ignoreCancelled));
  wireSort();
  for (const kpi of document.querySelectorAll('.kpi')) {
    kpi.tabIndex = 0;
    kpi.setAttribute('aria-label', `${kpi.querySelector('span').textContent}. ${kpi.title}`);
  }
  $('live-toggle').addEventListener('click', pauseOrResume);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && !paused) liveUpdate(); });
  $('export-csv').addEventListener('click', () => exportList('csv'));
  $('export-parquet').addEventListener('click', () => exportList('parquet'));
  $('record-close').addEventListener('click', closeRun);
  $('record-prev').addEventListener('click', () => move('record-prev'));
  $('record-next').addEventListener('click', () => move('record-next'));
  $('copy-run').addEventListener('click', () => copy($('copy-run'), $('record-id').textContent));
  document.addEventListener('keydown', (e) => {
    if (!state.run || e.target.closest('input, select, textarea')) return;
    if (e.key === 'j' || e.key === 'J') move('record-next');
    if (e.key === 'k' || e.key === 'K') move('record-prev');
    if (e.key === 'Escape') closeRun();
  });
}

function ignoreCancelled(error) {
  if (!cancelled(error)) {
    $('empty').textContent = `Could not load: ${error.message}`;
    $('empty').hidden = false;
  }
}

onRefresh(refreshPage);
readUrl();
$('range').value = state.range;
$('custom-range').hidden = state.range !== 'custom';
$('from').value = state.from;
$('to').value = state.to;
$('q').value = state.q;
wire();
session().then(async (signedIn) => {
  if (!signedIn) return;
  // A script named in the URL: its figures are asked at once, beside the list of scripts.
  const early = state.script ? refresh() : null;
  await loadScripts();
  if (!early && state.script) refresh();
});
