// The run's trace as a waterfall: the run at the root and its spans below it, each with its start offset, a duration
// bar on one time axis and its status; a span's attributes open on click. The logs loaded in the record view sit on the
// same axis as markers. A failed span is red and shows its error without a click.
import { statusCell } from './dom.js';
import { jsonView } from './json.js';

const KINDS = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const SPAN_STATUS = [['Unset', 'unset'], ['OK', 'ok'], ['Error', 'failed']];

/** An ISO instant as epoch milliseconds with its fraction kept (a Date keeps whole milliseconds only). */
export function instant(iso) {
  const m = /^(.+T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso ?? '');
  if (!m) return Date.parse(iso);
  return Date.parse(`${m[1]}${m[3] ?? 'Z'}`) + (m[2] ? Number(m[2]) * 1000 : 0);
}

/** Local date and time to the millisecond (the logs of one run are often in the same second). */
export function stamp(iso) {
  if (!iso) return '';
  const d = new Date(Math.floor(instant(iso)));
  const p = (n, width = 2) => String(n).padStart(width, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** A length of time, to a precision that fits it. */
export function elapsed(ms) {
  if (ms == null || Number.isNaN(ms)) return '–';
  if (ms === 0) return '0 ms';
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** The error of a failed span: its status message, else the message of its exception event or attribute. */
export function spanError(span) {
  const event = (span.events ?? []).find((e) => e.name === 'exception');
  return span.statusMessage || event?.attributes?.['exception.message'] || span.attributes?.['exception.message'] || 'Error';
}

let trace = null; // what is drawn: { container, run, spans, spansTotal, logs, onLog, axis: [start, end], open: Set of span ids }

/**
 * Draws the waterfall of <run> and its <spans> (at most the first 1,000 of <spansTotal>) into <container>, with
 * <logs> as markers; <onLog>(logId) is called when a marker is clicked.
 */
export function drawTrace(container, { run, spans, spansTotal, logs, onLog }) {
  const open = trace?.container === container && trace.run.runId === run.runId ? trace.open : new Set();
  trace = { container, run, spans, spansTotal: spansTotal ?? spans.length, logs, onLog, open };
  render();
}

/**
 * The logs loaded in the record view changed: the markers move (and the axis, when a log falls outside it), once per
 * frame however many logs arrive.
 */
export function traceLogs(logs) {
  if (!trace) return;
  trace.logs = logs;
  if (trace.pending) return;
  const drawn = trace;
  trace.pending = requestAnimationFrame(() => {
    drawn.pending = 0;
    if (trace !== drawn) return;
    const [start, end] = trace.axis;
    if (trace.logs.some((l) => { const t = instant(l.timestamp); return t < start || t > end; })) render();
    else trace.markers.replaceChildren(...markers(trace.logs));
  });
}

function render() {
  const { container, run, spans, spansTotal, logs } = trace;
  const rows = tree(run, spans);
  const root = rows[0];
  let start = root.start;
  let end = root.durationMs == null ? root.start : root.start + root.durationMs;
  for (const s of rows) { start = Math.min(start, s.start); end = Math.max(end, s.start + (s.durationMs ?? 0)); }
  for (const l of logs) { const t = instant(l.timestamp); start = Math.min(start, t); end = Math.max(end, t); }
  if (end - start < 1) end = start + 1;
  // In Progress, or Failed (a failed run has no response time): the bar reaches the last thing known of the run.
  if (root.durationMs == null) { root.open = true; root.durationMs = end - root.start; }
  trace.axis = [start, end];

  const table = document.createElement('table');
  table.className = 'waterfall';
  table.setAttribute('aria-label', 'Trace of the run');
  const caption = document.createElement('caption');
  caption.textContent = spansTotal > spans.length
    ? `The run and the first ${spans.length.toLocaleString()} of its ${spansTotal.toLocaleString()} spans`
    : `The run and its ${spans.length === 1 ? 'span' : `${spans.length.toLocaleString()} spans`}; click a span for its attributes`;
  const head = document.createElement('thead');
  head.innerHTML = '<tr><th scope="col">Span</th><th scope="col">Start</th><th scope="col" class="timeline">Timeline</th><th scope="col">Duration</th><th scope="col">Status</th></tr>';
  head.querySelector('th.timeline').append(axis(start, end));
  const body = document.createElement('tbody');
  body.append(markerRow(logs));
  for (const row of rows) body.append(...spanRows(row));
  table.append(caption, head, body);
  container.replaceChildren(table);
}

/** The run as the root, then its spans depth first (children by start time); a span whose parent is absent hangs from the run. */
function tree(run, spans) {
  const root = {
    id: '', name: run.function || 'Run', depth: 0, start: instant(run.executedOn), durationMs: run.responseTimeMs,
    runStatus: run.status, failed: run.status === 'Failed', error: run.error, live: run.status === 'In Progress',
  };
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const s of spans) {
    const parent = s.parentSpanId && ids.has(s.parentSpanId) && s.parentSpanId !== s.spanId ? s.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(s);
  }
  const rows = [root];
  const seen = new Set();
  const walk = (parent, depth) => {
    for (const s of (children.get(parent) ?? []).sort((a, b) => instant(a.start) - instant(b.start))) {
      if (seen.has(s.spanId)) continue;
      seen.add(s.spanId);
      rows.push({ id: s.spanId, span: s, name: s.name, depth, start: instant(s.start), durationMs: s.durationMs, failed: s.statusCode === 2 });
      walk(s.spanId, depth + 1);
    }
  };
  walk('', 1);
  return rows;
}

function axis(start, end) {
  const div = document.createElement('div');
  div.className = 'axis';
  const total = end - start;
  const step = niceStep(total / 5);
  for (let t = 0; t <= total + step * 1e-9; t += step) {
    const tick = document.createElement('span');
    tick.className = 'tick';
    tick.style.left = `${(t / total) * 100}%`;
    tick.textContent = elapsed(t).replace('.00 ', ' ');
    div.append(tick);
  }
  return div;
}

function niceStep(rough) {
  const power = 10 ** Math.floor(Math.log10(rough));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
}

const at = (t) => {
  const [start, end] = trace.axis;
  return ((t - start) / (end - start)) * 100;
};

function track(...content) {
  const td = document.createElement('td');
  td.className = 'timeline';
  const div = document.createElement('div');
  div.className = 'track';
  div.append(...content);
  td.append(div);
  return [td, div];
}

function markerRow(logs) {
  const tr = document.createElement('tr');
  tr.className = 'log-markers';
  const name = document.createElement('th');
  name.scope = 'row';
  name.textContent = 'Logs';
  const [timeline, div] = track(...markers(logs));
  trace.markers = div;
  const note = document.createElement('td');
  note.colSpan = 2;
  note.className = 'note';
  note.textContent = 'the logs shown below';
  tr.append(name, document.createElement('td'), timeline, note);
  return tr;
}

function markers(logs) {
  return logs.map((l) => {
    const mark = document.createElement('span');
    mark.className = `marker level ${String(l.level).toLowerCase()}`;
    mark.style.left = `${at(instant(l.timestamp))}%`;
    mark.title = `${stamp(l.timestamp)} ${l.level}: ${l.message}`;
    mark.addEventListener('click', () => trace.onLog?.(l.logId));
    return mark;
  });
}

function spanRows(row) {
  const tr = document.createElement('tr');
  tr.className = `span${row.failed ? ' failed' : ''}${row.id ? '' : ' root'}`;
  if (row.id) tr.dataset.span = row.id;
  const name = document.createElement('th');
  name.scope = 'row';
  name.className = 'name';
  name.style.setProperty('--depth', row.depth);
  const label = document.createElement('span');
  label.textContent = row.name;
  name.append(label);
  const error = row.failed ? (row.span ? spanError(row.span) : row.error) : null;
  if (error) {
    const text = document.createElement('div');
    text.className = 'span-error';
    text.textContent = error;
    name.append(text);
  }
  const offset = document.createElement('td');
  offset.className = 'offset';
  offset.textContent = `+${elapsed(row.start - trace.axis[0])}`;
  const bar = document.createElement('div');
  bar.className = `span-bar${row.live ? ' live' : row.open ? ' open' : ''}`;
  bar.style.left = `${at(row.start)}%`;
  bar.style.width = `${Math.max(0.3, at(row.start + row.durationMs) - at(row.start))}%`;
  bar.title = row.open ? `${row.name}: ${row.live ? 'running' : 'its end is not recorded'}` : `${row.name}: ${elapsed(row.durationMs)}`;
  const [timeline] = track(bar);
  const duration = document.createElement('td');
  duration.className = 'duration';
  duration.textContent = row.live ? 'running' : row.open ? '–' : elapsed(row.durationMs);
  let status;
  if (row.span) {
    const [text, cls] = SPAN_STATUS[row.span.statusCode] ?? SPAN_STATUS[0];
    status = document.createElement('td');
    const tag = document.createElement('span');
    tag.className = `status ${cls}`;
    tag.textContent = text;
    status.append(tag);
  } else {
    status = statusCell(row.runStatus);
  }
  tr.append(name, offset, timeline, duration, status);
  if (!row.span) return [tr];

  // The span's details, a click (or Enter) away.
  const details = document.createElement('tr');
  details.className = 'span-details';
  const cell = document.createElement('td');
  cell.colSpan = 5;
  details.append(cell);
  const toggle = (show) => {
    details.hidden = !show;
    tr.setAttribute('aria-expanded', String(show));
    if (show) { trace.open.add(row.id); if (!cell.firstChild) cell.append(...spanDetails(row.span)); } else trace.open.delete(row.id);
  };
  tr.tabIndex = 0;
  tr.addEventListener('click', () => toggle(details.hidden));
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); toggle(details.hidden); } });
  toggle(trace.open.has(row.id));
  return [tr, details];
}

function spanDetails(s) {
  const dl = document.createElement('dl');
  dl.className = 'meta span-facts';
  for (const [k, v] of [['Span ID', s.spanId], ['Parent Span ID', s.parentSpanId], ['Trace ID', s.traceId], ['Kind', KINDS[s.kind] ?? s.kind],
    ['Start', stamp(s.start)], ['End', stamp(s.end)], ['Duration', elapsed(s.durationMs)], ['Status message', s.statusMessage]]) {
    if (v == null || v === '') continue;
    const dt = document.createElement('dt'); dt.textContent = k;
    const dd = document.createElement('dd'); dd.textContent = v;
    dl.append(dt, dd);
  }
  const parts = [dl];
  const attributes = document.createElement('div');
  attributes.className = 'json-tree';
  attributes.append(s.attributes && Object.keys(s.attributes).length ? jsonView(s.attributes, 'attributes') : Object.assign(document.createElement('div'), { className: 'none', textContent: 'No attributes.' }));
  parts.push(attributes);
  if (s.events?.length) {
    const events = document.createElement('div');
    events.className = 'json-tree';
    events.append(jsonView(s.events, 'events'));
    parts.push(events);
  }
  return parts;
}
