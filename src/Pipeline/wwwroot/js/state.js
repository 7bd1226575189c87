// The page's state, kept in the URL so that a link can be shared: script, period, tab, search, each list's own
// filters and sort, the open run (and the log to show in it).
const DEFAULT_SORT = { runs: 'executedOn:desc', logs: 'timestamp:desc' };

export const TABS = ['runs', 'logs', 'versions', 'errors'];

export const state = {
  script: '', range: 'week', from: '', to: '', tab: 'runs', q: '', run: '', log: '',
  // Each list has its own filter set: a run filter means nothing to logs. Versions and Top errors use the runs' one.
  filters: { runs: { op: 'and', conditions: [] }, logs: { op: 'and', conditions: [] } },
  sort: { ...DEFAULT_SORT },
};

/** The list whose filters and sort a tab uses. */
export const listOf = (tab) => (tab === 'logs' ? 'logs' : 'runs');

export const RUN_COLUMNS = ['runId', 'status', 'deploymentVersion', 'deploymentId', 'responseTimeMs', 'function', 'sourceType', 'source', 'error', 'script'];
export const LOG_COLUMNS = ['logId', 'runId', 'level', 'message', 'script'];
export const OPERATORS = ['eq', 'neq', 'in', 'notIn', 'contains', 'notContains', 'gt', 'gte', 'lt', 'lte'];

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
    case 'all': return [new Date('2000-01-01T00:00:00Z'), new Date(now.getTime() + 864e5)];
    case 'custom': return [new Date(state.from || now - 7 * 864e5), new Date(state.to || now)];
    default: return [new Date(now - 7 * 864e5), now];
  }
}

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
