/**
 * Rank layout: which GPUs form each process group, in Megatron-LM's order-based
 * scheme (Megatron-Core `parallel_state.RankGenerator`). An order such as
 * `tp-cp-ep-dp-pp` (the default) lists the dimensions from fastest- to
 * slowest-varying: rank = tp + TP * (cp + CP * (ep + EP * (dp + DP * pp))). Dense
 * and attention layers use the order with ep = 1; MoE layers use the same order
 * with tp -> etp, cp -> 1, ep -> ep and dp -> edp (Megatron's expert rank
 * generator). Both must agree on the pipeline stages, which holds when pp is the
 * slowest dimension.
 *
 * For every group the layout says how it spans the cluster's tiers (inside one
 * node, or N per node across M nodes): the collective model prices exactly this.
 *
 * @example
 * import { layout, strategy } from '@meshplan/parallelism'
 * const l = layout(cluster)(strategy({ tp: 2, dp: 64, ep: 64, etp: 2 }))
 * // right({ groups: { tp: { groups: [[0, 1], [2, 3], ...] }, ep: { groups: [[0, 2, 4, ...], [1, 3, ...]] }, ... } })
 */
import * as E from 'fp-ts/Either'
import { spanOf, worldSize, type Cluster, type GroupSpan } from '@meshplan/topology'
import { expertDataParallel, worldOf, type Strategy } from './strategy'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The dimensions an order arranges. */
export const dimensions = ['tp', 'cp', 'ep', 'dp', 'pp'] as const
export type Dimension = (typeof dimensions)[number]

/** Dimensions from fastest- to slowest-varying. */
export type Order = ReadonlyArray<Dimension>

/** Megatron-LM's default order. */
export const defaultOrder: Order = ['tp', 'cp', 'ep', 'dp', 'pp']

/**
 * The process groups a layout defines. Dense/attention layers: `tp`, `cp`, `dp`, `pp`,
 * `tp-cp` (TP and CP together), `dp-cp` (the gradient reduction group), `tp-pp` (model
 * parallel). MoE layers: `ep`, `etp`, `edp`, `etp-ep` (expert tensor and expert
 * parallel together).
 */
export const groupKinds = ['tp', 'cp', 'dp', 'pp', 'tp-cp', 'dp-cp', 'tp-pp', 'ep', 'etp', 'edp', 'etp-ep'] as const
export type GroupKind = (typeof groupKinds)[number]

/** All groups of one kind and how they lie on the cluster. */
export interface GroupSet {
  readonly kind: GroupKind
  /** Ranks per group. */
  readonly size: number
  /** The groups; every rank is in exactly one. */
  readonly groups: ReadonlyArray<ReadonlyArray<number>>
  /** The distinct spans of the groups, with how many groups have each. */
  readonly spans: ReadonlyArray<{ readonly span: GroupSpan; readonly groups: number }>
  /** The span crossing the outermost tier (the one a synchronous collective waits for). */
  readonly widest: GroupSpan
}

/** A rank's position in every dimension. */
export interface Coordinates {
  readonly tp: number
  readonly cp: number
  readonly dp: number
  readonly pp: number
  readonly ep: number
  readonly etp: number
  readonly edp: number
}

/** Every process group of a strategy on a cluster. */
export interface Layout {
  readonly order: Order
  readonly world: number
  readonly groups: Readonly<Record<GroupKind, GroupSet>>
  /** The coordinates of `rank`. */
  readonly coordinates: (rank: number) => Coordinates
}

