/**
 * EXPORT SLOT. The export commands (`meshplan export`: the launch commands of a plan for
 * serving engines and trainers) are being built on another branch. When they land, this
 * module renders them for the page's current deployment: replace `exportView` (same
 * signature: the deployment in, an element out) and nothing else in the page changes;
 * `main.ts` already calls it when the Export tab is shown.
 */
import { h } from '../dom'
import type { Deployment } from '../inputs'

/** The Export tab's content for `deployment` (for now, the placeholder that says what will be here). */
export const exportView = (deployment: Deployment | null): HTMLElement =>
  h(
    'div',
    { class: 'export placeholder', 'data-testid': 'export-slot' },
    h('p', {}, 'Export commands will appear here: the launch commands of this plan for serving engines and trainers, from `meshplan export`, which is being built separately.'),
    deployment === null ? null : h('p', { class: 'detail' }, `For now, the deployment to export: ${deployment.model.name} on ${deployment.cluster.name}, tp ${deployment.strategy.tp} x pp ${deployment.strategy.pp} x dp ${deployment.strategy.dp} x cp ${deployment.strategy.cp} (ep ${deployment.strategy.ep}, etp ${deployment.strategy.etp}).`),
  )
