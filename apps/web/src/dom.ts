/**
 * A few lines of DOM building: `h(tag, attributes, ...children)` makes an element, and
 * `figure` a labelled figure whose exact value is kept in `data-value` beside the text a
 * person reads (the browser tests compare both with the command's output).
 *
 * @example
 * h('p', { class: 'note' }, 'searched ', h('b', {}, '42'), ' strategies')
 */

/** What an element can hold: nodes, text, and nothing (null, undefined, false are skipped). */
export type Child = Node | string | null | undefined | false
export type Attributes = Readonly<Record<string, string | number | boolean | undefined>>

/** An element with `attributes` (true: present, false or undefined: absent) and `children`. */
export const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: ReadonlyArray<Child | ReadonlyArray<Child>>): HTMLElementTagNameMap[K] => {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue
    element.setAttribute(name, value === true ? '' : String(value))
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue
    element.append(child)
  }
  return element
}

/** A figure: its label, the text a person reads, and the exact number in `data-value`. */
export const figure = (testId: string, label: string, text: string, value?: number): HTMLElement =>
  h('div', { class: 'figure', 'data-testid': testId, 'data-value': value === undefined ? undefined : String(value) }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, text))

/** A table with a header row and `rows` (each row's cells as text or nodes). */
export const table = (testId: string, header: ReadonlyArray<string>, rows: ReadonlyArray<HTMLTableRowElement>): HTMLTableElement =>
  h('table', { 'data-testid': testId }, h('thead', {}, h('tr', {}, header.map((c) => h('th', {}, c)))), h('tbody', {}, rows))

/** A table row of cells. */
export const row = (attributes: Attributes, cells: ReadonlyArray<Child>): HTMLTableRowElement => h('tr', attributes, cells.map((c) => h('td', {}, c)))

/** A list of problems, each on its own line. */
export const problems = (testId: string, messages: ReadonlyArray<string>): HTMLElement =>
  h('ul', { class: 'problems', 'data-testid': testId, role: 'alert' }, messages.map((m) => h('li', {}, m)))

/** Replaces `container`'s children with `children`. */
export const fill = (container: Element, ...children: ReadonlyArray<Child | ReadonlyArray<Child>>): void => {
  container.replaceChildren(...children.flat().filter((c): c is Node | string => c !== null && c !== undefined && c !== false))
}
