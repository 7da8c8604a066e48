/**
 * The `layout` report: whether a strategy satisfies the algebra's laws on a model
 * and cluster, its process groups with how each spans the cluster, and what each GPU
 * holds. Built as plain data (the `--json` output), then rendered as text.
 */
import * as E from 'fp-ts/Either'
import type { Architecture } from '@meshplan/model'
import {
  describe,
  encodeStrategy,
  expertReplicas,
  expertDataParallel,
  groupKinds,
  layout,
  placementClasses,
  stageWidth,
  validate,

  type Note,
  type Order,
  type Strategy,
  type Violation,
} from '@meshplan/parallelism'
import { describeSpan, worldSize, type Cluster } from '@meshplan/topology'
import { ranges, table } from './table'

/** One row of the process-group table. */
export interface GroupRow {
  readonly kind: string
  readonly size: number
  readonly groups: number
  /** How the widest group lies on the cluster. */
  readonly span: string
  /** The tier whose link the widest group crosses (`node`, `network`, ...), or null for groups of one. */
  readonly crosses: string | null
}

/** What the GPUs of one placement class hold. */
export interface PlacementRow {
  readonly ranks: string
  readonly count: number
  readonly layers: string
  readonly layerCount: number
  readonly moeLayers: number
  readonly attentionHeads: number
  readonly kvHeads: number
  readonly expertsPerLayer: number
  /** Of those, the expert ids held as redundant replicas on the class's lowest rank (empty without redundant experts). */
  readonly replicaExperts: ReadonlyArray<number>
  readonly expertFraction: number
  readonly expertShards: number
  readonly wholeExperts: number
  readonly embedding: boolean
  readonly lmHead: boolean
  readonly vocabRows: number
}

/** The `--json` schema of `meshplan layout`. */
export interface LayoutReport {
  readonly model: string
  readonly cluster: string
  readonly gpus: number
  readonly clusterGpus: number
  readonly strategy: ReturnType<typeof encodeStrategy> & { readonly edp: number; readonly summary: string }
  readonly valid: boolean
  readonly violations: ReadonlyArray<Violation>
  readonly notes: ReadonlyArray<Note>
  readonly groups: ReadonlyArray<GroupRow>
  readonly placements: ReadonlyArray<PlacementRow>
  /** Redundant expert slots per MoE layer (replicas of hot experts), and which expert-parallel ranks hold them. */
  readonly redundantExperts: number
  /** Each expert-parallel rank holding replicas, with the expert ids it replicates (empty without redundant experts). */
  readonly replicas: ReadonlyArray<{ readonly epRank: number; readonly experts: ReadonlyArray<number> }>
}

/** `ranges` of `values`, the first few and a count when there are many (a million GPUs are summarised, not listed). */
const shortRanges = (values: ReadonlyArray<number>, shown = 4): string => {
  const parts = ranges(values).split(', ')
  return parts.length <= shown ? parts.join(', ') : `${parts.slice(0, shown).join(', ')}, ... (${values.length.toLocaleString('en-US')} GPUs in ${parts.length.toLocaleString('en-US')} runs)`
}

/** Builds the report; groups and placements only when the strategy is valid. */
export const layoutReport = (model: Architecture, cluster: Cluster, s: Strategy, order: Order, gpus?: number, redundant = 0): LayoutReport => {
  const target = { model, cluster, ...(gpus === undefined ? {} : { gpus }), ...(redundant === 0 ? {} : { redundantExperts: redundant }) }
  const verdict = validate(target)(s)
  const base = {
    model: model.name,
    cluster: cluster.name,
    gpus: gpus ?? worldSize(cluster),
    clusterGpus: worldSize(cluster),
    strategy: { ...encodeStrategy(s), edp: expertDataParallel(s), summary: describe(s) },
    redundantExperts: redundant,
    replicas: [] as ReadonlyArray<{ readonly epRank: number; readonly experts: ReadonlyArray<number> }>,
  }
  if (E.isLeft(verdict)) return { ...base, valid: false, violations: verdict.left, notes: [], groups: [], placements: [] }
  const laid = layout(cluster, order)(s)
  if (E.isLeft(laid)) {
    const violation: Violation = { code: 'world-size', message: laid.left.message, values: {}, suggestion: 'use the default order tp-cp-ep-dp-pp' }
    return { ...base, valid: false, violations: [violation], notes: verdict.right.notes, groups: [], placements: [] }
  }
  const l = laid.right
  const span = describeSpan(cluster)
  const groups = groupKinds
    .filter((kind) => model.moe !== undefined || !['ep', 'etp', 'edp', 'etp-ep'].includes(kind))
    .map((kind): GroupRow => {
      const set = l.groups[kind]
      return {
        kind,
        size: set.size,
        groups: set.spans.reduce((n, x) => n + x.groups, 0),
        span: span(set.widest),
        crosses: set.widest.outermost < 0 ? null : (cluster.tiers[set.widest.outermost]?.name ?? null),
      }
    })
  const replicas = expertReplicas(model, s, redundant)
  const placements = placementClasses(model, s, l, redundant).map(({ example: p, ranks }): PlacementRow => ({
    ranks: shortRanges(ranks),
    count: ranks.length,
    layers: ranges(p.layers),
    layerCount: p.layers.length,
    moeLayers: p.moeLayers,
    attentionHeads: p.attentionHeads,
    kvHeads: p.kvHeads,
    expertsPerLayer: p.experts.perLayer,
    replicaExperts: p.experts.replicas,
    expertFraction: p.experts.fraction,
    expertShards: p.experts.shards,
    wholeExperts: p.experts.wholeEquivalent,
    embedding: p.holdsEmbedding,
    lmHead: p.holdsLmHead,
    vocabRows: p.vocabRows,
  }))
  return { ...base, valid: true, violations: [], notes: verdict.right.notes, groups, placements, replicas }
}

