// Small DOM and formatting helpers shared by every part of the page.
export const $ = (id) => document.getElementById(id);

export const ms = (v) => (v == null ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${Math.round(v)} ms`);
export const when = (iso) => new Date(iso).toLocaleString();

export function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text ?? '';
  if (className) td.className = className;
  return td;
}

export function statusCell(status) {
  const td = document.createElement('td');
  const label = document.createElement('span');
  label.className = `status ${status === 'Success' ? 'ok' : status === 'Failed' ? 'failed' : 'progress'}`;
  label.textContent = status;
  td.append(label);
  return td;
}

/** A small Copy button (in a row: the click does not open the row) that says "Copied" for a moment. */
export function copyButton(text, label) {
  const button = document.createElement('button');
  button.type = 'button';
  button.className = 'copy';
  button.textContent = 'Copy';
  button.setAttribute('aria-label', label);
  button.addEventListener('click', (e) => { e.stopPropagation(); copy(button, text); });
  return button;
}

const COPIED_FOR_MS = 1500;

/**
 * Copies <text> and says so on <button>: "Copied" (or "Copy failed") for a moment, then its own label again. The
 * clipboard API needs a secure context (https or localhost) and the page's focus; elsewhere the selection does it.
 */
export async function copy(button, text) {
  let done;
  try {
    await navigator.clipboard.writeText(text);
    done = true;
  } catch {
    done = copyBySelection(text);
  }
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  button.textContent = done ? 'Copied' : 'Copy failed';
  button.classList.add('copied');
  clearTimeout(button.copiedTimer);
  button.copiedTimer = setTimeout(() => {
    button.textContent = label;
    button.classList.remove('copied');
    delete button.dataset.label;
  }, COPIED_FOR_MS);
  return done;
}

function copyBySelection(text) {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  try {
    return document.execCommand('copy');
  } catch {
    return false;
  } finally {
    area.remove();
  }
}

/** A table row that says the list is empty (one cell across <columns> columns). */
export function noneRow(text, columns) {
  const tr = document.createElement('tr');
  tr.className = 'none';
  const td = cell(text);
  td.colSpan = columns;
  tr.append(td);
  return tr;
}
