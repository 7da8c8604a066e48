/**
 * The built-in example: the hand-written EP64 x TP2 deployment plan for a 16-layer,
 * 64-expert MoE on 128 accelerators (shared/reference/ep64-tp2-deployment-claim.md),
 * laid out by the algebra, with the two claims this stage can check: GPUs used, and
 * experts per GPU.
 */
import type { LayoutReport } from './layout-report'

/** What the plan claims, in its own words. */
export const referenceClaims = {
  source: 'ep64-tp2-deployment-claim.md',
  gpusUsed: 128,
  expertsPerGpu: 1,
} as const

/** The example's flags: EP64 x TP2 x PP1 read in the algebra as tp 2, dp 64, ep 64, etp 2. */
export const exampleArguments = ['--model', 'reference-moe', '--cluster', 'reference', '--nodes', '16', '--tp', '2', '--dp', '64', '--ep', '64', '--etp', '2']

/** Checks the plan's claims against the report. */
export const claimLines = (r: LayoutReport): ReadonlyArray<string> => {
  const used = r.strategy.tp * r.strategy.pp * r.strategy.dp * r.strategy.cp
  const [p] = r.placements
  const lines = ['', `the plan's claims (${referenceClaims.source})`]
  const gpusHold = used === referenceClaims.gpusUsed && r.valid
  lines.push(`  "${referenceClaims.gpusUsed} of 128 GPUs used": ${gpusHold ? 'holds' : 'does not hold'} (tp x pp x dp x cp = ${used} = ${r.gpus} GPUs)`)
  if (p !== undefined && r.placements.length === 1) {
    const holds = p.wholeExperts === referenceClaims.expertsPerGpu
    lines.push(
      `  "${referenceClaims.expertsPerGpu} expert per GPU": ${holds ? 'holds' : 'does not hold'}: each GPU holds ${p.expertFraction === 1 ? 'all' : `1/${Math.round(1 / p.expertFraction)}`} of ` +
        `${p.expertsPerLayer} expert in each of its ${p.moeLayers} MoE layers, i.e. ${p.expertShards} expert shards, the parameters of ${p.wholeExperts} whole experts`,
    )
  }
  return lines
}
