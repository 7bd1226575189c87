// The page's state, kept in the URL so that a link can be shared: script, period, tab, search, each list's own
// filters and sort, the open run (and the log to show in it).
const DEFAULT_SORT = { runs: 'executedOn:desc', logs: 'timestamp:desc' };

export const TABS = ['runs', 'logs', 'versions', 'errors'];

export const state = {
  script: '', range: 'week', from: '', to: '', tab: 'runs', q: '', run: '', log: '',
  // The chart's bucket when the user picked one (hour or day); empty: the API's choice for the period.
  bucket: '',
  // Each list has its own filter set: a run filter means nothing to logs. Versions and Top errors use the runs' one.
  filters: { runs: { op: 'and', conditions: [] }, logs: { op: 'and', conditions: [] } },
  sort: { ...DEFAULT_SORT },
};

/** The list whose filters and sort a tab uses. */
export const listOf = (tab) => (tab === 'logs' ? 'logs' : 'runs');

/**
 * The columns a list can be filtered on (every column but the time, as the seed says), with the page's own labels.
 * A column is text (free), a number, or an enumeration; <values> says the API lists the values that exist in the
 * period (/api/runs/values, /api/logs/values) for a pick-list.
 */
export const COLUMNS = {
  runs: [
    { name: 'runId', label: 'Run ID', type: 'text' },
    { name: 'status', label: 'Status', type: 'enum', values: true },
    { name: 'deploymentVersion', label: 'Deployment Version', type: 'number', values: true },
    { name: 'deploymentId', label: 'Deployment ID', type: 'text' },
    { name: 'responseTimeMs', label: 'Response Time', type: 'number', unit: 'ms' },
    { name: 'function', label: 'Function', type: 'enum', values: true },
    { name: 'sourceType', label: 'Source Type', type: 'enum', values: true },
    { name: 'source', label: 'Source', type: 'enum', values: true },
    { name: 'error', label: 'Error', type: 'text' },
    // Top errors' groups (the error with numbers and ids masked): compared whole, as the group's click-through does.
    { name: 'errorGroup', label: 'Error group', type: 'enum' },
    { name: 'script', label: 'Script', type: 'text' },
  ],
  logs: [
    { name: 'logId', label: 'Log ID', type: 'text' },
    { name: 'runId', label: 'Run ID', type: 'text' },
    { name: 'level', label: 'Log level', type: 'enum', values: true },
    { name: 'message', label: 'Log message', type: 'text' },
    { name: 'script', label: 'Script', type: 'text' },
  ],
};

/**
 * What the daemon is: a store, or a lake-mode daemon over a fleet's lake, whose runs and logs carry the node that
 * published them (<lake>). Known from the session, before the first list loads.
 */
export const daemon = { lake: false };

/** A lake-mode daemon: the lists show each row's node, and the filters offer it, with the nodes of the period. */
export function enableLake() {
  daemon.lake = true;
  for (const list of ['runs', 'logs']) COLUMNS[list].push({ name: 'node', label: 'Node', type: 'enum', values: true });
  for (const header of document.querySelectorAll('.lake-only')) header.hidden = false;
}

/** The operators, with their labels; which of them a column offers depends on its type. */
export const OPERATORS = [
  { name: 'eq', label: 'is', types: ['text', 'enum', 'number'] },
  { name: 'neq', label: 'is not', types: ['text', 'enum', 'number'] },
  { name: 'in', label: 'is any of', types: ['text', 'enum', 'number'] },
  { name: 'notIn', label: 'is none of', types: ['text', 'enum', 'number'] },
  { name: 'contains', label: 'contains', types: ['text'] },
  { name: 'notContains', label: 'does not contain', types: ['text'] },
  { name: 'gt', label: 'greater than', types: ['number'], single: true },
  { name: 'gte', label: 'at least', types: ['number'], single: true },
  { name: 'lt', label: 'less than', types: ['number'], single: true },
  { name: 'lte', label: 'at most', types: ['number'], single: true },
];

export const columnOf = (list, name) => COLUMNS[list].find((c) => c.name === name) ?? COLUMNS[list][0];
export const operatorsOf = (column) => OPERATORS.filter((o) => o.types.includes(column.type));

