// The Logs tab: the count and the list of logs (keyset pages).
import { api } from './api.js';
import { $, cell, copyButton, when } from './dom.js';
import { query } from './state.js';

let cursor = null;

export async function loadLogSummary() {
  $('kpi-logs').textContent = (await api(`/api/logs/summary?${query('logs', {}, false)}`)).totalLogs;
}

export function logRow(l) {
  const tr = document.createElement('tr');
  const id = cell(l.logId, 'id');
  id.append(copyButton(l.logId, `Copy Log ID ${l.logId}`));
  tr.append(id, cell(l.level, `level ${l.level.toLowerCase()}`), cell(l.message, 'message'), cell(when(l.timestamp)));
  return tr;
}

export async function loadLogs(reset) {
  if (reset) { cursor = null; $('logs').replaceChildren(); }
  const page = await api(`/api/logs?${query('logs', { cursor })}`);
  $('logs').append(...page.items.map(logRow));
  cursor = page.nextCursor;
  $('logs-more').hidden = !page.nextCursor;
}
