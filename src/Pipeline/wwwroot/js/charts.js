// The trend charts: All Runs (runs and failed runs as bars, P90 and P99 as lines) and Logs (logs per level, stacked
// bars), each with a time axis, value axes, a legend, the details of a bucket on hover (or with the arrow keys), and
// an hour/day switch when the period allows both.
import { answer } from './api.js';
import { $, ms } from './dom.js';
import { period, query, refresh, state } from './state.js';

const NS = 'http://www.w3.org/2000/svg';
const HOUR = 36e5;
const DAY = 864e5;
/** The API answers at most this many buckets per question. */
const MAX_BUCKETS = 10000;
/** A longer period is asked in windows of this many days (whole days, so that no day is split between two). */
const WINDOW_DAYS = 9000;
/** Hourly buckets up to a month (at most 768 of them); daily ones once the period is longer than a day. */
const HOURLY_UP_TO = 32 * DAY;
const HEIGHT = 220;
/** A bar is at least this wide: past that, neighbouring buckets are shown together. */
const MIN_BAR_PX = 4;

/** Which buckets make sense for a period of <span> ms. */
export const bucketsFor = (span) => ({ hour: span <= HOURLY_UP_TO, day: span > DAY });

/**
 * The trend of a list (runs or logs) over the period, with the bucket the API used (its X-Bucket header) and the
 * buckets the period allows. All Time covers the data's own first to last time (<first>, <last>, from the summary),
 * never a fixed start: a store of decades is asked day by day in windows the API accepts, in parallel.
 */
export async function fetchTrend(list, signal, first, last) {
  let [from, to] = period();
  if (state.range === 'all') {
    if (!first || !last) return { points: [], bucket: 'day', allowed: { hour: false, day: false } };
    from = new Date(first);
    to = new Date(new Date(last).getTime() + 1);
  }
  const allowed = bucketsFor(to - from);
  const forced = state.bucket && allowed[state.bucket] ? state.bucket : null;
  const windows = [];
  if ((to - from) / DAY > MAX_BUCKETS && forced !== 'hour') {
    const start = Date.UTC(from.getUTCFullYear(), from.getUTCMonth(), from.getUTCDate());
    for (let at = start; at < to.getTime(); at += WINDOW_DAYS * DAY) {
      windows.push([new Date(Math.max(at, from.getTime())), new Date(Math.min(at + WINDOW_DAYS * DAY, to.getTime())), 'day']);
    }
  } else {
    windows.push([from, to, forced]);
  }
  const answers = await Promise.all(windows.map(([f, t, bucket]) =>
    answer(`/api/${list}/trend?${query(list, { from: f.toISOString(), to: t.toISOString(), bucket }, false)}`, signal)));
  const bucket = answers[0]?.headers.get('X-Bucket') ?? windows[0][2] ?? spacing(answers[0]?.body ?? []);
  const points = windows.length > 1 ? continuous(answers.flatMap((a) => a.body), DAY, EMPTY[list]) : answers[0].body;
  return { points, bucket, allowed };
}

/** An empty bucket of each list's trend. */
const EMPTY = { runs: { runs: 0, failed: 0, p90Ms: null, p99Ms: null }, logs: { total: 0, byLevel: {} } };

/**
 * The buckets of several answers as one run of buckets from the first to the last: the API narrows each window to
 * the data in it, so the days between two windows' data come back as nothing.
 */
function continuous(points, step, empty) {
  if (!points.length) return points;
  const byStart = new Map(points.map((p) => [new Date(p.bucketStart).getTime(), p]));
  const first = Math.min(...byStart.keys());
  const last = Math.max(...byStart.keys());
  const out = [];
  for (let at = first; at <= last; at += step) out.push(byStart.get(at) ?? { bucketStart: new Date(at).toISOString(), ...empty });
  return out;
}

function spacing(points) {
  return points.length > 1 && new Date(points[1].bucketStart) - new Date(points[0].bucketStart) < DAY ? 'hour' : 'day';
}

/** The All Runs chart. */
export function drawRunsTrend(figure, { points, bucket, allowed }) {
  drawChart(figure, {
    points, bucket, allowed,
    title: 'Runs',
    bars: [
      { label: 'Runs', cls: 'runs', value: (p) => p.runs },
      { label: 'Failed', cls: 'failed', value: (p) => p.failed },
    ],
    lines: [
      { label: 'P90', cls: 'p90', value: (p) => p.p90Ms },
      { label: 'P99', cls: 'p99', value: (p) => p.p99Ms },
    ],
    merge: (group) => ({
      bucketStart: group[0].bucketStart,
      runs: sum(group, (p) => p.runs),
      failed: sum(group, (p) => p.failed),
      p90Ms: highest(group, (p) => p.p90Ms),
      p99Ms: highest(group, (p) => p.p99Ms),
    }),
    details: (p, grouped) => [
      ['Runs', p.runs], ['Failed', p.failed],
      [grouped ? `P90 (slowest ${bucket})` : 'P90', ms(p.p90Ms)], [grouped ? `P99 (slowest ${bucket})` : 'P99', ms(p.p99Ms)],
    ],
  });
}

