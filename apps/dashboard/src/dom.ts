/**
 * Building DOM from data. Every string that came from a client (URLs, referrers, user ids from a JWT
 * `sub`, device ids) is set as text (`textContent`), never as HTML: there is no `innerHTML` in the
 * dashboard.
 */

/** A cell value: text, a number (formatted), or null (shown as a dash). */
export type Cell = string | number | null;

/** An element with text content and optional class. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string | null,
  className?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (className) e.className = className;
  return e;
}

const numberFormat = new Intl.NumberFormat('en');

/** How a cell reads. */
function cellText(value: Cell): string {
  if (value === null) return '–';
  return typeof value === 'number' ? numberFormat.format(value) : value;
}

/**
 * A table: `columns` heads, `rows` of cells, an optional footer row (totals). Text columns (index in
 * `textColumns`) wrap and align left.
 */
export function table(
  caption: string,
  columns: readonly string[],
  rows: readonly Cell[][],
  options: { footer?: Cell[]; textColumns?: readonly number[]; id?: string } = {},
): HTMLTableElement {
  const t = el('table');
  if (options.id) t.id = options.id;
  t.append(el('caption', caption));
  const head = el('thead');
  const hr = el('tr');
  const text = new Set(options.textColumns ?? []);
  // A text column's heading is aligned with its cells (left), a number column's right.
  columns.forEach((c, i) => {
    const th = el('th', c, text.has(i) ? 'text' : undefined);
    th.scope = 'col';
    hr.append(th);
  });
  head.append(hr);
  const body = el('tbody');
  for (const row of rows) {
    const tr = el('tr');
    row.forEach((v, i) => {
      tr.append(el('td', cellText(v), text.has(i) ? 'text' : undefined));
    });
    body.append(tr);
  }
  t.append(head, body);
  if (options.footer) {
    const foot = el('tfoot');
    const tr = el('tr');
    for (const v of options.footer) tr.append(el('td', cellText(v)));
    foot.append(tr);
    t.append(foot);
  }
  return t;
}

/** Replaces the children of `parent` with `children`. */
export function show(parent: Element | null, ...children: Node[]): void {
  parent?.replaceChildren(...children);
}

/** A noun for a count: `one` for exactly 1, `many` otherwise (0, 2, and no count at all). */
export type Noun = readonly [one: string, many: string];

/** The noun that reads with `count`: "1 device", "0 devices", "2 devices". */
export function counted(count: Cell, [one, many]: Noun): string {
  return count === 1 ? one : many;
}

/** A figure: a big value over its label, a count's label in its singular or plural (`counted`). */
export function figure(label: string | Noun, value: Cell): HTMLElement {
  const box = el('div', null, 'figure');
  const text = typeof label === 'string' ? label : counted(value, label);
  box.append(el('div', cellText(value), 'value'), el('div', text, 'label'));
  return box;
}

/** A percentage of a rate (null: none). */
export const percent = (rate: number | null): string | null =>
  rate === null ? null : `${(rate * 100).toFixed(1)} %`;
