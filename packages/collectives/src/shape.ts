/**
 * A group as the collective algorithms see it: `size` ranks, at most `local` of them in
 * each scale-up domain (a node, or an NVL72 rack), spread over `domains` domains; the
 * scale-up link they share inside a domain and each GPU's share of the scale-out
 * network between domains. Derived once from a `GroupSpan` of `@meshplan/topology`
 * (the `widest` span `@meshplan/parallelism`'s layout gives for each process group),
 * after checking that the span fits the cluster.
 *
 * @example
 * import { spanOf, unsafeClusterOf } from '@meshplan/topology'
 * import { shapeOf } from '@meshplan/collectives'
 * const c = unsafeClusterOf('dgx-h100', 16)
 * shapeOf(c)(spanOf(c)([0, 1, 8, 9])) // right({ size: 4, local: 2, domains: 2, scaleUp: NVLink 450e9 B/s, scaleOut: NIC 50e9 B/s, generation: 'hopper' })
 */
import * as E from 'fp-ts/Either'
import { groupBandwidth, type Cluster, type GroupSpan, type Link } from '@meshplan/topology'
import { bytesPerSecond, seconds } from '@meshplan/units'
import type { CollectiveError } from './error'
import { generationOf, type GpuGeneration } from './tuning'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A group of ranks reduced to what the algorithms price. */
export interface GroupShape {
  /** Ranks in the group (n). */
  readonly size: number
  /** Ranks per scale-up domain (m; the largest count when the span is irregular). */
  readonly local: number
  /** Scale-up domains the group touches (d); 1 when it stays inside one. */
  readonly domains: number
  /**
   * The scale-up link inside a domain: the slowest bandwidth and latency of the
   * scale-up tiers the group crosses; reduces in-network only if all of them do.
   */
  readonly scaleUp: Link
  /**
   * Each GPU's share of the scale-out network between domains: the slowest of the
   * scale-out tiers the group crosses. Meaningful only when `domains > 1`.
   */
  readonly scaleOut: Link
  /**
   * The GPU generation NCCL tunes the group as (`generationOf` the cluster's device):
   * it sets NCCL's bandwidth caps and NVLink SHARP efficiency.
   */
  readonly generation: GpuGeneration
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const spanMismatch = (message: string): CollectiveError => ({ code: 'span-mismatch', message })

const isCount = (n: number): boolean => Number.isSafeInteger(n) && n >= 1

const validateCluster = (cluster: Cluster): E.Either<CollectiveError, Cluster> => {
  if (cluster.tiers.length === 0) return E.left({ code: 'invalid-cluster', tier: '', message: `cluster ${cluster.name} has no tiers` })
  for (const tier of cluster.tiers) {
    const { bandwidth, latency } = tier.link
    const problem = !isCount(tier.fanout)
      ? `fanout must be a whole number from 1, got ${tier.fanout}`
      : !(Number.isFinite(bandwidth) && bandwidth > 0)
        ? `link bandwidth must be a finite number of bytes/s above zero, got ${bandwidth}`
        : !(Number.isFinite(latency) && latency >= 0)
          ? `link latency must be a finite number of seconds, zero or more, got ${latency}`
          : undefined
    if (problem !== undefined) return E.left({ code: 'invalid-cluster', tier: tier.name, message: `tier ${tier.name}: ${problem}` })
  }
  return E.right(cluster)
}

const validateSpan =
  (cluster: Cluster) =>
  (span: GroupSpan): E.Either<CollectiveError, GroupSpan> => {
    const tiers = cluster.tiers
    if (!isCount(span.size)) return E.left(spanMismatch(`a group has a whole number of ranks from 1, got ${span.size}`))
    if (span.levels.length !== tiers.length) {
      return E.left(spanMismatch(`the span has ${span.levels.length} levels but cluster ${cluster.name} has ${tiers.length} tiers`))
    }
    let capacity = 1
    let outermost = -1
    for (let i = 0; i < tiers.length; i++) {
      const tier = tiers[i]
      const level = span.levels[i]
      if (tier === undefined || level === undefined) return E.left(spanMismatch('the span and the cluster disagree on their tiers'))
      if (level.tier !== tier.name) return E.left(spanMismatch(`level ${i} of the span is tier "${level.tier}", the cluster's is "${tier.name}"`))
      if (!isCount(level.width) || level.width > tier.fanout) {
        return E.left(spanMismatch(`the span uses ${level.width} members per ${tier.name}; tier ${tier.name} has ${tier.fanout}`))
      }
      capacity *= level.width
      if (level.width > 1) outermost = i
    }
    if (span.size > capacity || (span.regular && span.size !== capacity)) {
      return E.left(spanMismatch(`a span of ${span.size} ranks does not fit its widths (${span.levels.map((l) => l.width).join(' x ')} = ${capacity})`))
    }
    if (span.outermost !== outermost) {
      return E.left(spanMismatch(`the span says its outermost tier is ${span.outermost} but its widths say ${outermost}`))
    }
    return E.right(span)
  }

const combine = (links: ReadonlyArray<Link>, fallback: Link): Link => {
  if (links.length === 0) return fallback
  let bandwidth = Infinity
  let latency = 0
  let inNetworkReduction = true
  for (const link of links) {
    bandwidth = Math.min(bandwidth, link.bandwidth)
    latency = Math.max(latency, link.latency)
    inNetworkReduction = inNetworkReduction && link.inNetworkReduction
  }
  return { bandwidth: bytesPerSecond(bandwidth), latency: seconds(latency), inNetworkReduction }
}

/**
 * The shape of `span` on `cluster`, or why the span does not fit it. The scale-up
 * domain is the run of leading scale-up tiers (as topology's `scaleUpDomainSize`);
 * every later tier counts as scale-out.
 */
export const shapeOf =
  (cluster: Cluster) =>
  (span: GroupSpan): E.Either<CollectiveError, GroupShape> => {
    const checked = validateCluster(cluster)
    if (E.isLeft(checked)) return checked
    const fits = validateSpan(cluster)(span)
    if (E.isLeft(fits)) return fits
    const tiers = cluster.tiers
    let leading = 0
    while (leading < tiers.length && tiers[leading]?.kind === 'scale-up') leading++
    let local = 1
    let domains = 1
    const up: Link[] = []
    const out: Link[] = []
    span.levels.forEach((level, i) => {
      const tier = tiers[i]
      if (tier === undefined) return
      if (i < leading) local *= level.width
      else domains *= level.width
      // a full-mesh tier gives a group only the links to its own members (topology's groupBandwidth)
      if (level.width > 1) (i < leading ? up : out).push(tier.link.peerBandwidth === undefined ? tier.link : { ...tier.link, bandwidth: groupBandwidth(tier.link, level.width) })
    })
    const first = tiers[0] as (typeof tiers)[number]
    const scaleUp = combine(up, first.link)
    const scaleOut = combine(out, tiers[leading]?.link ?? scaleUp)
    return E.right({
      size: span.size,
      local: Math.min(local, span.size),
      domains: Math.min(domains, span.size),
      scaleUp,
      scaleOut,
      generation: generationOf(cluster.device),
    })
  }
