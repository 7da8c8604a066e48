/** Plain-text tables for terminal output: columns padded to their widest cell. */

/** Renders `rows` under `header`, left-aligned, two spaces between columns. */
export const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

/** `[0, 1, 2, 3, 8, 9]` -> `'0-3, 8-9'`. */
export const ranges = (values: ReadonlyArray<number>): string => {
  const parts: string[] = []
  let start: number | undefined
  let previous: number | undefined
  for (const v of values) {
    if (start === undefined || previous === undefined) {
      start = v
    } else if (v !== previous + 1) {
      parts.push(start === previous ? `${start}` : `${start}-${previous}`)
      start = v
    }
    previous = v
  }
  if (start !== undefined && previous !== undefined) parts.push(start === previous ? `${start}` : `${start}-${previous}`)
  return parts.join(', ')
}
