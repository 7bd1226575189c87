// The Top errors tab: the failed runs of the period grouped by their error with numbers and ids masked, most frequent
// first; a group opens All Runs filtered to its runs. One API call per refresh.
import { api } from './api.js';
import { $, cell, when } from './dom.js';
import { query, state } from './state.js';
import { showRunsWhere } from './versions.js';

let loads = 0;

function groupRow(g) {
  const tr = document.createElement('tr');
  tr.tabIndex = 0;
  tr.classList.add('link');
  tr.setAttribute('aria-label', `${g.count} failed runs with ${g.group}: show them in All Runs`);
  const example = cell(g.example, 'message');
  example.title = 'One of the errors of this group, as it was raised';
  tr.append(cell(g.group, 'message group'), example, cell(g.count, 'number'), cell(when(g.firstSeen), 'time'), cell(when(g.lastSeen), 'time'));
  const open = () => showRunsWhere('errorGroup', g.group);
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (e) => { if (e.key === 'Enter') open(); });
  return tr;
}

/** Draws the tab from one API call; <signal> (the page's refresh) cancels it when a newer refresh starts. */
export async function loadErrors(signal) {
  const load = ++loads;
  const groups = await api(`/api/runs/errors?${query('runs', { limit: 50 }, false)}`, signal);
  if (load !== loads || state.tab !== 'errors') return; // A newer refresh owns the view.
  $('errors').replaceChildren(...groups.map(groupRow));
  $('errors-table').hidden = groups.length === 0;
  $('errors-empty').hidden = groups.length !== 0;
}
