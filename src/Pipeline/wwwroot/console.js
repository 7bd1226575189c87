// The monitoring page: built on the query API (/api), state kept in the URL so that a link can be shared. This module
// wires the page; each part lives in its own module under js/.
import { api, session, signedOut } from './js/api.js';
import { $ } from './js/dom.js';
import { wireFilters } from './js/filters.js';
import { loadLogSummary, loadLogs } from './js/logs.js';
import { closeRun, move, openRun } from './js/record.js';
import { loadRuns, loadSummary, loadTrend } from './js/runs.js';
import { TABS, listOf, onRefresh, query, readUrl, refresh, state, writeUrl } from './js/state.js';
import { loadErrors } from './js/errors.js';
import { loadVersions } from './js/versions.js';

async function loadScripts() {
  const scripts = await api('/api/scripts');
  const select = $('script');
  for (const s of scripts) select.add(new Option(`${s.name} (${s.runs})`, s.name));
  if (scripts.length === 0) return showEmpty('No data to display: no script has run yet.');
  select.value = state.script;
  if (!state.script) return showEmpty('Select a script to see its runs and logs.');
}

function showEmpty(text) {
  $('empty').textContent = text;
  $('empty').hidden = false;
  $('workspace').hidden = true;
}

async function refreshPage() {
  writeUrl();
  if (!state.script) return;
  $('empty').hidden = true;
  $('workspace').hidden = !!state.run;
  $('filter-count').textContent = state.filters[listOf(state.tab)].conditions.length;
  for (const tab of TABS) {
    $(`tab-${tab}`).setAttribute('aria-selected', state.tab === tab);
    $(`panel-${tab}`).hidden = state.tab !== tab;
  }
  // Versions and Top errors are not lists: nothing of theirs to export.
  $('export-csv').hidden = $('export-parquet').hidden = listOf(state.tab) !== state.tab;
  try {
    if (state.tab === 'runs') await Promise.all([loadSummary(), loadTrend(), loadRuns(true)]);
    else if (state.tab === 'logs') await Promise.all([loadLogSummary(), loadLogs(true)]);
    else if (state.tab === 'versions') await loadVersions();
    else if (state.tab === 'errors') await loadErrors();
    if (state.run) await openRun(state.run);
  } catch (error) {
    $('empty').textContent = `Could not load: ${error.message}`;
    $('empty').hidden = false;
  }
}

async function exportList(format) {
  const list = state.tab;
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

function wire() {
  $('script').addEventListener('change', (e) => { state.script = e.target.value; state.run = ''; state.filters = { runs: { op: 'and', conditions: [] }, logs: { op: 'and', conditions: [] } }; refresh(); });
  $('range').addEventListener('change', (e) => { state.range = e.target.value; $('custom-range').hidden = state.range !== 'custom'; refresh(); });
  for (const id of ['from', 'to']) $(id).addEventListener('change', (e) => { state[id] = e.target.value; refresh(); });
  for (const tab of TABS) $(`tab-${tab}`).addEventListener('click', () => { state.tab = tab; refresh(); });
  let typing;
  $('q').addEventListener('input', (e) => { clearTimeout(typing); typing = setTimeout(() => { state.q = e.target.value; refresh(); }, 300); });
  wireFilters();
  $('runs-more').addEventListener('click', () => loadRuns(false));
  $('logs-more').addEventListener('click', () => loadLogs(false));
  for (const th of document.querySelectorAll('th[data-sort]')) {
    th.tabIndex = 0;
    th.setAttribute('aria-sort', 'none');
    const sort = () => {
      const list = state.tab;
      const [field, direction] = state.sort[list].split(':');
      const next = field === th.dataset.sort && direction === 'desc' ? 'asc' : 'desc';
      state.sort[list] = `${th.dataset.sort}:${next}`;
      for (const other of th.parentElement.children) other.setAttribute('aria-sort', 'none');
      th.setAttribute('aria-sort', next === 'asc' ? 'ascending' : 'descending');
      refresh();
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); sort(); } });
  }
  for (const kpi of document.querySelectorAll('.kpi')) {
    kpi.tabIndex = 0;
    kpi.setAttribute('aria-label', `${kpi.querySelector('span').textContent}. ${kpi.title}`);
  }
  $('export-csv').addEventListener('click', () => exportList('csv'));
  $('export-parquet').addEventListener('click', () => exportList('parquet'));
  $('record-close').addEventListener('click', closeRun);
  $('record-prev').addEventListener('click', () => move('record-prev'));
  $('record-next').addEventListener('click', () => move('record-next'));
  $('copy-run').addEventListener('click', () => navigator.clipboard.writeText($('record-id').textContent));
  document.addEventListener('keydown', (e) => {
    if (!state.run || e.target.closest('input, select, textarea')) return;
    if (e.key === 'j' || e.key === 'J') move('record-next');
    if (e.key === 'k' || e.key === 'K') move('record-prev');
    if (e.key === 'Escape') closeRun();
  });
}

onRefresh(refreshPage);
readUrl();
$('range').value = state.range;
$('custom-range').hidden = state.range !== 'custom';
$('q').value = state.q;
wire();
session().then((signedIn) => (signedIn ? loadScripts().then(refresh) : undefined));
