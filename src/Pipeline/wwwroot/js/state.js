// The page's state, kept in the URL so that a link can be shared: script, period, tab, search, filters, open run.
export const state = {
  script: '', range: 'week', from: '', to: '', tab: 'runs', q: '', op: 'and', conditions: [], run: '',
  sort: { runs: 'executedOn:desc', logs: 'timestamp:desc' },
};

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
  state.tab = p.get('tab') === 'logs' ? 'logs' : 'runs';
  state.q = p.get('q') ?? '';
  state.run = p.get('run') ?? '';
  try {
    const filter = JSON.parse(p.get('filter') ?? 'null');
    state.op = filter?.op === 'or' ? 'or' : 'and';
    state.conditions = Array.isArray(filter?.conditions) ? filter.conditions : [];
  } catch { state.conditions = []; }
}

export function writeUrl() {
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

/** The query string of a list (runs or logs) or of the metrics, with the period, search and filters. */
export function query(list, extra = {}) {
  const [from, to] = period();
  const p = new URLSearchParams({ script: state.script, from: from.toISOString(), to: to.toISOString() });
  if (state.q) p.set('q', state.q);
  if (state.conditions.length) p.set('filter', JSON.stringify({ op: state.op, conditions: state.conditions }));
  if (list) p.set('sort', state.sort[list]);
  for (const [k, v] of Object.entries(extra)) if (v != null) p.set(k, v);
  return p;
}
