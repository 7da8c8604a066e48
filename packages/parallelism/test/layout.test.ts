import * as E from 'fp-ts/Either'
import fc from 'fast-check'
import { worldSize } from '@meshplan/topology'
import { groupKinds, layout, parseOrder } from '../src/layout'
import { expertDataParallel, strategy, type Strategy } from '../src/strategy'
import { spanOf, type Cluster, type GroupSpan } from '@meshplan/topology'
import { enumerate } from '../src/enumerate'
import type { Order } from '../src/layout'
import { clusterOf, layoutOf, referenceCluster, referenceModel, smallCase } from './fixtures'


const expectedSize = (s: Strategy, kind: (typeof groupKinds)[number]): number => {
  const edp = expertDataParallel(s)
  const sizes = { tp: s.tp, cp: s.cp, dp: s.dp, pp: s.pp, 'tp-cp': s.tp * s.cp, 'dp-cp': s.dp * s.cp, 'tp-pp': s.tp * s.pp, ep: s.ep, etp: s.etp, edp, 'etp-ep': s.etp * s.ep }
  return sizes[kind]
}

describe('layout: Megatron-LM worked example', () => {
  // Megatron-Core parallel_state.initialize_model_parallel docstring: 16 GPUs, tp 2, pp 4, dp 2
  const l = layoutOf(clusterOf(8, 2), strategy({ tp: 2, pp: 4, dp: 2 }))

  it('puts consecutive ranks in a TP group', () => {
    expect(l.groups.tp.groups).toEqual([[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11], [12, 13], [14, 15]])
  })

  it('strides DP groups by tp', () => {
    expect(l.groups.dp.groups).toEqual([[0, 2], [1, 3], [4, 6], [5, 7], [8, 10], [9, 11], [12, 14], [13, 15]])
  })

  it('strides pipeline groups by tp * dp', () => {
    expect(l.groups.pp.groups).toEqual([[0, 4, 8, 12], [1, 5, 9, 13], [2, 6, 10, 14], [3, 7, 11, 15]])
  })

  it('says the pipeline groups cross the 2 nodes, 2 ranks per node', () => {
    expect(l.groups.pp.widest.outermost).toBe(1)
    expect(l.groups.pp.widest.levels.map((v) => v.width)).toEqual([2, 2])
    expect(l.groups.tp.widest.outermost).toBe(0)
  })
})

describe('layout: the reference plan', () => {
  const s = strategy({ tp: 2, dp: 64, ep: 64, etp: 2 })
  const l = layoutOf(referenceCluster, s)

  it('pairs GPUs 2k and 2k+1 as the TP group and as the expert-TP group of expert k', () => {
    expect(l.groups.tp.groups[0]).toEqual([0, 1])
    expect(l.groups.tp.groups[63]).toEqual([126, 127])
    expect(l.groups.etp.groups).toEqual(l.groups.tp.groups)
  })

  it('runs the all-to-all over 2 EP groups of 64, each 4 GPUs per node across all 16 nodes', () => {
    expect(l.groups.ep.groups.length).toBe(2)
    expect(l.groups.ep.groups[0]).toEqual(Array.from({ length: 64 }, (_, i) => 2 * i))
    expect(l.groups.ep.spans).toHaveLength(1)
    expect(l.groups.ep.widest.levels.map((v) => v.width)).toEqual([4, 16])
  })

  it('has expert data parallelism of 1: every expert shard is held once', () => {
    expect(l.groups.edp.size).toBe(1)
    expect(l.groups.edp.groups.length).toBe(128)
  })

  it('gives each rank its coordinates', () => {
    // rank 37 = tp 1 + 2 * dp 18; in the expert fold: etp 1 + 2 * ep 18
    expect(l.coordinates(37)).toEqual({ tp: 1, cp: 0, dp: 18, pp: 0, ep: 18, etp: 1, edp: 0 })
  })
})

describe('layout: orders', () => {
  it('parses a permutation and rejects anything else', () => {
    expect(parseOrder('tp-dp-cp-ep-pp')).toEqual(E.right(['tp', 'dp', 'cp', 'ep', 'pp']))
    expect(E.isLeft(parseOrder('tp-cp-dp-pp'))).toBe(true)
    expect(E.isLeft(parseOrder('tp-tp-ep-dp-pp'))).toBe(true)
  })

  it('lays DP fastest when asked', () => {
    const l = layoutOf(clusterOf(4, 1), strategy({ tp: 2, dp: 2 }), ['dp', 'tp', 'cp', 'ep', 'pp'])
    expect(l.groups.dp.groups).toEqual([[0, 1], [2, 3]])
    expect(l.groups.tp.groups).toEqual([[0, 2], [1, 3]])
  })

  it('refuses an order whose MoE pipeline stages differ from the dense ones', () => {
    // order tp-pp-cp-ep-dp: dense pp stride = tp = 2 -> stages {0, 2}, {1, 3}, ...;
    // expert pp stride = etp = 1 -> stages {0, 1}, {2, 3}, ...: the two folds disagree
    const result = layout(clusterOf(8, 1), ['tp', 'pp', 'cp', 'ep', 'dp'])(strategy({ pp: 2, tp: 2, dp: 2, ep: 4 }))
    expect(E.isLeft(result) && result.left.code).toBe('pipeline-mismatch')
  })

  it('lays a model without MoE layers out in that order all the same (moe: false): its dense stages are the only ones', () => {
    const l = layout(clusterOf(8, 1), ['tp', 'pp', 'cp', 'ep', 'dp'], { moe: false })(strategy({ pp: 2, tp: 2, dp: 2, etp: 1 }))
    // pp stride = tp = 2: stages {0, 2}, {1, 3}, {4, 6}, {5, 7}; dp stride = tp · pp = 4
    expect(E.isRight(l) && l.right.groups.pp.groups).toEqual([[0, 2], [1, 3], [4, 6], [5, 7]])
    expect(E.isRight(l) && l.right.groups.dp.groups).toEqual([[0, 4], [1, 5], [2, 6], [3, 7]])
  })

  it('refuses a strategy larger than the cluster', () => {
    expect(E.isLeft(layout(clusterOf(8, 1))(strategy({ tp: 16 })))).toBe(true)
  })
})

