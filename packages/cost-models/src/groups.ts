/**
 * Collective groups priced once and shared: a group's price depends only on its span
 * of the cluster (how many ranks on which tiers), so every deployment of a search that
 * has a group of the same span reuses one prepared group of @meshplan/collectives.
 *
 * @example
 * import { prepareGroup, type GroupCache } from '@meshplan/cost-models/internal'
 * const cache: GroupCache = new Map()
 * prepareGroup(defaultCostModels, cluster, span, cache) // right(PreparedGroup), or right(undefined) for one rank
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { prepare, type PreparedGroup } from '@meshplan/collectives'
import type { Cluster, GroupSpan } from '@meshplan/topology'
import { costModelError, type EstimateError } from './error'
import type { CostModels } from './models'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Prepared collective groups by span, shared by the deployments of one search. */
export type GroupCache = Map<string, PreparedGroup>

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const spanKey = (span: GroupSpan): string => `${span.size}/${span.regular}/${span.levels.map((l) => `${l.tier}:${l.width}`).join('/')}`

/** The collective group of `span` priced once (undefined for one rank), shared through `cache`. */
export const prepareGroup = (models: CostModels, cluster: Cluster, span: GroupSpan, cache: GroupCache | undefined): E.Either<EstimateError, PreparedGroup | undefined> => {
  if (span.size <= 1) return E.right(undefined)
  const key = spanKey(span)
  const known = cache?.get(key)
  if (known !== undefined) return E.right(known)
  return pipe(
    prepare(models.collectives)(cluster)(span),
    E.mapLeft(costModelError('collectives')),
    E.map((g) => {
      cache?.set(key, g)
      return g
    }),
  )
}
