// A list of the page (runs or logs) in its table: keyset pages ("More"), the newest rows merged in while the page is
// live, and never a row twice, whatever order answers come back in. One load at a time per list; a load whose signal
// was aborted (a newer refresh started) renders nothing.
import { api } from './api.js';
import { noneRow } from './dom.js';

export class List {
  /**
   * @param body the tbody; @param more its "More" button; @param key (item) => id; @param row (item) => tr;
   * @param path (cursor) => the API path of a page; @param empty the text of an empty list; @param columns its width.
   */
  constructor({ body, more, key, row, path, empty, columns }) {
    Object.assign(this, { body, more, key, row, path, empty, columns });
    this.rows = new Map();
    this.cursor = null;
    this.busy = Promise.resolve();
  }

  /** The ids shown, in order. */
  ids() {
    return [...this.body.children].map((tr) => tr.dataset.id).filter(Boolean);
  }

  /** One task at a time: a "More" and a live update never interleave. */
  exclusive(task) {
    const run = this.busy.then(task, task);
    this.busy = run.catch(() => {});
    return run;
  }

  /**
   * The first page. Under the same question as the rows shown (<question>: the list's script, period, search, filters
   * and sort), e.g. back from a run's record, it is merged in and the rows stay as they were; else it replaces them.
   */
  load(signal, question) {
    return this.exclusive(async () => {
      const page = await api(this.path(null), signal);
      signal?.throwIfAborted();
      if (question !== undefined && question === this.question) this.merge(page); else this.reset(page);
      this.question = question;
    });
  }

  /** The next page, after the rows shown. */
  next(signal) {
    return this.exclusive(async () => {
      if (!this.cursor) return;
      const page = await api(this.path(this.cursor), signal);
      signal?.throwIfAborted();
      this.add(page.items);
      this.cursor = page.nextCursor;
      this.more.hidden = !page.nextCursor;
    });
  }

  /**
   * The first page again, merged in: rows that changed are redrawn in place, new ones go where the list's order
   * puts them (after the shown row that precedes them on the page). When the whole page is new, more arrived than
   * a page holds: the list starts again from it.
   */
  update(signal) {
    return this.exclusive(async () => {
      const page = await api(this.path(null), signal);
      signal?.throwIfAborted();
      this.merge(page);
    });
  }

  merge(page) {
    const fresh = page.items.filter((item) => !this.rows.has(this.key(item)));
    if (page.items.length === 0 || (fresh.length === page.items.length && page.nextCursor) || this.rows.size === 0) {
      this.reset(page);
      return;
    }
    let anchor = null;
    for (const item of page.items) {
      const id = this.key(item);
      let tr = this.rows.get(id);
      if (tr) {
        if (tr.signature !== JSON.stringify(item)) {
          const redrawn = this.draw(item);
          const focused = document.activeElement === tr;
          tr.replaceWith(redrawn);
          if (focused) redrawn.focus();
          tr = redrawn;
        }
      } else {
        tr = this.draw(item);
        if (anchor) anchor.after(tr); else this.body.prepend(tr);
      }
      anchor = tr;
    }
    this.body.querySelector(':scope > tr.none')?.remove();
  }

  reset(page) {
    this.rows.clear();
    this.body.replaceChildren();
    this.add(page.items);
    if (!page.items.length) this.body.append(noneRow(this.empty, typeof this.columns === 'function' ? this.columns() : this.columns));
    this.cursor = page.nextCursor;
    this.more.hidden = !page.nextCursor;
  }

  add(items) {
    const rows = items.filter((item) => !this.rows.has(this.key(item))).map((item) => this.draw(item));
    this.body.append(...rows);
  }

  draw(item) {
    const tr = this.row(item);
    tr.dataset.id = this.key(item);
    tr.signature = JSON.stringify(item);
    this.rows.set(tr.dataset.id, tr);
    return tr;
  }
}