describe('layout: laws', () => {
  it('partitions the world in every dimension: every rank in exactly one group of the right size', () => {
    fc.assert(
      fc.property(smallCase, ({ cluster, strategy: s }) => {
        if (s === undefined) return
        const l = layoutOf(cluster, s)
        const world = worldSize(cluster)
        for (const kind of groupKinds) {
          const seen = new Array<number>(world).fill(0)
          for (const group of l.groups[kind].groups) {
            expect(group.length).toBe(expectedSize(s, kind))
            for (const rank of group) seen[rank] = (seen[rank] ?? 0) + 1
          }
          expect(seen.every((n) => n === 1)).toBe(true)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('gives ranks of one TP group equal coordinates except tp', () => {
    fc.assert(
      fc.property(smallCase, ({ cluster, strategy: s }) => {
        if (s === undefined) return
        const l = layoutOf(cluster, s)
        for (const group of l.groups.tp.groups) {
          const coordinates = group.map((rank) => l.coordinates(rank))
          expect(coordinates.map((c) => c.tp)).toEqual(Array.from({ length: s.tp }, (_, i) => i))
          expect(new Set(coordinates.map((c) => `${c.cp},${c.dp},${c.pp}`)).size).toBe(1)
        }
      }),
      { numRuns: 100 },
    )
  })
})

it('layout of the reference model is consistent with its placement fixture', () => {
  expect(referenceModel.moe?.experts).toBe(64)
})

describe('layout: spans counted without building every group equal the spans of every group', () => {
  const spanKey = (s: GroupSpan): string =>
    `${s.size}/${s.outermost}/${s.regular}/${s.levels.map((l) => `${l.tier}:${l.width}`).join('/')}`

  /** Clusters of 1 to 8 GPUs per node (3 and 6 too), with or without a multi-node domain tier, and a strategy on some or all of it. */
  const anyCase = fc
    .record({ perNode: fc.constantFrom(1, 2, 3, 4, 6, 8), nodes: fc.integer({ min: 1, max: 6 }), domain: fc.constantFrom(0, 2, 3), pick: fc.nat(), use: fc.nat(), order: fc.constantFrom('tp-cp-ep-dp-pp', 'tp-dp-cp-ep-pp', 'cp-tp-ep-dp-pp') })
    .map(({ perNode, nodes, domain, pick, use, order }) => {
      const base = clusterOf(perNode, nodes)
      const withDomain = domain > 1 && nodes % domain === 0 && nodes > domain
      const node = base.tiers[0] as Cluster['tiers'][number]
      const network = base.tiers[1] as Cluster['tiers'][number]
      const cluster: Cluster = withDomain ? { ...base, tiers: [node, { ...node, name: 'domain', fanout: domain }, { ...network, fanout: nodes / domain }] } : base
      const world = perNode * nodes
      const sizes = Array.from({ length: world }, (_, i) => i + 1).filter((g) => world % g === 0)
      const gpus = sizes[use % sizes.length] as number
      const all = [...enumerate({ model: referenceModel, cluster, gpus })({})]
      return { cluster, s: all[pick % Math.max(1, all.length)], order: E.getOrElse((): Order => ['tp', 'cp', 'ep', 'dp', 'pp'])(parseOrder(order)) }
    })

  it('law: for random strategies on clusters with and without a domain tier, every group kind\'s spans and counts match a brute-force pass over its groups', () => {
    fc.assert(
      fc.property(anyCase, ({ cluster, s, order }) => {
        if (s === undefined) return
        const laid = layout(cluster, order)(s)
        if (E.isLeft(laid)) return
        const l = laid.right
        const span = spanOf(cluster)
        for (const kind of groupKinds) {
          const set = l.groups[kind]
          const brute = new Map<string, number>()
          for (const g of set.groups) {
            const k = spanKey(span(g))
            brute.set(k, (brute.get(k) ?? 0) + 1)
          }
          const fast = new Map(set.spans.map((x) => [spanKey(x.span), x.groups]))
          expect(fast).toEqual(brute)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('counts the groups of a 65,536-GPU layout without listing them: 8,192 TP groups in one node each, 8 DP groups over every node', () => {
    const l = layoutOf(clusterOf(8, 8192), strategy({ tp: 8, dp: 8192 }))
    expect(l.groups.tp.spans).toEqual([{ span: expect.objectContaining({ size: 8, outermost: 0 }), groups: 8192 }])
    expect(l.groups.dp.spans).toEqual([{ span: expect.objectContaining({ size: 8192, outermost: 1 }), groups: 8 }])
  })
})
