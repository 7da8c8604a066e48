/**
 * Reading an SVG the way a test should: as XML (fast-xml-parser), by the groups of marks
 * Vega-Lite names after each layer (`<g class="mark-symbol role-mark pareto_front_marks">`)
 * and the text each mark says (its `aria-label`), never by pixels.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser'

/** An element: its tag, attributes and children. */
export interface SvgElement {
  readonly tag: string
  readonly attributes: Readonly<Record<string, string>>
  readonly children: ReadonlyArray<SvgElement>
  readonly text: string
}

type Raw = Record<string, unknown>

const toSvgElement = (raw: Raw): SvgElement | undefined => {
  const tag = Object.keys(raw).find((k) => k !== ':@')
  if (tag === undefined || tag === '#text') return undefined
  const kids = (raw[tag] as Raw[]) ?? []
  return {
    tag,
    attributes: (raw[':@'] as Record<string, string> | undefined) ?? {},
    children: kids.map(toSvgElement).filter((e): e is SvgElement => e !== undefined),
    text: kids.map((k) => (typeof k['#text'] === 'string' || typeof k['#text'] === 'number' ? String(k['#text']) : '')).join(''),
  }
}

/** The SVG document's root element; throws when it is not well-formed XML or not an SVG. */
export const parseSvg = (svg: string): SvgElement => {
  const valid = XMLValidator.validate(svg)
  if (valid !== true) throw new Error(`not well-formed XML: ${JSON.stringify(valid.err)}`)
  const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, parseAttributeValue: false, trimValues: false }).parse(svg) as Raw[]
  const root = parsed.map(toSvgElement).find((e) => e?.tag === 'svg')
  if (root === undefined) throw new Error('no <svg> element')
  return root
}

/** Every element under `e`, depth first. */
export const descendants = (e: SvgElement): ReadonlyArray<SvgElement> => e.children.flatMap((c) => [c, ...descendants(c)])

/** The marks of layer `name`: the children of its group (`<g class="... <name>_marks">`; a path, a line or a text each). */
export const marksOf = (root: SvgElement, name: string): ReadonlyArray<SvgElement> =>
  descendants(root)
    .filter((e) => e.tag === 'g' && (e.attributes['class'] ?? '').split(' ').includes(`${name}_marks`))
    .flatMap((g) => g.children)

/** The labels (`aria-label`) of layer `name`'s marks. */
export const labelsOf = (root: SvgElement, name: string): ReadonlyArray<string> => marksOf(root, name).map((m) => m.attributes['aria-label'] ?? '')

/** Every text the SVG shows (titles, axis titles, labels, legends). */
export const textsOf = (root: SvgElement): ReadonlyArray<string> => descendants(root).filter((e) => e.tag === 'text').map((e) => e.text)
