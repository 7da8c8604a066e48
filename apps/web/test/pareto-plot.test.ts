import fc from 'fast-check'
import { paretoPlotSvg, type PlotPoint } from '../src/pareto-plot'

const circles = (svg: string, kind: 'ranked' | 'front'): ReadonlyArray<{ readonly cy: number; readonly perGpu: number }> =>
  [...svg.matchAll(new RegExp(`<circle class="point ${kind}" cx="[^"]*" cy="([^"]*)" r="[^"]*" data-per-gpu="([^"]*)"`, 'g'))].map((m) => ({ cy: Number(m[1]), perGpu: Number(m[2]) }))

const rateArbitrary = fc.oneof(fc.double({ min: 0.01, max: 1e6, noNaN: true }), fc.constantFrom(0, -1, Number.NaN, Number.POSITIVE_INFINITY))
const pointArbitrary: fc.Arbitrary<PlotPoint> = fc.record({ perGpu: rateArbitrary, perUser: rateArbitrary, label: fc.string() })
const drawable = (p: PlotPoint): boolean => Number.isFinite(p.perGpu) && Number.isFinite(p.perUser) && p.perGpu > 0 && p.perUser > 0

describe('the Pareto plot', () => {
  it('has a dot for every ranked plan and every point of the front that can be drawn', () => {
    fc.assert(
      fc.property(fc.array(pointArbitrary, { maxLength: 12 }), fc.array(pointArbitrary, { maxLength: 40 }), (ranked, front) => {
        const svg = paretoPlotSvg(ranked, front)
        expect(circles(svg, 'ranked')).toHaveLength(ranked.filter(drawable).length)
        expect(circles(svg, 'front')).toHaveLength(front.filter(drawable).length)
      }),
    )
  })

  it('draws more tokens/s per GPU higher up, on a linear or a logarithmic axis', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ perGpu: fc.double({ min: 0.5, max: 1e5, noNaN: true }), perUser: fc.double({ min: 0.5, max: 1e3, noNaN: true }), label: fc.constant('') }), { minLength: 2, maxLength: 20 }), (front) => {
        const dots = [...circles(paretoPlotSvg([], front), 'front')].sort((a, b) => a.perGpu - b.perGpu)
        for (let i = 1; i < dots.length; i++) expect((dots[i]?.cy ?? 0) <= (dots[i - 1]?.cy ?? 0) + 0.01).toBe(true)
      }),
    )
  })

  it('escapes labels', () => {
    const svg = paretoPlotSvg([{ perGpu: 10, perUser: 5, label: '<script>alert("x")</script> & co', rank: 1 }], [])
    expect(svg).not.toContain('<script>')
    expect(svg).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co')
  })

  it('says so when there is nothing to plot', () => {
    expect(paretoPlotSvg([], [{ perGpu: 0, perUser: 1, label: '' }])).toContain('no plan to plot')
  })
})
