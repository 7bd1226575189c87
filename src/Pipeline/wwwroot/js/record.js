// The record view of one run: its facts, logs (live while In Progress), input and output, and J/K to its neighbours.
import { SIGN_IN, api } from './api.js';
import { $, cell, ms, when } from './dom.js';
import { logRow } from './logs.js';
import { query, refresh, state } from './state.js';

let live = null;

function noLogs() {
  const tr = document.createElement('tr');
  tr.className = 'none';
  const td = cell('No logs for this run yet.');
  td.colSpan = 4;
  tr.append(td);
  return tr;
}

export async function openRun(runId) {
  live?.close();
  const record = await api(`/api/runs/${encodeURIComponent(runId)}?${query('runs')}`);
  const r = record.run;
  $('record').hidden = false;
  $('workspace').hidden = true;
  $('record-id').textContent = r.runId;
  const meta = $('record-meta');
  meta.replaceChildren();
  for (const [k, v] of [['Status', r.status], ['Deployment Version', r.deploymentVersion], ['Response Time', ms(r.responseTimeMs)],
    ['Function', r.function], ['Executed On', when(r.executedOn)], ['Source Type', r.sourceType], ['Source', r.source], ['Error', r.error]]) {
    if (v == null) continue;
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    meta.append(dt, dd);
  }
  $('record-logs').replaceChildren(...(record.logs.length ? record.logs.map(logRow) : [noLogs()]));
  $('record-input').replaceChildren(jsonView(record.input));
  $('record-output').replaceChildren(jsonView(record.output));
  $('record-prev').disabled = !record.prevRunId;
  $('record-next').disabled = !record.nextRunId;
  $('record-prev').dataset.run = record.prevRunId ?? '';
  $('record-next').dataset.run = record.nextRunId ?? '';
  $('record-live').hidden = r.status !== 'In Progress';
  if (r.status === 'In Progress') {
    const seen = new Set(record.logs.map((l) => l.logId));
    live = new EventSource(`/api/runs/${encodeURIComponent(runId)}/logs/stream?script=${encodeURIComponent(state.script)}`);
    live.addEventListener('log', (e) => {
      const l = JSON.parse(e.data);
      if (!seen.has(l.logId)) {
        seen.add(l.logId);
        $('record-logs').querySelector('.none')?.remove();
        $('record-logs').append(logRow(l));
      }
    });
    live.addEventListener('end', () => { live.close(); $('record-live').hidden = true; });
    live.addEventListener('unauthorized', () => { live.close(); location.assign(SIGN_IN); });
  }
}

/** A JSON value as a tree: objects and arrays fold open and shut (<details>), scalars as text. */
function jsonView(value, key) {
  const label = key == null ? '' : `${key}: `;
  if (value !== null && typeof value === 'object') {
    const details = document.createElement('details');
    details.open = true;
    const summary = document.createElement('summary');
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    summary.textContent = `${label}${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`;
    details.append(summary, ...entries.map(([k, v]) => jsonView(v, k)));
    return details;
  }
  const line = document.createElement('div');
  line.className = `json ${value === null ? 'null' : typeof value}`;
  line.textContent = `${label}${typeof value === 'string' ? JSON.stringify(value) : String(value ?? 'null')}`;
  return line;
}

export function move(button) {
  const target = $(button).dataset.run;
  if (target) { state.run = target; refresh(); }
}

export function closeRun() {
  live?.close();
  state.run = '';
  $('record').hidden = true;
  refresh();
}
