import { spawnSync } from 'node:child_process'
import * as path from 'node:path'
import { figure, inferenceBreakdownPlot, inferenceMemoryPlot, toSvg, toVega, VEGA_LITE_SCHEMA } from '../src'
import { servingEstimate } from './fixtures'
import { parseSvg, textsOf } from '@meshplan/test-utils'

describe('rendering without a browser', () => {
  const e = servingEstimate()
  const spec = figure('Llama 3.1 8B', [inferenceBreakdownPlot(e), inferenceMemoryPlot(e)], 'a subtitle')

  it('is a Vega-Lite spec with one panel per plot, named after it', () => {
    expect(spec['$schema']).toBe(VEGA_LITE_SCHEMA)
    expect((spec['vconcat'] as ReadonlyArray<{ name: string }>).map((p) => p.name)).toEqual(['breakdown', 'memory'])
  })

  it('gives well-formed SVG with every panel\'s title, the same bytes every time', async () => {
    const first = await toSvg(spec)
    const second = await toSvg(spec)
    expect(second).toBe(first)
    const root = parseSvg(first)
    expect(root.attributes['xmlns']).toBe('http://www.w3.org/2000/svg')
    expect(textsOf(root)).toEqual(expect.arrayContaining(['Llama 3.1 8B', 'a subtitle', 'Where a step goes', 'Memory per GPU']))
  })

  it('gives the same bytes in a fresh Node process, which loads Vega as the ES module it is', async () => {
    const dist = path.join(__dirname, '..', 'dist', 'index.js')
    const script = `require(${JSON.stringify(dist)}).toSvg(JSON.parse(require('node:fs').readFileSync(0, 'utf8'))).then((svg) => process.stdout.write(svg))`
    const child = spawnSync(process.execPath, ['-e', script], { input: JSON.stringify(spec), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    expect(child.stderr).toBe('')
    expect(child.stdout).toBe(await toSvg(spec))
  })

  it('compiles to a Vega spec for a renderer of one\'s own', async () => {
    const vega = await toVega(spec)
    expect(String(vega['$schema'])).toMatch(/vega\/v6/)
  })

  it('rejects a spec Vega-Lite cannot compile', async () => {
    await expect(toSvg({ mark: 'no-such-mark' })).rejects.toThrow()
  })
})
