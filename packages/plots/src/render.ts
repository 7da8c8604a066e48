/**
 * A Vega-Lite spec rendered to SVG without a browser: Vega-Lite compiles it to a Vega
 * spec, and a Vega view with no renderer (`renderer: 'none'`: no canvas, no DOM) writes
 * its scenegraph as SVG text. Text widths are estimated from the number of characters
 * (Vega's `textMetrics` without a canvas), even where the optional `canvas` package is
 * installed, so the same spec gives the same bytes on every machine.
 *
 * Vega 6 and Vega-Lite 6 ship only ES modules, and Vega's canvas module has a top-level
 * await, so this CommonJS package loads them with `import()` (Node's `require` of such a
 * module fails); where `require` can load them (a test runner that compiles them to
 * CommonJS), it does.
 *
 * @example
 * import { toSvg } from '@meshplan/plots'
 * toSvg(spec).then((svg) => fs.writeFileSync('plot.svg', svg))
 */
import type { VegaLiteSpec } from './spec'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

type Vega = Awaited<ReturnType<typeof importVega>>
type VegaLite = Awaited<ReturnType<typeof importVegaLite>>

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const importVega = () => import('vega')
const importVegaLite = () => import('vega-lite')

/** `require(name)` where it can load the module, else `load()`. */
const loaded = async <A>(name: string, load: () => Promise<A>): Promise<A> => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- see the module comment: a test runner's CommonJS copy
    return require(name) as A
  } catch {
    return load()
  }
}

let libraries: Promise<{ readonly vega: Vega; readonly vegaLite: VegaLite }> | undefined

/** Vega and Vega-Lite, loaded once. */
const vegaLibraries = (): Promise<{ readonly vega: Vega; readonly vegaLite: VegaLite }> => {
  libraries ??= Promise.all([loaded('vega', importVega), loaded('vega-lite', importVegaLite)]).then(([vega, vegaLite]) => {
    // estimated text widths: the same layout with or without the optional `canvas` package
    ;(vega as unknown as { readonly textMetrics?: { readonly canvas?: (use: boolean) => void } }).textMetrics?.canvas?.(false)
    return { vega, vegaLite }
  })
  return libraries
}

/** The Vega spec Vega-Lite compiles `spec` to (JSON), for a renderer of one's own. */
export const toVega = async (spec: VegaLiteSpec): Promise<VegaLiteSpec> => compiled(await vegaLibraries(), spec) as unknown as VegaLiteSpec

/** Vega-Lite's compilation of `spec`, its warnings silent (errors throw). */
const compiled = ({ vega, vegaLite }: { readonly vega: Vega; readonly vegaLite: VegaLite }, spec: VegaLiteSpec) =>
  vegaLite.compile(spec as unknown as Parameters<VegaLite['compile']>[0], { logger: vega.logger(vega.Error) }).spec

/** `spec` as an SVG document: deterministic, no browser, no canvas. Rejects when Vega-Lite or Vega refuse the spec. */
export const toSvg = async (spec: VegaLiteSpec): Promise<string> => {
  const both = await vegaLibraries()
  const { vega } = both
  const view = new vega.View(vega.parse(compiled(both, spec)), { renderer: 'none', logLevel: vega.Error })
  try {
    return `${await view.toSVG()}\n`
  } finally {
    view.finalize()
  }
}
