// The Logs tab: the count in all and per level, the levels over time, and the list of logs (keyset pages), or
// "No logs in the selected period". A log opens the record of its run, at that log.
import { api } from './api.js';
import { byLevelOrder, chartOf, drawLogsTrend, fetchTrend, levelClass } from './charts.js';
import { $, cell, copyButton, when } from './dom.js';
import { List } from './list.js';
import { daemon, query, questionOf, refresh, state } from './state.js';

/** A log as a table row (also the record view's). */
export function logRow(l) {
  const tr = document.createElement('tr');
  const id = cell(l.logId, 'id');
  id.append(copyButton(l.logId, `Copy Log ID ${l.logId}`));
  tr.append(id, cell(l.level, `level ${l.level.toLowerCase()}`), cell(l.message, 'message'), cell(when(l.timestamp)));
  return tr;
}

/** A row of the Logs tab: a click (or Enter) opens the record of the log's run, showing that log. */
function listRow(l) {
  const tr = logRow(l);
  if (daemon.lake) tr.append(cell(l.node));
  tr.tabIndex = 0;
  tr.title = `Open run ${l.runId}`;
  const open = () => { state.run = l.runId; state.log = l.logId; refresh(); };
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.target === tr) open(); });
  return tr;
}

const logs = new List({
  body: $('logs'),
  more: $('logs-more'),
  key: (l) => l.logId,
  row: listRow,
  path: (cursor) => `/api/logs?${query('logs', { cursor })}`,
  empty: 'No logs match the search or filters.',
  columns: () => (daemon.lake ? 5 : 4),
});

const filtered = () => !!state.q || state.filters.logs.conditions.length > 0;

function showSummary(s) {
  const empty = s.totalLogs === 0;
  $('panel-logs').classList.toggle('is-empty', empty);
  $('logs-empty').hidden = !empty;
  $('logs-empty').textContent = filtered()
    ? 'No logs in the selected period match the search or filters.'
    : 'No logs in the selected period';
  $('kpi-logs').textContent = s.totalLogs.toLocaleString();
  $('kpi-levels').replaceChildren(...byLevelOrder(Object.keys(s.byLevel ?? {})).map((level) => {
    const kpi = document.createElement('div');
    kpi.className = `kpi level-kpi ${levelClass(level)}`;
    kpi.title = `${level} logs in the selected period.`;
    kpi.dataset.level = level;
    const label = document.createElement('span');
    label.textContent = level;
    const count = document.createElement('strong');
    count.textContent = s.byLevel[level].toLocaleString();
    kpi.append(label, count);
    return kpi;
  }));
}

/** The tab's metrics, chart and list, as loadRunsTab does for runs. */
export async function loadLogsTab(signal, live = false) {
  const summary = api(`/api/logs/summary?${query('logs', {}, false)}`, signal).then((s) => {
    signal.throwIfAborted();
    showSummary(s);
    return s;
  });
  const trend = (state.range === 'all'
    ? summary.then((s) => fetchTrend('logs', signal, s.firstLogAt, s.lastLogAt))
    : fetchTrend('logs', signal)).then((t) => {
    signal.throwIfAborted();
    drawLogsTrend(chartOf('logs'), t);
  });
  await Promise.all([summary, trend, live ? logs.update(signal) : logs.load(signal, questionOf('logs'))]);
}

/** The next page of logs ("More logs"). */
export const moreLogs = (signal) => logs.next(signal);