/** Why a layout cannot be made. */
export interface LayoutError {
  readonly code: 'order' | 'world-size' | 'expert-fold' | 'pipeline-mismatch'
  readonly message: string
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** Parses `tp-cp-ep-dp-pp`: a permutation of the five dimensions, separated by `-`. */
export const parseOrder = (text: string): E.Either<LayoutError, Order> => {
  const parts = text.split('-')
  const isPermutation =
    parts.length === dimensions.length && dimensions.every((d) => parts.includes(d))
  return isPermutation
    ? E.right(parts as ReadonlyArray<Dimension>)
    : E.left({ code: 'order', message: `order "${text}": expected the five dimensions tp, cp, ep, dp, pp in some order, joined by "-" (e.g. "tp-cp-ep-dp-pp")` })
}

// -------------------------------------------------------------------------------------
// utils
// -------------------------------------------------------------------------------------

type Sizes = Readonly<Record<Dimension, number>>

const stridesOf = (order: Order, sizes: Sizes): Readonly<Record<Dimension, number>> => {
  const strides = { tp: 1, cp: 1, ep: 1, dp: 1, pp: 1 }
  let stride = 1
  for (const d of order) {
    strides[d] = stride
    stride *= sizes[d]
  }
  return strides
}

/**
 * The groups over the `members` dimensions: ranks that differ only in those. Groups
 * are listed by the other dimensions' index and ranks inside a group by the members'
 * index, both fastest-first (Megatron's `generate_masked_orthogonal_rank_groups`).
 */
/**
 * How the groups over `members` index the ranks: the dimensions inside a group (`inner`)
 * and across groups (`outer`), both fastest-first, how many index values a list of
 * dimensions spans, and the rank offset of the `index`-th value of such a list.
 */
const groupIndexing = (order: Order, sizes: Sizes, members: ReadonlyArray<Dimension>) => {
  const strides = stridesOf(order, sizes)
  const offsetOf = (ds: ReadonlyArray<Dimension>, index: number): number => {
    let rest = index
    let offset = 0
    for (const d of ds) {
      offset += (rest % sizes[d]) * strides[d]
      rest = Math.floor(rest / sizes[d])
    }
    return offset
  }
  return {
    strides,
    inner: order.filter((d) => members.includes(d)),
    outer: order.filter((d) => !members.includes(d)),
    count: (ds: ReadonlyArray<Dimension>): number => ds.reduce((n, d) => n * sizes[d], 1),
    offsetOf,
  }
}

const rankGroups = (order: Order, sizes: Sizes, members: ReadonlyArray<Dimension>): number[][] => {
  const { inner, outer, count, offsetOf } = groupIndexing(order, sizes, members)
  const groups: number[][] = []
  for (let g = 0; g < count(outer); g++) {
    const base = offsetOf(outer, g)
    const group: number[] = []
    for (let r = 0; r < count(inner); r++) group.push(base + offsetOf(inner, r))
    groups.push(group)
  }
  return groups
}

/** A group set's spans with how many groups have each. */
type Spans = ReadonlyArray<{ readonly span: GroupSpan; readonly groups: number }>

/**
 * The distinct spans of the groups over `members`, and how many groups have each,
 * without building every group. A group is `base + offset_r` for the members' offsets;
 * shifting it by a whole number of the cluster's second-outermost units (e.g. nodes when
 * the tiers are node and network; domains with a domain tier) moves every member to
 * the same position in another unit, so its span is the same. The spans are therefore
 * those of the bases' residues modulo that unit: at most one span computed per residue,
 * whatever the world size (a million GPUs lay out as fast as a node), and one pass of
 * integer arithmetic over the bases to count the groups.
 */
const spansOf = (cluster: Cluster, order: Order, sizes: Sizes, members: ReadonlyArray<Dimension>): Spans => {
  const { strides, inner, outer, count, offsetOf } = groupIndexing(order, sizes, members)
  const offsets = Array.from({ length: count(inner) }, (_, r) => offsetOf(inner, r))
  // ranks per unit of every tier but the outermost: the period of the spans
  const period = cluster.tiers.slice(0, -1).reduce((n, tier) => n * tier.fanout, 1)
  // an outer dimension whose stride is a whole number of periods moves a group by whole units: it does not change the span
  const varying = outer.filter((d) => strides[d] % period !== 0)
  const repeats = count(outer) / count(varying)
  const span = spanOf(cluster)
  const byResidue = new Map<number, { span: GroupSpan; groups: number }>()
  const bases = count(varying)
  for (let g = 0; g < bases; g++) {
    const base = offsetOf(varying, g)
    const residue = base % period
    const slot = byResidue.get(residue)
    if (slot !== undefined) slot.groups += repeats
    else byResidue.set(residue, { span: span(offsets.map((o) => base + o)), groups: repeats })
  }
  const byKey = new Map<string, { span: GroupSpan; groups: number }>()
  for (const { span: sp, groups } of byResidue.values()) {
    let k = `${sp.size}/${sp.outermost}/${sp.regular}`
    for (const level of sp.levels) k += `/${level.tier}:${level.width}`
    const slot = byKey.get(k)
    if (slot === undefined) byKey.set(k, { span: sp, groups })
    else slot.groups += groups
  }
  return [...byKey.values()]
}

/**
 * A group set whose groups and spans are computed on first use, then kept: a planner
 * that prices four kinds of collective never pays for the other seven, and a large
 * cluster's rank lists are built only when someone reads them.
 */
/**
 * Spans already computed, per cluster, by partition: the groups over some dimensions
 * are the same set of rank sets whenever the world size and each member dimension's
 * size and stride are the same, whatever the other dimensions are (a group is
 * `base + Σ index_d · stride_d`, bases running over the ranks whose member indices are
 * 0). A search lays out thousands of strategies that share most of their partitions.
 */
const spanCache = new WeakMap<Cluster, Map<string, Spans>>()

const groupSet = (cluster: Cluster, kind: GroupKind, size: number, partition: string, make: () => number[][], measure: () => Spans): GroupSet => {
  let groups: number[][] | undefined
  let spans: Spans | undefined
  const groupsOnce = (): number[][] => (groups ??= make())
  const spansOnce = (): Spans => {
    if (spans !== undefined) return spans
    let known = spanCache.get(cluster)
    if (known === undefined) {
      known = new Map()
      spanCache.set(cluster, known)
    }
    spans = known.get(partition)
    if (spans === undefined) {
      spans = measure()
      known.set(partition, spans)
    }
    return spans
  }
  return {
    kind,
    size,
    get groups() {
      return groupsOnce()
    },
    get spans() {
      return spansOnce()
    },
    get widest() {
      return spansOnce().reduce((a, b) => (b.span.outermost > a.span.outermost ? b : a)).span
    },
  }
}

const samePartition = (a: ReadonlyArray<ReadonlyArray<number>>, b: ReadonlyArray<ReadonlyArray<number>>): boolean => {
  const keys = (groups: ReadonlyArray<ReadonlyArray<number>>) => new Set(groups.map((g) => [...g].sort((x, y) => x - y).join(',')))
  const ka = keys(a)
  const kb = keys(b)
  return ka.size === kb.size && [...ka].every((k) => kb.has(k))
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * The process groups of `s` on the first `tp * pp * dp * cp` GPUs of `cluster`,
 * in `order` (default `tp-cp-ep-dp-pp`). Unless `options.moe` is false (a model
 * without MoE layers), an order that does not put pp last must give the expert layers
 * the dense layers' pipeline stages.
 */
export const layout =
  (cluster: Cluster, order: Order = defaultOrder, options: { readonly moe?: boolean } = {}) =>
  (s: Strategy): E.Either<LayoutError, Layout> => {
    const world = worldOf(s)
    if (world > worldSize(cluster)) {
      return E.left({ code: 'world-size', message: `the strategy uses ${world} GPUs, the cluster has ${worldSize(cluster)}` })
    }
    const edp = expertDataParallel(s)
    if (!Number.isInteger(edp)) {
      return E.left({ code: 'expert-fold', message: `ep * etp = ${s.ep * s.etp} does not divide tp * dp * cp = ${s.tp * s.dp * s.cp}` })
    }
    const dense: Sizes = { tp: s.tp, cp: s.cp, ep: 1, dp: s.dp, pp: s.pp }
    const expert: Sizes = { tp: s.etp, cp: 1, ep: s.ep, dp: edp, pp: s.pp }
    // with pp the slowest dimension both folds give pp-major blocks of the same ranks: nothing to compare
    const ppLast = order[order.length - 1] === 'pp'
    // a model without MoE layers (`options.moe: false`) has no expert stages to agree with the dense ones
    if (options.moe !== false && !ppLast && !samePartition(rankGroups(order, dense, ['pp']), rankGroups(order, expert, ['pp']))) {
      return E.left({
        code: 'pipeline-mismatch',
        message: `in order ${order.join('-')} the MoE layers' pipeline stages differ from the dense layers'; put pp last (e.g. tp-cp-ep-dp-pp)`,
      })
    }
    const make = (kind: GroupKind, sizes: Sizes, members: ReadonlyArray<Dimension>) => {
      const strides = stridesOf(order, sizes)
      const partition = `${world}|${members.map((d) => `${sizes[d]}x${strides[d]}`).join(',')}`
      return groupSet(
        cluster,
        kind,
        members.reduce((n, d) => n * sizes[d], 1),
        partition,
        () => rankGroups(order, sizes, members),
        () => spansOf(cluster, order, sizes, members),
      )
    }
    const groups: Record<GroupKind, GroupSet> = {
      tp: make('tp', dense, ['tp']),
      cp: make('cp', dense, ['cp']),
      dp: make('dp', dense, ['dp']),
      pp: make('pp', dense, ['pp']),
      'tp-cp': make('tp-cp', dense, ['tp', 'cp']),
      'dp-cp': make('dp-cp', dense, ['dp', 'cp']),
      'tp-pp': make('tp-pp', dense, ['tp', 'pp']),
      ep: make('ep', expert, ['ep']),
      etp: make('etp', expert, ['tp']),
      edp: make('edp', expert, ['dp']),
      'etp-ep': make('etp-ep', expert, ['tp', 'ep']),
    }
    const denseStrides = stridesOf(order, dense)
    const expertStrides = stridesOf(order, expert)
    const coordinate = (rank: number, d: Dimension, sizes: Sizes, strides: Readonly<Record<Dimension, number>>) =>
      Math.floor(rank / strides[d]) % sizes[d]
    const coordinates = (rank: number): Coordinates => ({
      tp: coordinate(rank, 'tp', dense, denseStrides),
      cp: coordinate(rank, 'cp', dense, denseStrides),
      dp: coordinate(rank, 'dp', dense, denseStrides),
      pp: coordinate(rank, 'pp', dense, denseStrides),
      ep: coordinate(rank, 'ep', expert, expertStrides),
      etp: coordinate(rank, 'tp', expert, expertStrides),
      edp: coordinate(rank, 'dp', expert, expertStrides),
    })
    return E.right({ order, world, groups, coordinates })
  }
