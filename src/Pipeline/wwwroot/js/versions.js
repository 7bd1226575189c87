// The Versions tab: after a deploy, the deployment versions of the period side by side (runs, failure rate, P90, P99)
// with each one's change against the previous version, and the worst change marked. One API call per refresh.
import { api } from './api.js';
import { $, cell, ms, when } from './dom.js';
import { query, refresh, state } from './state.js';

let loads = 0;

/**
 * All Runs, filtered to the runs of one row of an insight (a version, an error group): the row's column becomes
 * "is <value>", kept with the other conditions of an all-AND filter set (those the row was counted under), so that
 * the list shows exactly the runs the row counted.
 */
export function showRunsWhere(column, value) {
  const current = state.filters.runs;
  const kept = current.op === 'and' || current.conditions.length <= 1 ? current.conditions.filter((c) => c.column !== column) : [];
  state.filters.runs = { op: 'and', conditions: [...kept, { column, operator: 'eq', values: [value] }] };
  state.tab = 'runs';
  $('filter-panel').hidden = true;
  $('filter-button').setAttribute('aria-expanded', 'false');
  refresh();
}

const sign = (v) => (v > 0 ? '+' : v < 0 ? '-' : '±');

/** A change of the failure rate, in percentage points. */
export const points = (v) => (v == null ? '–' : `${sign(v)}${Math.abs(v).toFixed(2)} pts`);

/** A change of a response time, as a ratio minus one, in percent. */
export const percent = (v) => (v == null ? '–' : `${sign(v)}${Math.abs(v * 100).toFixed(1)}%`);

/** The changes of a version as regressions on one scale: failure rate in points, P90 and P99 in percent. */
const MEASURES = [
  ['failureRateChange', 'Failure Rate', (v) => v],
  ['p90Change', 'Response Time P90', (v) => v * 100],
  ['p99Change', 'Response Time P99', (v) => v * 100],
];

/** The largest rise of any measure against the previous version, over every version shown: { version, key } or null. */
export function worstChange(versions) {
  let worst = null;
  for (const v of versions) {
    for (const [key, , scale] of MEASURES) {
      if (v[key] == null || v[key] <= 0) continue;
      const rise = scale(v[key]);
      if (!worst || rise > worst.rise) worst = { version: v, key, rise };
    }
  }
  return worst;
}

function changeCell(v, key, format, worst) {
  const td = cell(format(v[key]), 'change');
  if (v[key] != null && v[key] !== 0) td.classList.add(v[key] > 0 ? 'worse' : 'better');
  if (v.previousVersion != null) td.title = `Against version ${v.previousVersion}`;
  td.dataset.measure = key;
  if (worst?.version === v && worst.key === key) {
    td.classList.add('worst');
    const label = document.createElement('span');
    label.className = 'worst-label';
    label.textContent = 'worst change';
    td.append(' ', label);
  }
  return td;
}

function versionRow(v, worst) {
  const tr = document.createElement('tr');
  tr.dataset.version = v.deploymentVersion ?? '';
  if (worst?.version === v) tr.classList.add('worst');
  tr.append(
    cell(v.deploymentVersion ?? 'No version', 'version'),
    cell(v.runs, 'number'),
    cell(v.failureRate == null ? '–' : `${v.failureRate.toFixed(2)}%`, 'number'),
    changeCell(v, 'failureRateChange', points, worst),
    cell(ms(v.p90Ms), 'number'),
    changeCell(v, 'p90Change', percent, worst),
    cell(ms(v.p99Ms), 'number'),
    changeCell(v, 'p99Change', percent, worst),
    cell(when(v.firstRunAt), 'time'),
    cell(when(v.lastRunAt), 'time'),
  );
  // Runs without a deployment version cannot be picked out by a filter: that row is not a link.
  if (v.deploymentVersion != null) {
    tr.tabIndex = 0;
    tr.classList.add('link');
    tr.setAttribute('aria-label', `Version ${v.deploymentVersion}: show its ${v.runs} runs in All Runs`);
    const open = () => showRunsWhere('deploymentVersion', String(v.deploymentVersion));
    tr.addEventListener('click', open);
    tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
  } else {
    tr.title = 'Runs without a deployment version';
  }
  return tr;
}

/** Draws the tab from one API call; <signal> (the page's refresh) cancels it when a newer refresh starts. */
export async function loadVersions(signal) {
  const load = ++loads;
  const versions = await api(`/api/runs/versions?${query('runs', {}, false)}`, signal);
  if (load !== loads || state.tab !== 'versions') return; // A newer refresh owns the view.
  const worst = worstChange(versions);
  $('versions').replaceChildren(...versions.map((v) => versionRow(v, worst)));
  $('versions-table').hidden = versions.length === 0;
  $('versions-empty').hidden = versions.length !== 0;
  $('versions-worst').textContent = worst
    ? `Worst change: ${MEASURES.find(([key]) => key === worst.key)[1]} of version ${worst.version.deploymentVersion ?? '(none)'}, `
      + `${worst.key === 'failureRateChange' ? points(worst.version[worst.key]) : percent(worst.version[worst.key])} against version ${worst.version.previousVersion}.`
    : versions.length > 1 ? 'No version is worse than the one before it.' : '';
}
