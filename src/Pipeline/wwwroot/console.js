// The monitoring page: built on the query API (/api), state kept in the URL so a link can be shared.
const $ = (id) => document.getElementById(id);
const state = {
  script: '', range: 'week', from: '', to: '', tab: 'runs', q: '', op: 'and', conditions: [], run: '',
  sort: { runs: 'executedOn:desc', logs: 'timestamp:desc' },
};
const cursors = { runs: null, logs: null };
let runIds = [];
let live = null;

const RUN_COLUMNS = ['runId', 'status', 'deploymentVersion', 'deploymentId', 'responseTimeMs', 'function', 'sourceType', 'source', 'error', 'script'];
const LOG_COLUMNS = ['logId', 'runId', 'level', 'message', 'script'];
const OPERATORS = ['eq', 'neq', 'in', 'notIn', 'contains', 'notContains', 'gt', 'gte', 'lt', 'lte'];

function readUrl() {
  const p = new URLSearchParams(location.search);
  state.script = p.get('script') ?? '';
  state.range = p.get('range') ?? 'week';
  state.from = p.get('from') ?? '';
  state.to = p.get('to') ?? '';
  state.tab = p.get('tab') === 'logs' ? 'logs' : 'runs';
  state.q = p.get('q') ?? '';
  state.run = p.get('run') ?? '';
  try {
    const filter = JSON.parse(p.get('filter') ?? 'null');
    state.op = filter?.op === 'or' ? 'or' : 'and';
    state.conditions = Array.isArray(filter?.conditions) ? filter.conditions : [];
  } catch { state.conditions = []; }
}

function writeUrl() {
  const p = new URLSearchParams();
  if (state.script) p.set('script', state.script);
  p.set('range', state.range);
  if (state.range === 'custom') { p.set('from', state.from); p.set('to', state.to); }
  if (state.tab !== 'runs') p.set('tab', state.tab);
  if (state.q) p.set('q', state.q);
  if (state.conditions.length) p.set('filter', JSON.stringify({ op: state.op, conditions: state.conditions }));
  if (state.run) p.set('run', state.run);
  history.replaceState(null, '', `${location.pathname}?${p}`);
}

/** The [from, to) instants of the selected range (the seed's default: the last week). */
function period() {
  const now = new Date();
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const today = day(now);
  switch (state.range) {
    case 'today': return [today, now];
    case 'yesterday': return [new Date(today - 864e5), today];
    case 'thisWeek': { const start = new Date(today); start.setDate(today.getDate() - ((today.getDay() + 6) % 7)); return [start, now]; }
    case 'thisMonth': return [new Date(now.getFullYear(), now.getMonth(), 1), now];
    case 'lastMonth': return [new Date(now.getFullYear(), now.getMonth() - 1, 1), new Date(now.getFullYear(), now.getMonth(), 1)];
    case '30d': return [new Date(now - 30 * 864e5), now];
    case '90d': return [new Date(now - 90 * 864e5), now];
    case 'all': return [new Date('2000-01-01T00:00:00Z'), new Date(now.getTime() + 864e5)];
    case 'custom': return [new Date(state.from || now - 7 * 864e5), new Date(state.to || now)];
    default: return [new Date(now - 7 * 864e5), now];
  }
}

function query(list, extra = {}) {
  const [from, to] = period();
  const p = new URLSearchParams({ script: state.script, from: from.toISOString(), to: to.toISOString() });
  if (state.q) p.set('q', state.q);
  if (state.conditions.length) p.set('filter', JSON.stringify({ op: state.op, conditions: state.conditions }));
  if (list) p.set('sort', state.sort[list]);
  for (const [k, v] of Object.entries(extra)) if (v != null) p.set(k, v);
  return p;
}

const SIGN_IN = '/signin.html';

/** A 401 means the session's token is gone (signed out elsewhere, or rotated): back to the sign-in page. */
function signedOut(response) {
  if (response.status === 401) location.assign(SIGN_IN);
  return response.status === 401;
}

