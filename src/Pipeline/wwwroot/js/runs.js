// The All Runs tab: the metrics, the trend, and the list of runs (keyset pages), or "No runs in the selected period".
import { api } from './api.js';
import { chartOf, drawRunsTrend, fetchTrend } from './charts.js';
import { $, cell, copyButton, ms, statusCell, when } from './dom.js';
import { List } from './list.js';
import { daemon, query, questionOf, refresh, state } from './state.js';

const runs = new List({
  body: $('runs'),
  more: $('runs-more'),
  key: (r) => r.runId,
  row: runRow,
  path: (cursor) => `/api/runs?${query('runs', { cursor })}`,
  empty: 'No runs match the search or filters.',
  columns: () => (daemon.lake ? 9 : 8),
});

/** The run ids of the list as shown, in order. */
export const runIds = () => runs.ids();

function runRow(r) {
  const tr = document.createElement('tr');
  tr.tabIndex = 0;
  const id = cell(r.runId, 'id');
  id.append(copyButton(r.runId, `Copy Run ID ${r.runId}`));
  tr.append(id, statusCell(r.status), cell(r.deploymentVersion), cell(ms(r.responseTimeMs)), cell(r.function),
    cell(when(r.executedOn)), cell(r.sourceType), cell(r.source));
  if (daemon.lake) tr.append(cell(r.node));
  const open = () => { state.run = r.runId; state.log = ''; refresh(); };
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === tr) open(); });
  return tr;
}

const filtered = () => !!state.q || state.filters.runs.conditions.length > 0;

function showSummary(s) {
  const empty = s.totalRuns === 0;
  $('panel-runs').classList.toggle('is-empty', empty);
  $('runs-empty').hidden = !empty;
  $('runs-empty').textContent = filtered()
    ? 'No runs in the selected period match the search or filters.'
    : 'No runs in the selected period';
  $('kpi-total').textContent = s.totalRuns.toLocaleString();
  $('kpi-p90').textContent = ms(s.p90Ms);
  $('kpi-p99').textContent = ms(s.p99Ms);
  $('kpi-failure').textContent = s.failureRate == null ? '–' : `${s.failureRate.toFixed(2)}%`;
  // The time to the first figures, for whoever measures the page (its tests do).
  if (!performance.getEntriesByName('kpis-shown').length) performance.mark('kpis-shown');
}

/**
 * The tab's metrics, chart and list. Each part is drawn as soon as its answer comes (the KPIs first), never after
 * <signal> aborted. All Time asks the summary first: its first and last run time bound the chart.
 * With <live>, the list keeps what is shown and merges the newest runs in.
 */
export async function loadRunsTab(signal, live = false) {
  const summary = api(`/api/runs/summary?${query('runs', {}, false)}`, signal).then((s) => {
    signal.throwIfAborted();
    showSummary(s);
    return s;
  });
  const trend = (state.range === 'all'
    ? summary.then((s) => fetchTrend('runs', signal, s.firstRunAt, s.lastRunAt))
    : fetchTrend('runs', signal)).then((t) => {
    signal.throwIfAborted();
    drawRunsTrend(chartOf('runs'), t);
  });
  await Promise.all([summary, trend, live ? runs.update(signal) : runs.load(signal, questionOf('runs'))]);
}

/** The next page of runs ("More runs"). */
export const moreRuns = (signal) => runs.next(signal);
