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

export function copyButton(text, label) {
  const button = document.createElement('button');
  button.className = 'copy';
  button.textContent = 'Copy';
  button.setAttribute('aria-label', label);
  button.addEventListener('click', (e) => { e.stopPropagation(); navigator.clipboard.writeText(text); button.textContent = 'Copied'; });
  return button;
}