/**
 * All Runs filtered to these conditions (AND), e.g. from Top errors or Versions: the list's own filter set is
 * replaced, the tab becomes All Runs, and the page refreshes.
 */
export function setRunsFilter(conditions, op = 'and') {
  state.filters.runs = { op, conditions };
  state.tab = 'runs';
  state.run = '';
  state.log = '';
  return refresh();
}

let refreshPage = () => {};

/** The page's refresh, set once by the page itself; every part asks for it through here. */
export function onRefresh(refresh) { refreshPage = refresh; }

export function refresh() { return refreshPage(); }

export function readUrl() {
  const p = new URLSearchParams(location.search);
  state.script = p.get('script') ?? '';
  state.range = p.get('range') ?? 'week';
  state.from = p.get('from') ?? '';
  state.to = p.get('to') ?? '';
  state.tab = TABS.includes(p.get('tab')) ? p.get('tab') : 'runs';
  state.q = p.get('q') ?? '';
  state.run = p.get('run') ?? '';
  state.log = p.get('log') ?? '';
  state.bucket = ['hour', 'day'].includes(p.get('bucket')) ? p.get('bucket') : '';
  for (const list of ['runs', 'logs']) {
    state.filters[list] = readFilter(p.get(`${list}Filter`));
    state.sort[list] = /^[A-Za-z]+:(asc|desc)$/.test(p.get(`${list}Sort`) ?? '') ? p.get(`${list}Sort`) : DEFAULT_SORT[list];
  }
}

function readFilter(text) {
  try {
    const filter = JSON.parse(text ?? 'null');
    return { op: filter?.op === 'or' ? 'or' : 'and', conditions: Array.isArray(filter?.conditions) ? filter.conditions : [] };
  } catch {
    return { op: 'and', conditions: [] };
  }
}

export function writeUrl() {
  const p = new URLSearchParams();
  if (state.script) p.set('script', state.script);
  p.set('range', state.range);
  if (state.range === 'custom') { p.set('from', state.from); p.set('to', state.to); }
  if (state.tab !== 'runs') p.set('tab', state.tab);
  if (state.q) p.set('q', state.q);
  if (state.bucket) p.set('bucket', state.bucket);
  for (const list of ['runs', 'logs']) {
    if (state.filters[list].conditions.length) p.set(`${list}Filter`, JSON.stringify(state.filters[list]));
    if (state.sort[list] !== DEFAULT_SORT[list]) p.set(`${list}Sort`, state.sort[list]);
  }
  if (state.run) p.set('run', state.run);
  if (state.run && state.log) p.set('log', state.log);
  history.replaceState(null, '', `${location.pathname}?${p}`);
}

/** The [from, to) instants of the selected range (the seed's default: the last week). */
export function period() {
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
    // All Time: from the epoch; the chart asks the summary for the data's own first and last time (charts.js).
    case 'all': return [new Date(0), new Date(now.getTime() + 864e5)];
    case 'custom': return [new Date(state.from || now - 7 * 864e5), new Date(state.to || now)];
    default: return [new Date(now - 7 * 864e5), now];
  }
}

/** The range ends at "now" (it moves with the clock): the page follows new runs and logs as they arrive. */
export const endsNow = () => !['yesterday', 'lastMonth', 'custom'].includes(state.range);

/** What a list shows, whatever the clock: two loads under the same question show the same rows (and new ones). */
export const questionOf = (list) => JSON.stringify([state.script, state.range, state.range === 'custom' ? [state.from, state.to] : null,
  state.q, state.filters[list], state.sort[list]]);

/**
 * The query string of a list (runs or logs) or of its metrics, with the period, the search and that list's filters;
 * with its sort when <sorted>.
 */
export function query(list = 'runs', extra = {}, sorted = true) {
  const [from, to] = period();
  const p = new URLSearchParams({ script: state.script, from: from.toISOString(), to: to.toISOString() });
  if (state.q) p.set('q', state.q);
  if (state.filters[list].conditions.length) p.set('filter', JSON.stringify(state.filters[list]));
  if (sorted) p.set('sort', state.sort[list]);
  for (const [k, v] of Object.entries(extra)) if (v != null) p.set(k, v);
  return p;
}
