/**
 * How a group of ranks spans the tiers of a cluster: the fact a collective model needs
 * to price a collective over the group ("8 ranks in one node", or "8 ranks per node
 * over 16 nodes").
 *
 * @example
 * import { describeSpan, spanOf, unsafeClusterOf } from '@meshplan/topology'
 * const c = unsafeClusterOf('dgx-h100', 16)
 * describeSpan(c)(spanOf(c)([0, 8, 16, 24])) // '4 ranks: 1 per node x 4 nodes'
 */
import type { Cluster } from './cluster'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** A group's extent in one tier. */
export interface SpanLevel {
  /** The tier's name. */
  readonly tier: string
  /** Members of the level below used inside each unit of this tier that the group touches (the largest count when irregular). */
  readonly width: number
}

/** How a group of ranks lies on the tiers of a cluster. */
export interface GroupSpan {
  /** Ranks in the group. */
  readonly size: number
  /** Innermost first, one per tier of the cluster. */
  readonly levels: ReadonlyArray<SpanLevel>
  /**
   * The outermost tier whose link the group's traffic crosses (index into the tiers),
   * or -1 for a group of one rank. 0: inside one node.
   */
  readonly outermost: number
  /** Every touched unit holds the same number of the group's members at every level. */
  readonly regular: boolean
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The span of `ranks` (distinct ranks of `cluster`). */
export const spanOf =
  (cluster: Cluster) =>
  (ranks: ReadonlyArray<number>): GroupSpan => {
    const levels: SpanLevel[] = []
    let regular = true
    // unit ids at the level below: initially the ranks themselves
    let ids: ReadonlyArray<number> = ranks
    for (const tier of cluster.tiers) {
      // ids are distinct at every level (ranks, then the units found below), so counting them per unit is enough
      const children = new Map<number, number>()
      for (const id of ids) {
        const unit = Math.floor(id / tier.fanout)
        children.set(unit, (children.get(unit) ?? 0) + 1)
      }
      let width = 0
      for (const count of children.values()) {
        if (width !== 0 && count !== width) regular = false
        width = Math.max(width, count)
      }
      levels.push({ tier: tier.name, width })
      ids = [...children.keys()]
    }
    let outermost = -1
    levels.forEach((level, index) => {
      if (level.width > 1) outermost = index
    })
    return { size: ranks.length, levels, outermost, regular }
  }

/**
 * `'8 ranks in 1 node'`, `'16 ranks: 8 per node x 2 nodes'`,
 * `'2 ranks: 1 per node x 1 node per domain x 2 domains'`.
 */
export const describeSpan =
  (cluster: Cluster) =>
  (span: GroupSpan): string => {
    const unitName = (level: number): string => cluster.tiers[level]?.name ?? 'unit'
    if (span.outermost <= 0) return `${span.size} rank${span.size === 1 ? '' : 's'} in 1 ${unitName(0)}`
    const parts = span.levels.slice(0, span.outermost + 1).map((level, index) => {
      if (index === 0) return `${level.width} per ${unitName(0)}`
      const units = `${level.width} ${unitName(index - 1)}${level.width === 1 ? '' : 's'}`
      return `${units}${index < span.outermost ? ` per ${unitName(index)}` : ''}`
    })
    return `${span.size} ranks: ${parts.join(' x ')}${span.regular ? '' : ' (irregular)'}`
  }
