// The filter panel: conditions of a column, an operator and values, combined with AND or OR.
import { $ } from './dom.js';
import { LOG_COLUMNS, OPERATORS, RUN_COLUMNS, listOf, refresh, state } from './state.js';

function filterRow(condition = { column: listOf(state.tab) === 'logs' ? 'level' : 'status', operator: 'eq', values: [] }) {
  const row = document.createElement('div');
  row.className = 'filter-row';
  const columns = document.createElement('select');
  columns.setAttribute('aria-label', 'Column');
  for (const c of listOf(state.tab) === 'logs' ? LOG_COLUMNS : RUN_COLUMNS) columns.add(new Option(c, c));
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

export function wireFilters() {
  $('filter-button').addEventListener('click', () => {
    const panel = $('filter-panel');
    panel.hidden = !panel.hidden;
    $('filter-button').setAttribute('aria-expanded', !panel.hidden);
    if (!panel.hidden) {
      const filter = state.filters[listOf(state.tab)];
      $('filter-op').value = filter.op;
      $('filter-rows').replaceChildren(...(filter.conditions.length ? filter.conditions : [undefined]).map((c) => filterRow(c)));
    }
  });
  $('filter-add').addEventListener('click', () => $('filter-rows').append(filterRow()));
  $('filter-clear').addEventListener('click', () => {
    state.filters[listOf(state.tab)] = { op: 'and', conditions: [] };
    $('filter-rows').replaceChildren(filterRow());
    refresh();
  });
  $('filter-panel').addEventListener('submit', (e) => {
    e.preventDefault();
    state.filters[listOf(state.tab)] = {
      op: $('filter-op').value,
      conditions: [...$('filter-rows').children].map((r) => r.read()).filter((c) => c.values.length),
    };
    refresh();
  });
}
