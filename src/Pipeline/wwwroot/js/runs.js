// The All Runs tab: the metrics, the trend, and the list of runs (keyset pages).
import { api } from './api.js';
import { drawTrend } from './charts.js';
import { $, cell, copyButton, ms, statusCell, when } from './dom.js';
import { query, refresh, state } from './state.js';

let cursor = null;

/** The run ids of the list as shown, in order. */
export const runIds = [];

export async function loadSummary() {
  const s = await api(`/api/runs/summary?${query('runs', {}, false)}`);
  $('kpi-total').textContent = s.totalRuns;
  $('kpi-p90').textContent = ms(s.p90Ms);
  $('kpi-p99').textContent = ms(s.p99Ms);
  $('kpi-failure').textContent = s.failureRate == null ? '–' : `${s.failureRate.toFixed(2)}%`;
}

export async function loadTrend() {
  drawTrend(await api(`/api/runs/trend?${query('runs', {}, false)}`));
}

export async function loadRuns(reset) {
  if (reset) { cursor = null; runIds.length = 0; $('runs').replaceChildren(); }
  const page = await api(`/api/runs?${query('runs', { cursor })}`);
  for (const r of page.items) {
    runIds.push(r.runId);
    const tr = document.createElement('tr');
    tr.tabIndex = 0;
    const id = cell(r.runId, 'id');
    id.append(copyButton(r.runId, `Copy Run ID ${r.runId}`));
    tr.append(id, statusCell(r.status), cell(r.deploymentVersion), cell(ms(r.responseTimeMs)), cell(r.function),
      cell(when(r.executedOn)), cell(r.sourceType), cell(r.source));
    const open = () => { state.run = r.runId; refresh(); };
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
    $('runs').append(tr);
  }
  cursor = page.nextCursor;
  $('runs-more').hidden = !page.nextCursor;
}