async function api(path) {
  const response = await fetch(path);
  if (signedOut(response)) throw new Error('signed out');
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status}`);
  return body;
}

const ms = (v) => (v == null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
const when = (iso) => new Date(iso).toLocaleString();

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

function statusCell(status) {
  const td = document.createElement('td');
  const label = document.createElement('span');
  label.className = `status ${status === 'Success' ? 'ok' : status === 'Failed' ? 'failed' : 'progress'}`;
  label.textContent = status;
  td.append(label);
  return td;
}

function copyButton(text, label) {
  const button = document.createElement('button');
  button.className = 'copy';
  button.textContent = 'Copy';
  button.setAttribute('aria-label', label);
  button.addEventListener('click', (e) => { e.stopPropagation(); navigator.clipboard.writeText(text); button.textContent = 'Copied'; });
  return button;
}

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

async function refresh() {
  writeUrl();
  if (!state.script) return;
  $('empty').hidden = true;
  $('workspace').hidden = !!state.run;
  $('filter-count').textContent = state.conditions.length;
  $('tab-runs').setAttribute('aria-selected', state.tab === 'runs');
  $('tab-logs').setAttribute('aria-selected', state.tab === 'logs');
  $('panel-runs').hidden = state.tab !== 'runs';
  $('panel-logs').hidden = state.tab !== 'logs';
  try {
    if (state.tab === 'runs') await Promise.all([loadSummary(), loadTrend(), loadRuns(true)]);
    else await Promise.all([loadLogSummary(), loadLogs(true)]);
    if (state.run) await openRun(state.run);
  } catch (error) {
    $('empty').textContent = `Could not load: ${error.message}`;
    $('empty').hidden = false;
  }
}

async function loadSummary() {
  const s = await api(`/api/runs/summary?${query()}`);
  $('kpi-total').textContent = s.totalRuns;
  $('kpi-p90').textContent = ms(s.p90Ms);
  $('kpi-p99').textContent = ms(s.p99Ms);
  $('kpi-failure').textContent = s.failureRate == null ? '–' : `${s.failureRate.toFixed(2)}%`;
}

async function loadTrend() {
  const points = await api(`/api/runs/trend?${query()}`);
  const svg = $('chart');
  svg.replaceChildren();
  const max = Math.max(1, ...points.map((p) => p.runs));
  const width = 800 / Math.max(1, points.length);
  points.forEach((p, i) => {
    for (const [value, cls] of [[p.runs, 'bar'], [p.failed, 'bar failed']]) {
      const rect = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      const height = (value / max) * 150;
      rect.setAttribute('x', i * width + 1); rect.setAttribute('width', Math.max(1, width - 2));
      rect.setAttribute('y', 160 - height); rect.setAttribute('height', height);
      rect.setAttribute('class', cls);
      const title = document.createElementNS('http://www.w3.org/2000/svg', 'title');
      title.textContent = `${when(p.bucketStart)}: ${p.runs} runs, ${p.failed} failed, P90 ${ms(p.p90Ms)}, P99 ${ms(p.p99Ms)}`;
      rect.append(title);
      svg.append(rect);
    }
  });
  // P90 and P99 as lines over the bars, on their own scale (the slowest P99 at the top).
  const slowest = Math.max(1, ...points.map((p) => p.p99Ms ?? 0));
  for (const [key, cls] of [['p90Ms', 'p90'], ['p99Ms', 'p99']]) {
    const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    line.setAttribute('class', cls);
    line.setAttribute('points', points.flatMap((p, i) => (p[key] == null ? [] : [`${i * width + width / 2},${160 - (p[key] / slowest) * 150}`])).join(' '));
    svg.append(line);
  }
  const hourly = points.length > 1 && new Date(points[1].bucketStart) - new Date(points[0].bucketStart) < 864e5;
  $('chart-caption').textContent = `${points.length} ${hourly ? 'hours' : 'days'}; bars: runs (grey) and failed (red); lines: P90 (blue) and P99 (dashed, up to ${ms(slowest)})`;
}

async function loadRuns(reset) {
  if (reset) { cursors.runs = null; runIds = []; $('runs').replaceChildren(); }
  const page = await api(`/api/runs?${query('runs', { cursor: cursors.runs })}`);
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
  cursors.runs = page.nextCursor;
  $('runs-more').hidden = !page.nextCursor;
}

async function loadLogSummary() {
  $('kpi-logs').textContent = (await api(`/api/logs/summary?${query()}`)).totalLogs;
}

function logRow(l) {
  const tr = document.createElement('tr');
  const id = cell(l.logId, 'id');
  id.append(copyButton(l.logId, `Copy Log ID ${l.logId}`));
  tr.append(id, cell(l.level, `level ${l.level.toLowerCase()}`), cell(l.message, 'message'), cell(when(l.timestamp)));
  return tr;
}

function noLogs() {
  const tr = document.createElement('tr');
  tr.className = 'none';
  const td = cell('No logs for this run yet.');
  td.colSpan = 4;
  tr.append(td);
  return tr;
}

async function loadLogs(reset) {
  if (reset) { cursors.logs = null; $('logs').replaceChildren(); }
  const page = await api(`/api/logs?${query('logs', { cursor: cursors.logs })}`);
  $('logs').append(...page.items.map(logRow));
  cursors.logs = page.nextCursor;
  $('logs-more').hidden = !page.nextCursor;
}

async function openRun(runId) {
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

function move(button) {
  const target = $(button).dataset.run;
  if (target) { state.run = target; refresh(); }
}

function closeRun() {
  live?.close();
  state.run = '';
  $('record').hidden = true;
  refresh();
}

function filterRow(condition = { column: state.tab === 'logs' ? 'level' : 'status', operator: 'eq', values: [] }) {
  const row = document.createElement('div');
  row.className = 'filter-row';
  const columns = document.createElement('select');
  columns.setAttribute('aria-label', 'Column');
  for (const c of state.tab === 'logs' ? LOG_COLUMNS : RUN_COLUMNS) columns.add(new Option(c, c));
  columns.value = condition.column;
  const operators = document.createElement('select');
  operators.setAttribute('aria-label', 'Operator');
  for (const o of OPERATORS) operators.add(new Option(o, o));
  operators.value = condition.operator;
  const chips = document.createElement('span');
  chips.className = 'chips';
  const values = [...condition.values];
  const input = document.createElement('input');
  input.setAttribute('aria-label', 'Enter value (Tab adds another)');
  input.placeholder = 'Enter value';
  const draw = () => {
    chips.replaceChildren(...values.map((v, i) => {
      const chip = document.createElement('button');
      chip.type = 'button'; chip.className = 'chip'; chip.textContent = `${v} ×`;
      chip.setAttribute('aria-label', `Remove ${v}`);
      chip.addEventListener('click', () => { values.splice(i, 1); draw(); });
      return chip;
    }));
  };
  input.addEventListener('keydown', (e) => {
    if ((e.key === 'Tab' || e.key === 'Enter') && input.value.trim()) {
      e.preventDefault(); values.push(input.value.trim()); input.value = ''; draw();
    }
  });
  const remove = document.createElement('button');
  remove.type = 'button'; remove.textContent = 'Remove'; remove.addEventListener('click', () => row.remove());
  row.read = () => ({ column: columns.value, operator: operators.value, values: input.value.trim() ? [...values, input.value.trim()] : values });
  draw();
  row.append(columns, operators, chips, input, remove);
  return row;
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
  $('script').addEventListener('change', (e) => { state.script = e.target.value; state.run = ''; state.conditions = []; refresh(); });
  $('range').addEventListener('change', (e) => { state.range = e.target.value; $('custom-range').hidden = state.range !== 'custom'; refresh(); });
  for (const id of ['from', 'to']) $(id).addEventListener('change', (e) => { state[id] = e.target.value; refresh(); });
  $('tab-runs').addEventListener('click', () => { state.tab = 'runs'; refresh(); });
  $('tab-logs').addEventListener('click', () => { state.tab = 'logs'; refresh(); });
  let typing;
  $('q').addEventListener('input', (e) => { clearTimeout(typing); typing = setTimeout(() => { state.q = e.target.value; refresh(); }, 300); });
  $('filter-button').addEventListener('click', () => {
    const panel = $('filter-panel');
    panel.hidden = !panel.hidden;
    $('filter-button').setAttribute('aria-expanded', !panel.hidden);
    if (!panel.hidden) {
      $('filter-op').value = state.op;
      $('filter-rows').replaceChildren(...(state.conditions.length ? state.conditions : [undefined]).map((c) => filterRow(c)));
    }
  });
  $('filter-add').addEventListener('click', () => $('filter-rows').append(filterRow()));
  $('filter-clear').addEventListener('click', () => { state.conditions = []; $('filter-rows').replaceChildren(filterRow()); refresh(); });
  $('filter-panel').addEventListener('submit', (e) => {
    e.preventDefault();
    state.op = $('filter-op').value;
    state.conditions = [...$('filter-rows').children].map((r) => r.read()).filter((c) => c.values.length);
    refresh();
  });
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

/** With read tokens on, a browser without a session goes to sign in; with one, it gets a sign-out button. */
async function session() {
  const current = await api('/api/session');
  if (current.authentication && !current.signedIn) {
    location.assign(SIGN_IN);
    return false;
  }
  const button = $('signout');
  button.hidden = !current.authentication;
  button.title = current.name ? `Signed in as ${current.name} (${current.scripts})` : '';
  button.addEventListener('click', async () => {
    await fetch('/api/session', { method: 'DELETE' });
    location.assign(SIGN_IN);
  });
  return true;
}

readUrl();
$('range').value = state.range;
$('custom-range').hidden = state.range !== 'custom';
$('q').value = state.q;
wire();
session().then((signedIn) => (signedIn ? loadScripts().then(refresh) : undefined));