const fractionText = (f: number): string => (f === 1 ? 'whole' : `1/${Math.round(1 / f)} of each`)

/** The report as text for a terminal. */
export const renderLayout = (r: LayoutReport, model: Architecture): string => {
  const s = r.strategy
  const product = s.tp * s.pp * s.dp * s.cp
  const lines = [
    `${r.model} on ${r.cluster}: ${s.summary}`,
    `  tp ${s.tp} x pp ${s.pp} x dp ${s.dp} x cp ${s.cp} = ${product} GPUs; ${r.gpus} to be used (the cluster has ${r.clusterGpus})`,
  ]
  if (model.moe !== undefined) {
    const width = stageWidth({ ...s, sequenceParallel: s.sequence_parallel, virtualStages: s.virtual_pipeline })
    lines.push(`  MoE layers re-fold each stage's ${width} GPUs: ep ${s.ep} x etp ${s.etp} x edp ${Number.isInteger(s.edp) ? s.edp : s.edp.toFixed(3)}`)
  }
  lines.push('')
  if (!r.valid) {
    lines.push(`INVALID: ${r.violations.length} law${r.violations.length === 1 ? '' : 's'} broken`)
    for (const v of r.violations) lines.push(`  [${v.code}] ${v.message}`, `      suggestion: ${v.suggestion}`)
    return lines.join('\n')
  }
  lines.push('valid: every law of the algebra holds')
  for (const n of r.notes) lines.push(`  ${n.severity}: ${n.message}`)
  lines.push('', 'process groups (of more than one GPU)')
  lines.push(
    table(
      ['kind', 'size', 'groups', 'widest group'],
      r.groups.filter((g) => g.size > 1).map((g) => [g.kind, String(g.size), String(g.groups), g.span]),
    )
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  )
  lines.push('', 'what each GPU holds')
  for (const p of r.placements) {
    lines.push(`  GPUs ${p.ranks} (${p.count}):`)
    lines.push(`    layers ${p.layers} (${p.layerCount}, of which ${p.moeLayers} MoE)`)
    lines.push(`    attention: ${p.attentionHeads} of ${model.attention.heads} query heads, ${p.kvHeads} KV head${p.kvHeads === 1 ? '' : 's'}`)
    if (model.moe !== undefined) {
      lines.push(
        `    experts: ${p.expertsPerLayer} ${r.redundantExperts === 0 ? `of ${model.moe.experts}` : `slots of ${model.moe.experts + r.redundantExperts} (${model.moe.experts} routed + ${r.redundantExperts} redundant)`} per MoE layer, ${fractionText(p.expertFraction)}: ` +
          `${p.expertShards} expert shard${p.expertShards === 1 ? '' : 's'} = the parameters of ${p.wholeExperts} whole expert${p.wholeExperts === 1 ? '' : 's'}`,
      )
    }
    const vocab = `${p.vocabRows} of ${model.vocab} vocabulary rows`
    lines.push(`    embedding: ${p.embedding ? `yes (${vocab})` : 'no'}; LM head: ${p.lmHead ? `yes (${vocab})` : 'no'}`)
  }
  if (r.replicas.length > 0) {
    const first = r.replicas[0]
    const last = r.replicas[r.replicas.length - 1]
    lines.push(
      '',
      `redundant expert slots: expert-parallel ranks ${first?.epRank ?? 0}-${last?.epRank ?? 0} (${r.replicas.length}) hold replicas of experts ${ranges(r.replicas.flatMap((x) => x.experts))}, ` +
        `${first?.experts.length ?? 0} per rank; the others hold only routed experts, ${((model.moe?.experts ?? 0) + r.redundantExperts) / Math.max(1, r.strategy.ep)} each (EPLB replicates the experts its load statistics find hottest; without them the first ids stand in)`,
    )
  }
  return lines.join('\n')
}

