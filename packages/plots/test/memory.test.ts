import { figure, inferenceMemoryPlot, inferenceMemorySegments, toSvg, trainingMemoryPlot, trainingMemorySegments } from '../src'
import { servingEstimate, trainingEstimate } from './fixtures'
import { expectClose, labelsOf, marksOf, parseSvg, textsOf } from '@meshplan/test-utils'

const GB = 1e9

describe('memory per serving GPU', () => {
  const e = servingEstimate()
  const part = (name: string) => inferenceMemorySegments(e).find((s) => s.part === name)?.value ?? 0

  it('stacks the estimate\'s parts, which add up to the memory per GPU', () => {
    expectClose(part('weights') * GB, e.memory.weights, 1e-5)
    expectClose(part('KV cache') * GB, e.memory.kvCache, 1e-5)
    expectClose(part('workspace') * GB, e.memory.workspace, 1e-5)
    expectClose(part('reserve') * GB, e.memory.reserve, 1e-5)
    expectClose((part('weights') + part('KV cache') + part('workspace') + part('reserve')) * GB, e.memory.perGpu, 1e-5)
    // Llama 3.1 8B's 8.03e9 parameters in bf16 over tp 2: a little over 8 GB per GPU
    expect(part('weights')).toBeGreaterThan(8)
    expect(part('weights')).toBeLessThan(8.1)
  })

  it('draws a segment per part and the capacity as a rule with its label', async () => {
    const root = parseSvg(await toSvg(figure('estimate', [inferenceMemoryPlot(e)])))
    expect(labelsOf(root, 'memory_segments')).toHaveLength(4)
    expect(labelsOf(root, 'memory_segments').map((l) => l.split(': ')[2]?.split(' ')[0])).toEqual(['weights', 'KV', 'workspace', 'reserve'])
    expect(marksOf(root, 'memory_limit')).toHaveLength(1)
    expect(textsOf(root)).toContain(`capacity ${Math.round(e.memory.capacity / GB)} GB`)
    expect(textsOf(root)).toEqual(expect.arrayContaining(['Memory per GPU', 'GB per GPU']))
  })
})

describe('memory per training GPU, per pipeline stage', () => {
  const e = trainingEstimate()

  it('stacks weights, gradients, optimizer state, activations and reserve to each stage\'s total', () => {
    const segments = trainingMemorySegments(e)
    expect(new Set(segments.map((s) => s.bar)).size).toBe(e.stages.length)
    for (const [i, stage] of e.stages.entries()) {
      const bar = [...new Set(segments.map((s) => s.bar))][i]
      const mine = segments.filter((s) => s.bar === bar)
      expectClose(mine.reduce((a, s) => a + s.value, 0) * GB, stage.memory.total, 1e-5)
      expectClose((mine.find((s) => s.part === 'optimizer state')?.value ?? 0) * GB, stage.memory.optimizer, 1e-5)
    }
  })

  it('draws a bar per class of stages against the capacity', async () => {
    const root = parseSvg(await toSvg(figure('estimate', [trainingMemoryPlot(e)])))
    expect(labelsOf(root, 'memory_segments')).toHaveLength(trainingMemorySegments(e).length)
    expect(marksOf(root, 'memory_limit')).toHaveLength(1)
    // the first stage holds the embedding, the last the LM head
    expect(textsOf(root).some((t) => t.startsWith('stage 0 (+embedding)'))).toBe(true)
    expect(textsOf(root).some((t) => t.startsWith('stage 3 (+lm_head)'))).toBe(true)
  })
})
