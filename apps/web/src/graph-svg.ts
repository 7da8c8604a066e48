/**
 * A simple drawing of a deployment graph (@meshplan/planner's `deploymentGraph`) as
 * SVG: one column per pipeline stage (or run of identical stages), its modules as boxes
 * top to bottom in the graph's order, communication modules with rounded ends, and
 * each edge as an arrow labelled with the bytes it moves. The mermaid, dot and JSON
 * texts beside it are the exact forms (`toMermaid`, `toDot`, `toJson`); this is for the eye.
 *
 * @example
 * graphSvg(deploymentGraph(input)) // '<svg ... class="deployment-graph"> ... <rect class="node attention" ...'
 */
import type { DeploymentGraph, GraphNode, ModuleKind } from '@meshplan/planner'
import { coordinate, escapeXml } from './svg'

const box = { width: 300, height: 46, gapY: 30, gapX: 120, margin: 16, header: 30 } as const

/** Modules that are communication (drawn with rounded ends). */
const communication: ReadonlySet<ModuleKind> = new Set<ModuleKind>(['tp-collective', 'dispatch', 'combine', 'pp-send', 'cp-exchange'])

/** `text` cut to `n` characters with an ellipsis. */
const cut = (text: string, n: number): string => (text.length > n ? `${text.slice(0, n - 1)}…` : text)

/** The part of an edge's label after its first colon (`2 MiB per layer (x16 = 32 MiB)`). */
const sizeOf = (label: string): string => {
  const i = label.indexOf(': ')
  return i < 0 ? label : label.slice(i + 2)
}

/** The deployment graph as SVG markup. */
export const graphSvg = (g: DeploymentGraph): string => {
  // columns: every stage in order; a node between stages gets a column after the previous node's
  const columns: Array<{ readonly label: string; readonly nodes: GraphNode[] }> = []
  const columnOfStage = new Map<string, number>()
  for (const s of g.stages) {
    columnOfStage.set(s.id, columns.length)
    columns.push({ label: `${s.label} · ${s.gpus}`, nodes: [] })
  }
  let previous = 0
  const between: Array<{ readonly node: GraphNode; readonly after: number }> = []
  for (const n of g.nodes) {
    const c = n.stage === null ? undefined : columnOfStage.get(n.stage)
    if (c === undefined) between.push({ node: n, after: previous })
    else {
      columns[c]?.nodes.push(n)
      previous = c
    }
  }
  // a node between stages sits in a column of its own right after the stage it leaves
  for (const { node, after } of between.reverse()) columns.splice(after + 1, 0, { label: '', nodes: [node] })
  const place = new Map<string, { readonly x: number; readonly y: number }>()
  columns.forEach((column, ci) => column.nodes.forEach((n, ni) => place.set(n.id, { x: box.margin + ci * (box.width + box.gapX), y: box.margin + box.header + ni * (box.height + box.gapY) })))
  const rows = Math.max(1, ...columns.map((c) => c.nodes.length))
  // room on the right for the labels of edges that go around a column
  const width = box.margin * 2 + columns.length * box.width + Math.max(0, columns.length - 1) * box.gapX + 150
  const height = box.margin * 2 + box.header + rows * (box.height + box.gapY)
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="deployment-graph" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(g.title)}">`,
    `<title>${escapeXml(g.title)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head"/></marker></defs>',
  ]
  columns.forEach((column, ci) => {
    if (column.label !== '') parts.push(`<text class="stage" x="${box.margin + ci * (box.width + box.gapX)}" y="${box.margin + 14}">${escapeXml(cut(column.label, 48))}</text>`)
  })
  for (const e of g.edges) {
    const a = place.get(e.from)
    const b = place.get(e.to)
    if (a === undefined || b === undefined) continue
    let path: string
    let labelAt: { readonly x: number; readonly y: number }
    if (a.x === b.x && b.y === a.y + box.height + box.gapY) {
      // the next box down: straight
      const x = a.x + box.width / 2
      path = `M${coordinate(x)},${coordinate(a.y + box.height)} L${coordinate(x)},${coordinate(b.y)}`
      labelAt = { x: x + 6, y: a.y + box.height + box.gapY / 2 + 4 }
    } else if (a.x === b.x) {
      // further down the same column: around the right side
      const x = a.x + box.width
      const bend = x + 40
      path = `M${coordinate(x)},${coordinate(a.y + box.height / 2)} C${coordinate(bend)},${coordinate(a.y + box.height / 2)} ${coordinate(bend)},${coordinate(b.y + box.height / 2)} ${coordinate(x)},${coordinate(b.y + box.height / 2)}`
      labelAt = { x: bend + 2, y: (a.y + b.y + box.height) / 2 }
    } else {
      // to another column
      const x1 = a.x < b.x ? a.x + box.width : a.x
      const x2 = a.x < b.x ? b.x : b.x + box.width
      path = `M${coordinate(x1)},${coordinate(a.y + box.height / 2)} C${coordinate((x1 + x2) / 2)},${coordinate(a.y + box.height / 2)} ${coordinate((x1 + x2) / 2)},${coordinate(b.y + box.height / 2)} ${coordinate(x2)},${coordinate(b.y + box.height / 2)}`
      labelAt = { x: Math.min(x1, x2) + 4, y: Math.min(a.y, b.y) + box.height / 2 - 6 }
    }
    parts.push(`<path class="edge" d="${path}" marker-end="url(#arrow)" data-from="${escapeXml(e.from)}" data-to="${escapeXml(e.to)}"><title>${escapeXml(e.label)}</title></path>`)
    parts.push(`<text class="edge-label" x="${coordinate(labelAt.x)}" y="${coordinate(labelAt.y)}">${escapeXml(cut(sizeOf(e.label), 34))}</text>`)
  }
  for (const n of g.nodes) {
    const at = place.get(n.id)
    if (at === undefined) continue
    const round = communication.has(n.module) ? box.height / 2 : 4
    parts.push(
      `<g class="node ${n.module}" data-id="${escapeXml(n.id)}"><title>${escapeXml([n.label, n.layers, n.gpus].filter((t) => t !== '').join('\n'))}</title>`,
      `<rect class="node-box" x="${at.x}" y="${at.y}" width="${box.width}" height="${box.height}" rx="${round}"/>`,
      `<text class="node-label" x="${at.x + box.width / 2}" y="${at.y + 19}" text-anchor="middle">${escapeXml(cut(n.label, 44))}</text>`,
      `<text class="node-detail" x="${at.x + box.width / 2}" y="${at.y + 36}" text-anchor="middle">${escapeXml(cut(n.layers === '' ? n.gpus : `${n.layers} · ${n.gpus}`, 50))}</text>`,
      '</g>',
    )
  }
  parts.push('</svg>')
  return parts.join('')
}
