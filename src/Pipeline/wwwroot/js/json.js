// JSON values of the record view (a run's input and output): as a tree that folds open and shut, and as text to copy.

/** A JSON value as a tree: objects and arrays fold open and shut (<details>), scalars as text. */
export function jsonView(value, key) {
  const label = key == null ? '' : `${key}: `;
  if (value !== null && typeof value === 'object') {
    const details = document.createElement('details');
    details.open = true;
    const summary = document.createElement('summary');
    const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
    summary.textContent = `${label}${Array.isArray(value) ? `[${entries.length}]` : `{${entries.length}}`}`;
    details.append(summary, ...entries.map(([k, v]) => jsonView(v, k)));
    return details;
  }
  const line = document.createElement('div');
  line.className = `json ${value === null ? 'null' : typeof value}`;
  line.textContent = `${label}${typeof value === 'string' ? JSON.stringify(value) : String(value ?? 'null')}`;
  return line;
}

/**
 * The text to copy: JSON, indented; a value that was not JSON when it was sent (the API gives it back as a string)
 * as the text itself.
 */
export function jsonText(value) {
  return typeof value === 'string' ? value : JSON.stringify(value ?? null, null, 2);
}
