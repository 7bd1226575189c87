// The filter panel of the current tab's list: conditions of a column, an operator and values, combined with AND or OR.
// Columns and operators carry the page's own labels; a column offers the operators of its type (text, number,
// enumeration), and the enumerations a pick-list of the values that exist in the period (/api/{list}/values).
import { api } from './api.js';
import { $ } from './dom.js';
import { COLUMNS, columnOf, listOf, operatorsOf, period, refresh, state } from './state.js';

/** The values of a column in the period, asked once per opening of the panel. */
let values = new Map();
/** The list the panel's rows were drawn for. */
let drawnFor = null;

function valuesOf(list, column) {
  const [from, to] = period();
  const key = `${list}|${column}`;
  if (!values.has(key)) {
    const p = new URLSearchParams({ script: state.script, from: from.toISOString(), to: to.toISOString(), column });
    values.set(key, api(`/api/${list}/values?${p}`).then((r) => r.values, () => null));
  }
  return values.get(key);
}

function option(value, label, selected = false) {
  const o = new Option(label, value);
  o.selected = selected;
  return o;
}

function filterRow(list, condition) {
  const first = COLUMNS[list].find((c) => c.name === (list === 'logs' ? 'level' : 'status'));
  let column = condition ? columnOf(list, condition.column) : first;
  const row = document.createElement('div');
  row.className = 'filter-row';
  const columns = document.createElement('select');
  columns.setAttribute('aria-label', 'Column');
  for (const c of COLUMNS[list]) columns.add(option(c.name, c.label, c.name === column.name));
  const operators = document.createElement('select');
  operators.setAttribute('aria-label', 'Operator');
  const chips = document.createElement('span');
  chips.className = 'chips';
  const pick = document.createElement('select');
  pick.setAttribute('aria-label', 'Pick a value');
  pick.className = 'pick';
  const input = document.createElement('input');
  input.setAttribute('aria-label', 'Enter value (Tab adds another)');
  input.placeholder = 'Enter value';
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = 'Remove';
  remove.setAttribute('aria-label', 'Remove this filter');
  remove.addEventListener('click', () => row.remove());

  let chosen = [...(condition?.values ?? [])].map(String);
  const single = () => operatorsOf(column).find((o) => o.name === operators.value)?.single;
  const drawChips = () => {
    chips.replaceChildren(...chosen.map((v, i) => {
      const chip = document.createElement('button');
      chip.type = 'button';
      chip.className = 'chip';
      chip.textContent = `${v} ×`;
      chip.setAttribute('aria-label', `Remove ${v}`);
      chip.addEventListener('click', () => { chosen.splice(i, 1); drawChips(); });
      return chip;
    }));
  };
  const add = (value) => {
    const v = value.trim();
    if (!v) return;
    if (single()) chosen = [v];
    else if (!chosen.includes(v)) chosen.push(v);
    drawChips();
  };
  const drawOperators = (wanted) => {
    const allowed = operatorsOf(column);
    const name = allowed.some((o) => o.name === wanted) ? wanted : allowed[0].name;
    operators.replaceChildren(...allowed.map((o) => option(o.name, o.label, o.name === name)));
  };
  let drawing = 0;
  const drawPick = async () => {
    // Only the newest drawing fills the list: two in flight (a column change, a refresh) never add their values twice.
    const ticket = ++drawing;
    pick.hidden = !column.values;
    pick.replaceChildren(option('', 'Pick a value…'));
    input.inputMode = column.type === 'number' ? 'decimal' : 'text';
    if (!column.values) return;
    pick.disabled = true;
    const found = await valuesOf(list, column.name);
    if (ticket !== drawing) return;
    pick.disabled = false;
    if (!found) return pick.replaceChildren(option('', 'Values unavailable'));
    if (!found.length) return pick.replaceChildren(option('', 'No values in the period'));
    pick.append(...found.map((v) => option(String(v.value), `${v.value} (${v.count.toLocaleString()})`)));
  };

  columns.addEventListener('change', () => {
    column = columnOf(list, columns.value);
    chosen = [];
    drawChips();
    drawOperators(operators.value);
    drawPick();
  });
  operators.addEventListener('change', () => { if (single() && chosen.length > 1) { chosen = chosen.slice(-1); drawChips(); } });
  pick.addEventListener('change', () => { add(pick.value); pick.value = ''; });
  input.addEventListener('keydown', (e) => {
    if ((e.key === 'Tab' || e.key === 'Enter') && input.value.trim()) {
      e.preventDefault();
      add(input.value);
      input.value = '';
    }
  });
  input.addEventListener('input', () => input.setCustomValidity(''));

  row.read = () => {
    if (input.value.trim()) { add(input.value); input.value = ''; }
    return { column: column.name, operator: operators.value, values: [...chosen] };
  };
  row.check = () => {
    const bad = column.type === 'number' && chosen.find((v) => !Number.isFinite(Number(v)));
    input.setCustomValidity(bad ? `${column.label} takes numbers: "${bad}" is not one.` : '');
    if (bad) input.reportValidity();
    return !bad;
  };
  drawOperators(condition?.operator);
  drawChips();
  drawPick();
  row.append(columns, operators, chips, pick, input, remove);
  return row;
}

function drawRows() {
  const list = listOf(state.tab);
  const filter = state.filters[list];
  drawnFor = list;
  $('filter-panel').setAttribute('aria-label', `Filters of ${list === 'logs' ? 'Logs' : 'All Runs'}`);
  $('filter-op').value = filter.op;
  $('filter-rows').replaceChildren(...(filter.conditions.length ? filter.conditions : [undefined]).map((c) => filterRow(list, c)));
}

/** After a change of tab or period: the open panel shows the current list's filters and the period's values. */
export function syncFilters() {
  values = new Map();
  if (!$('filter-panel').hidden && drawnFor !== listOf(state.tab)) drawRows();
}

export function wireFilters() {
  $('filter-button').addEventListener('click', () => {
    const panel = $('filter-panel');
    panel.hidden = !panel.hidden;
    $('filter-button').setAttribute('aria-expanded', !panel.hidden);
    if (!panel.hidden) {
      values = new Map();
      drawRows();
    }
  });
  $('filter-add').addEventListener('click', () => $('filter-rows').append(filterRow(listOf(state.tab))));
  $('filter-clear').addEventListener('click', () => {
    state.filters[listOf(state.tab)] = { op: 'and', conditions: [] };
    drawRows();
    refresh();
  });
  $('filter-panel').addEventListener('submit', (e) => {
    e.preventDefault();
    const rows = [...$('filter-rows').children];
    const conditions = rows.map((r) => r.read());
    if (!rows.every((r) => r.check())) return;
    state.filters[listOf(state.tab)] = { op: $('filter-op').value, conditions: conditions.filter((c) => c.values.length) };
    refresh();
  });
}