/** The order levels are stacked and listed in: the seed's levels, worst first; others after them. */
export const LEVELS = ['Error', 'Stderr', 'Warning', 'Info', 'Debug', 'Stdout'];

export const byLevelOrder = (levels) => [...levels].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const rank = (level) => (LEVELS.indexOf(level) + LEVELS.length + 1) % (LEVELS.length + 1);

/** A level's class name (its colour). */
export const levelClass = (level) => `level-${String(level).toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

/** The Logs chart: logs per level, stacked. */
export function drawLogsTrend(figure, { points, bucket, allowed }) {
  const levels = byLevelOrder(new Set(points.flatMap((p) => Object.keys(p.byLevel ?? {}))));
  drawChart(figure, {
    points, bucket, allowed,
    title: 'Logs',
    stacked: true,
    bars: levels.map((level) => ({ label: level, cls: levelClass(level), value: (p) => p.byLevel?.[level] ?? 0 })),
    lines: [],
    merge: (group) => {
      const byLevel = {};
      for (const p of group) for (const [level, n] of Object.entries(p.byLevel ?? {})) byLevel[level] = (byLevel[level] ?? 0) + n;
      return { bucketStart: group[0].bucketStart, total: sum(group, (p) => p.total), byLevel };
    },
    details: (p) => [['Total', p.total], ...levels.filter((l) => p.byLevel?.[l]).map((l) => [l, p.byLevel[l]])],
  });
}

const sum = (group, value) => group.reduce((s, p) => s + (value(p) ?? 0), 0);

function highest(group, value) {
  const values = group.map(value).filter((v) => v != null);
  return values.length ? Math.max(...values) : null;
}

/**
 * Draws <spec> in <figure> (built on first use: legend, bucket switch, the SVG and its tooltip, a caption), and
 * again whenever the figure's width changes.
 */
function drawChart(figure, spec) {
  if (!figure.plot) build(figure);
  figure.spec = spec;
  legend(figure, spec);
  bucketSwitch(figure, spec);
  draw(figure);
}

function build(figure) {
  const head = element('div', 'chart-head');
  figure.legend = element('ul', 'legend');
  figure.legend.setAttribute('aria-label', 'Legend');
  figure.switch = element('div', 'bucket-switch');
  figure.switch.setAttribute('role', 'group');
  figure.switch.setAttribute('aria-label', 'Bucket');
  head.append(figure.legend, figure.switch);
  figure.plot = element('div', 'chart-plot');
  figure.svg = document.createElementNS(NS, 'svg');
  figure.svg.setAttribute('role', 'img');
  figure.svg.setAttribute('tabindex', '0');
  figure.svg.setAttribute('aria-label', figure.getAttribute('aria-label') ?? 'Trend');
  figure.tip = element('div', 'chart-tip');
  figure.tip.id = `${figure.id}-tip`;
  figure.tip.setAttribute('role', 'tooltip');
  figure.tip.hidden = true;
  figure.svg.setAttribute('aria-describedby', figure.tip.id);
  figure.plot.append(figure.svg, figure.tip);
  figure.caption = document.createElement('figcaption');
  figure.replaceChildren(head, figure.plot, figure.caption);

  const at = (event) => {
    const layout = figure.layout;
    if (!layout) return -1;
    const box = figure.svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * layout.width - layout.left;
    return x < 0 || x >= layout.plotWidth ? -1 : Math.floor(x / layout.barWidth);
  };
  figure.svg.addEventListener('pointermove', (e) => show(figure, at(e)));
  figure.svg.addEventListener('pointerleave', () => show(figure, -1));
  figure.svg.addEventListener('blur', () => show(figure, -1));
  figure.svg.addEventListener('focus', () => show(figure, Math.max(0, figure.shown ?? 0)));
  figure.svg.addEventListener('keydown', (e) => {
    const last = (figure.layout?.groups.length ?? 0) - 1;
    const now = Math.max(0, figure.shown ?? 0);
    const next = { ArrowLeft: now - 1, ArrowRight: now + 1, Home: 0, End: last, Escape: -1 }[e.key];
    if (next === undefined) return;
    e.preventDefault();
    show(figure, next < 0 && e.key !== 'Escape' ? 0 : Math.min(next, last));
  });
  let width = 0;
  new ResizeObserver(() => {
    const now = Math.round(figure.plot.getBoundingClientRect().width);
    if (now && now !== width && figure.spec) {
      width = now;
      requestAnimationFrame(() => draw(figure));
    }
  }).observe(figure.plot);
}

function legend(figure, spec) {
  const items = [...spec.bars.map((s) => ({ ...s, kind: 'bar' })), ...spec.lines.map((s) => ({ ...s, kind: 'line' }))];
  figure.legend.replaceChildren(...items.map((s) => {
    const li = element('li');
    const swatch = element('span', `swatch swatch-${s.kind} ${s.cls}`);
    swatch.setAttribute('aria-hidden', 'true');
    li.append(swatch, s.label);
    return li;
  }));
}

function bucketSwitch(figure, spec) {
  const both = spec.allowed?.hour && spec.allowed?.day;
  figure.switch.hidden = !both;
  if (!both) return figure.switch.replaceChildren();
  figure.switch.replaceChildren(...[['hour', 'By hour'], ['day', 'By day']].map(([bucket, label]) => {
    const button = element('button');
    button.type = 'button';
    button.textContent = label;
    button.dataset.bucket = bucket;
    button.setAttribute('aria-pressed', String(spec.bucket === bucket));
    button.addEventListener('click', () => {
      if (spec.bucket === bucket) return;
      state.bucket = bucket;
      refresh();
    });
    return button;
  }));
}

/** Neighbouring points shown together once there are more than the plot has room for. */
function groups(points, room, merge) {
  const size = Math.max(1, Math.ceil(points.length / Math.max(1, room)));
  const out = [];
  for (let i = 0; i < points.length; i += size) {
    const group = points.slice(i, i + size);
    out.push({ point: size === 1 ? group[0] : merge(group), first: group[0], last: group.at(-1), size: group.length });
  }
  return { list: out, size };
}

/** Round steps (1, 2, 5 × 10ⁿ) from 0 to at least <max>, about <count> of them. */
function ticks(max, count = 4, integer = true) {
  const raw = Math.max(max, integer ? 1 : Number.EPSILON) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw);
  if (integer) step = Math.max(1, Math.round(step));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const out = [];
  for (let v = 0; v <= top + step / 2; v += step) out.push(v);
  return out;
}

function draw(figure) {
  const spec = figure.spec;
  const svg = figure.svg;
  const width = Math.max(320, Math.round(figure.plot.getBoundingClientRect().width) || 800);
  const margin = { left: 52, right: spec.lines.length ? 64 : 16, top: 18, bottom: 44 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = HEIGHT - margin.top - margin.bottom;
  const { list, size } = groups(spec.points, Math.floor(plotWidth / MIN_BAR_PX), spec.merge);
  const barWidth = plotWidth / Math.max(1, list.length);
  figure.layout = { width, left: margin.left, plotWidth, barWidth, groups: list, size };
  svg.setAttribute('viewBox', `0 0 ${width} ${HEIGHT}`);
  svg.replaceChildren();

  const heights = list.map((g) => spec.bars.reduce((s, b) => (spec.stacked ? s + b.value(g.point) : Math.max(s, b.value(g.point))), 0));
  const left = ticks(Math.max(0, ...heights));
  const y = (v) => margin.top + plotHeight - (v / left.at(-1)) * plotHeight;
  const grid = svgElement('g', { class: 'grid-lines' });
  const leftAxis = svgElement('g', { class: 'axis axis-y' });
  for (const v of left) {
    grid.append(svgElement('line', { x1: margin.left, x2: margin.left + plotWidth, y1: y(v), y2: y(v) }));
    leftAxis.append(svgElement('text', { x: margin.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, v.toLocaleString()));
  }
  leftAxis.append(svgElement('text', { class: 'axis-title', x: 2, y: 10 }, spec.title));
  svg.append(grid, leftAxis);

  const bars = svgElement('g', { class: 'bars' });
  list.forEach((g, i) => {
    let base = 0;
    for (const series of spec.bars) {
      const value = series.value(g.point) ?? 0;
      const from = spec.stacked ? base : 0;
      base += value;
      if (!value) continue;
      bars.append(svgElement('rect', {
        class: `bar ${series.cls}`,
        x: margin.left + i * barWidth + (barWidth > 6 ? 1 : 0), width: Math.max(1, barWidth - (barWidth > 6 ? 2 : 0)),
        y: y(from + value), height: Math.max(0.5, y(from) - y(from + value)),
      }));
    }
  });
  svg.append(bars);

  if (spec.lines.length) {
    const values = list.flatMap((g) => spec.lines.map((l) => l.value(g.point))).filter((v) => v != null);
    const right = ticks(Math.max(0, ...values), 4, false);
    const yr = (v) => margin.top + plotHeight - (v / right.at(-1)) * plotHeight;
    const rightAxis = svgElement('g', { class: 'axis axis-y2' });
    for (const v of right) rightAxis.append(svgElement('text', { x: margin.left + plotWidth + 6, y: yr(v) + 4 }, ms(v)));
    rightAxis.append(svgElement('text', { class: 'axis-title', x: width - 2, y: 10, 'text-anchor': 'end' }, 'Response Time'));
    svg.append(rightAxis);
    for (const line of spec.lines) {
      // A line through the buckets that have a value; a bucket without one (no completed run) breaks it.
      const segments = [[]];
      list.forEach((g, i) => {
        const v = line.value(g.point);
        if (v == null) { if (segments.at(-1).length) segments.push([]); return; }
        segments.at(-1).push([margin.left + (i + 0.5) * barWidth, yr(v)]);
      });
      for (const at of segments.filter((a) => a.length)) {
        if (at.length > 1) svg.append(svgElement('polyline', { class: `line ${line.cls}`, points: at.map((p) => p.join(',')).join(' ') }));
        if (at.length === 1 || barWidth >= 8) for (const [cx, cy] of at) svg.append(svgElement('circle', { class: `dot ${line.cls}`, cx, cy, r: 2.5 }));
      }
    }
  }

  const timeAxis = svgElement('g', { class: 'axis axis-x' });
  const axisY = margin.top + plotHeight;
  timeAxis.append(svgElement('line', { x1: margin.left, x2: margin.left + plotWidth, y1: axisY, y2: axisY }));
  for (const { index, lines } of timeMarks(list, spec.bucket, plotWidth)) {
    const x = margin.left + (index + 0.5) * barWidth;
    timeAxis.append(svgElement('line', { x1: x, x2: x, y1: axisY, y2: axisY + 4 }));
    const anchor = x - margin.left < 24 ? 'start' : margin.left + plotWidth - x < 24 ? 'end' : 'middle';
    const text = svgElement('text', { x, y: axisY + 16, 'text-anchor': anchor });
    lines.forEach((line, n) => text.append(svgElement('tspan', { x, dy: n ? 13 : 0, class: n ? 'second' : 'first' }, line)));
    timeAxis.append(text);
  }
  svg.append(timeAxis);
  figure.hover = svgElement('rect', { class: 'hover', y: margin.top, height: plotHeight, width: barWidth, x: margin.left, visibility: 'hidden' });
  svg.prepend(figure.hover);

  const unit = spec.bucket === 'hour' ? 'hour' : 'day';
  const count = spec.points.length;
  figure.caption.textContent = !list.length ? 'No data in the selected period.'
    : `${count} ${unit}${count === 1 ? '' : 's'}${unit === 'day' ? ' (UTC)' : ''}, ${size > 1 ? `${size} ${unit}s` : `one ${unit}`} a bar. `
      + 'Hover a bar (or focus the chart and use the arrow keys) for its details.';
  show(figure, figure.tip.hidden ? -1 : Math.min(figure.shown ?? -1, list.length - 1));
}

/** Shows the details of bucket <index> in the tooltip (-1: hides it). */
function show(figure, index) {
  const layout = figure.layout;
  const group = layout?.groups[index];
  figure.shown = group ? index : -1;
  if (!group) {
    figure.tip.hidden = true;
    figure.hover?.setAttribute('visibility', 'hidden');
    return;
  }
  const spec = figure.spec;
  figure.hover.setAttribute('x', layout.left + index * layout.barWidth);
  figure.hover.setAttribute('visibility', 'visible');
  const title = element('strong');
  title.textContent = bucketLabel(group, spec.bucket);
  const rows = spec.details(group.point, group.size > 1).map(([label, value]) => {
    const row = element('div');
    const name = element('span');
    name.textContent = `${label}: `;
    const b = element('b');
    b.textContent = value;
    row.append(name, b);
    return row;
  });
  figure.tip.replaceChildren(title, ...rows);
  figure.tip.hidden = false;
  const width = figure.plot.clientWidth;
  const x = ((layout.left + (index + 0.5) * layout.barWidth) / layout.width) * width;
  const tipWidth = figure.tip.offsetWidth;
  const left = x + 12 + tipWidth <= width ? x + 12 : x - 12 - tipWidth;
  figure.tip.style.left = `${Math.max(0, left)}px`;
}

/**
 * The steps of the time axis, finest first: every few hours (local time, as the table shows times), days, months or
 * years. Daily buckets are UTC days (the API's date_trunc), so their marks are UTC dates whatever the time zone.
 */
const STEPS = [
  ...[1, 2, 3, 6, 12].map((n) => ({ span: n * HOUR, hourly: true, key: (d) => Math.floor(localHours(d) / n) })),
  ...[1, 2, 7, 14].map((n) => ({ span: n * DAY, key: (d, utc) => Math.floor(days(d, utc) / n) })),
  ...[1, 3, 6].map((n) => ({ span: n * 30.44 * DAY, monthly: true, key: (d, utc) => Math.floor((year(d, utc) * 12 + month(d, utc)) / n) })),
  ...[1, 2, 5, 10, 20, 50].map((n) => ({ span: n * 365.25 * DAY, yearly: true, key: (d, utc) => Math.floor(year(d, utc) / n) })),
];
const LABEL_PX = 72;
const localHours = (d) => Math.floor((d.getTime() - d.getTimezoneOffset() * 6e4) / HOUR);
const days = (d, utc) => Math.floor((d.getTime() - (utc ? 0 : d.getTimezoneOffset() * 6e4)) / DAY);
const year = (d, utc) => (utc ? d.getUTCFullYear() : d.getFullYear());
const month = (d, utc) => (utc ? d.getUTCMonth() : d.getMonth());

/**
 * Where the time axis has a mark and what it says: at each bar where a step starts (the coarsest step that leaves
 * room for the labels), the time, day, month or year, with the date (or year) below it when that changed.
 */
function timeMarks(list, bucket, width) {
  if (!list.length) return [];
  const utc = bucket !== 'hour';
  const bucketSpan = utc ? DAY : HOUR;
  const total = list.reduce((n, g) => n + g.size, 0) * bucketSpan;
  const room = Math.max(2, Math.floor(width / LABEL_PX));
  const step = STEPS.find((s) => s.span >= bucketSpan * list[0].size && total / s.span <= room && (!s.hourly || !utc)) ?? STEPS.at(-1);
  const zone = utc ? { timeZone: 'UTC' } : {};
  const label = (at) => (step.hourly
    ? [at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' }), at.toLocaleDateString([], { month: 'short', day: 'numeric' })]
    : step.yearly ? [at.toLocaleDateString([], { year: 'numeric', ...zone })]
      : step.monthly ? [at.toLocaleDateString([], { month: 'short', ...zone }), at.toLocaleDateString([], { year: 'numeric', ...zone })]
        : [at.toLocaleDateString([], { month: 'short', day: 'numeric', ...zone }), at.toLocaleDateString([], { year: 'numeric', ...zone })]);
  const marks = [];
  let previous = step.key(new Date(new Date(list[0].first.bucketStart).getTime() - bucketSpan), utc);
  list.forEach((g, index) => {
    const key = step.key(new Date(g.first.bucketStart), utc);
    if (key !== previous) marks.push({ index, at: new Date(g.first.bucketStart) });
    previous = key;
  });
  // A period that starts between two steps, with room before the first mark, gets its start named too.
  if (!marks.length || (marks[0].index * width) / list.length >= LABEL_PX) marks.unshift({ index: 0, at: new Date(list[0].first.bucketStart) });
  // The second line (the date, or the year) only where it changes.
  let shown = null;
  return marks.map(({ index, at }) => {
    const [first, second] = label(at);
    const lines = second && second !== shown ? [first, second] : [first];
    shown = second ?? shown;
    return { index, lines };
  });
}

function bucketLabel(group, bucket) {
  const start = new Date(group.first.bucketStart);
  if (bucket === 'hour') {
    const end = new Date(new Date(group.last.bucketStart).getTime() + HOUR);
    return `${start.toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })} – ${end.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })}`;
  }
  const day = { weekday: 'short', year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' };
  return group.size > 1
    ? `${start.toLocaleDateString([], day)} – ${new Date(group.last.bucketStart).toLocaleDateString([], day)}`
    : start.toLocaleDateString([], day);
}

function element(name, className) {
  const node = document.createElement(name);
  if (className) node.className = className;
  return node;
}

function svgElement(name, attributes, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, v);
  if (text != null) node.textContent = text;
  return node;
}

/** The chart figure of a tab. */
export const chartOf = (tab) => $(`${tab}-chart`);
