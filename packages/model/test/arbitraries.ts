/**
 * fast-check generators shared by the tests: architectures that satisfy the domain
 * rules (small shapes, every kind of attention, MLP and MoE layout), and the check that
 * a value is such an architecture.
 */
import fc from 'fast-check'
import type { Architecture, Attention, Moe } from '../src/architecture'
import { families } from '../src/architecture'

const dim = fc.integer({ min: 1, max: 64 })

const headAttention: fc.Arbitrary<Attention> = fc
  .record({ kvHeads: fc.integer({ min: 1, max: 8 }), group: fc.integer({ min: 1, max: 4 }), headDim: dim, qkvBias: fc.boolean(), outputBias: fc.boolean(), qkNorm: fc.boolean() })
  .map(({ kvHeads, group, ...rest }) => ({ kind: group === 1 ? 'mha' : 'gqa', heads: kvHeads * group, kvHeads, ...rest }))

const latentAttention: fc.Arbitrary<Attention> = fc.record({
  kind: fc.constant('mla' as const),
  heads: fc.integer({ min: 1, max: 16 }),
  qLoraRank: fc.option(dim, { nil: null }),
  kvLoraRank: dim,
  qkNopeHeadDim: dim,
  qkRopeHeadDim: dim,
  vHeadDim: dim,
})

export const arbitraryAttention: fc.Arbitrary<Attention> = fc.oneof(headAttention, latentAttention)

const arbitraryMoe = (layers: number): fc.Arbitrary<Moe> =>
  fc
    .record({
      experts: fc.integer({ min: 1, max: 32 }),
      topKSeed: fc.nat(),
      expertFfn: dim,
      sharedExperts: fc.integer({ min: 0, max: 2 }),
      sharedExpertFfn: dim,
      firstDenseLayers: fc.integer({ min: 0, max: layers - 1 }),
      stepSeed: fc.nat(),
      routerBias: fc.boolean(),
    })
    .map(({ experts, topKSeed, sharedExperts, sharedExpertFfn, firstDenseLayers, stepSeed, ...rest }) => ({
      experts,
      topK: 1 + (topKSeed % experts),
      sharedExperts,
      sharedExpertFfn: sharedExperts === 0 ? 0 : sharedExpertFfn,
      firstDenseLayers,
      step: 1 + (stepSeed % (layers - firstDenseLayers)),
      ...rest,
    }))

/** A valid architecture with small shapes. */
export const arbitraryArchitecture: fc.Arbitrary<Architecture> = fc
  .integer({ min: 1, max: 12 })
  .chain((layers) =>
    fc.record(
      {
        name: fc.string(),
        family: fc.constantFrom(...families, 'custom' as const),
        hidden: dim,
        layers: fc.constant(layers),
        vocab: fc.integer({ min: 1, max: 1000 }),
        tiedEmbeddings: fc.boolean(),
        attention: arbitraryAttention,
        mlp: fc.record({ kind: fc.constantFrom('gelu' as const, 'swiglu' as const), ffn: dim, bias: fc.boolean() }),
        moe: arbitraryMoe(layers),
        norm: fc.constantFrom('rmsnorm' as const, 'layernorm' as const),
        positions: fc.constantFrom('rope' as const, 'learned' as const),
        maxPositions: fc.integer({ min: 1, max: 4096 }),
        slidingWindow: fc.integer({ min: 1, max: 4096 }),
      },
      { requiredKeys: ['name', 'family', 'hidden', 'layers', 'vocab', 'tiedEmbeddings', 'attention', 'mlp', 'norm', 'positions', 'maxPositions'] },
    ),
  )

const isSize = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n < 2 ** 31
const isCount = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n < 2 ** 31

/** The rules every Architecture keeps; the reasons it breaks them (empty when it is valid). */
export const architectureProblems = (arch: Architecture): ReadonlyArray<string> => {
  const problems: string[] = []
  const need = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what)
  }
  need(typeof arch.name === 'string', 'name')
  need(([...families, 'custom'] as ReadonlyArray<string>).includes(arch.family), 'family')
  for (const key of ['hidden', 'layers', 'vocab', 'maxPositions'] as const) need(isSize(arch[key]), key)
  const a = arch.attention
  if (a.kind === 'mla') {
    for (const key of ['heads', 'kvLoraRank', 'qkNopeHeadDim', 'qkRopeHeadDim', 'vHeadDim'] as const) need(isSize(a[key]), key)
    need(a.qLoraRank === null || isSize(a.qLoraRank), 'qLoraRank')
  } else {
    for (const key of ['heads', 'kvHeads', 'headDim'] as const) need(isSize(a[key]), key)
    need(a.heads % a.kvHeads === 0, 'heads divisible by kvHeads')
    need((a.kind === 'mha') === (a.heads === a.kvHeads), 'mha exactly when kvHeads = heads')
  }
  need(isSize(arch.mlp.ffn), 'mlp.ffn')
  const moe = arch.moe
  if (moe !== undefined) {
    need(isSize(moe.experts) && isSize(moe.topK) && moe.topK <= moe.experts, 'topK in 1..experts')
    need(isSize(moe.expertFfn) && isCount(moe.sharedExperts) && isCount(moe.sharedExpertFfn), 'expert shapes')
    need(isCount(moe.firstDenseLayers) && moe.firstDenseLayers < arch.layers, 'firstDenseLayers below layers')
    need(isSize(moe.step) && moe.step <= arch.layers - moe.firstDenseLayers, 'step leaves an MoE layer')
  }
  need(arch.slidingWindow === undefined || isSize(arch.slidingWindow), 'slidingWindow')
  return problems
}
