import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { models } from '@meshplan/model'
import { deploymentOf, modelOf, searchInputOf, strategyOf, trainingInputOf, type FieldProblem } from '../src/inputs'
import { defaultState, fieldNames, isChoice, type PageState } from '../src/state'

const state = (fields: Partial<PageState>): PageState => ({ ...defaultState, ...fields })
const problemsOf = <A>(r: E.Either<ReadonlyArray<FieldProblem>, A>): ReadonlyArray<FieldProblem> => (E.isLeft(r) ? r.left : [])

const llamaConfig = (fields: Record<string, unknown> = {}): string =>
  JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4096, intermediate_size: 14336, num_attention_heads: 32, num_hidden_layers: 32, num_key_value_heads: 8, vocab_size: 128256, max_position_embeddings: 131072, ...fields })

describe('the model', () => {
  it('is the preset of its name', () => {
    expect(modelOf(state({ model: 'mixtral-8x7b' }))).toEqual(E.right(models['mixtral-8x7b']))
  })

  it('from a pasted config.json: its shapes', () => {
    const m = modelOf(state({ modelSource: 'config', config: llamaConfig() }))
    if (E.isLeft(m)) throw new Error(m.left.map((p) => p.message).join('\n'))
    expect([m.right.layers, m.right.hidden, m.right.vocab]).toEqual([32, 4096, 128256])
  })

  it('from a config.json pasted as YAML too', () => {
    const yaml = Object.entries(JSON.parse(llamaConfig()) as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
      .join('\n')
    expect(E.isRight(modelOf(state({ modelSource: 'config', config: yaml })))).toBe(true)
  })

  it('names the JSON path of a bad field, the value found and what was expected', () => {
    const found = problemsOf(modelOf(state({ modelSource: 'config', config: llamaConfig({ hidden_size: 'big' }) })))
    expect(found.map((p) => p.field)).toEqual(['config'])
    expect(found[0]?.message).toMatch(/^config\.hidden_size: expected a positive integer.*, got "big"$/)
  })

  it('says a text that is not JSON or YAML is not, and an empty one is missing', () => {
    expect(problemsOf(modelOf(state({ modelSource: 'config', config: '{"hidden_size": ' })))[0]?.field).toBe('config')
    expect(problemsOf(modelOf(state({ modelSource: 'config', config: '  ' })))[0]?.message).toContain('paste or drop')
  })

  it('suggests the preset nearest to an unknown name', () => {
    expect(problemsOf(modelOf(state({ model: 'mixtral-8x7' })))[0]?.message).toContain('mixtral-8x7b')
  })
})

describe('the deployment', () => {
  it('reports every problem at once, each at its field', () => {
    const found = problemsOf(deploymentOf(state({ tp: '0', nodes: 'two', inputTokens: '-5', maxTpot: 'soon' })))
    expect(found.map((p) => p.field).sort()).toEqual(['inputTokens', 'nodes', 'tp'])
    expect(found.find((p) => p.field === 'tp')?.message).toBe('tp: expected a positive integer, got "0"')
    expect(problemsOf(searchInputOf(state({ maxTpot: 'soon' }))).map((p) => p.field)).toEqual(['maxTpot'])
  })

  it('takes durations with their units for the objectives', () => {
    const input = searchInputOf(state({ maxTpot: '50ms', maxTtft: '2s' }))
    expect(E.isRight(input) && input.right.slo).toEqual({ maxTpot: 0.05, maxTtft: 2 })
  })

  it('splits an MoE model\'s experts over the TP group unless ep or etp is given (Megatron-Core\'s default)', () => {
    const mixtral = models['mixtral-8x7b']
    const of = (fields: Partial<PageState>) => {
      const s = strategyOf(state(fields), mixtral)
      return E.isRight(s) ? [s.right.ep, s.right.etp] : null
    }
    expect(of({ tp: '8' })).toEqual([1, 8])
    expect(of({ tp: '8', ep: '8' })).toEqual([8, 1])
    expect(of({ tp: '8', etp: '2' })).toEqual([1, 2])
  })

  it('cuts layers that do not divide into the stages as Megatron-LM users do', () => {
    const s = strategyOf(state({ tp: '8', pp: '4' }), models['llama-3.1-405b'])
    expect(E.isRight(s) && s.right.pipelineSplit).toBeTruthy()
    const even = strategyOf(state({ tp: '8', pp: '2' }), models['llama-3.1-405b'])
    expect(E.isRight(even) && even.right.pipelineSplit).toBeUndefined()
  })

  it('the training search needs a global batch and a sequence length', () => {
    expect(problemsOf(trainingInputOf(state({ globalBatch: '', seqLen: '1.5' }))).map((p) => p.field)).toEqual(['globalBatch', 'seqLen'])
  })

  it('never throws, whatever is typed in the fields', () => {
    const texts = fieldNames.filter((n) => !isChoice(n))
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...texts), fc.oneof(fc.string(), fc.constantFrom('0', '-1', '1e400', 'NaN', '{', '[]', 'null', '64', '1024'))), fc.constantFrom('preset', 'config'), fc.constantFrom('preset', 'file'), (fields, modelSource, clusterSource) => {
        const s = state({ ...fields, modelSource, clusterSource } as Partial<PageState>)
        const results: ReadonlyArray<E.Either<ReadonlyArray<FieldProblem>, unknown>> = [deploymentOf(s), searchInputOf(s), trainingInputOf(s)]
        for (const r of results) if (E.isLeft(r)) for (const p of r.left) expect(typeof p.message).toBe('string')
      }),
      { numRuns: 200 },
    )
  })
})
