/**
 * The page's engine: the work that takes long enough to freeze a page (the audit of a
 * plan file with its search for a better strategy, the serving search, the training
 * search) as jobs that run in a Web Worker (`engine-worker.ts`) and answer with
 * messages: progress while a training search runs, then one result. Jobs and replies
 * are plain data (structured-cloneable: no functions cross), and every failure is a
 * reply with its problems, never an exception.
 *
 * @example
 * await runJob({ kind: 'audit', text: planYaml }, (reply) => console.log(reply.kind))
 * // 'audit'
 */
import * as E from 'fp-ts/Either'
import { defaultCostModels } from '@meshplan/cost-models'
import { planInference, type PlanResult } from '@meshplan/inference'
import { checkPlan, checkTrainingPlan, decodePlan, decodeTrainingPlan, isTrainingPlanDocument, type Audit, type TrainingAudit } from '@meshplan/planner'
import { planTraining, type SearchProgress, type TrainingPlan, type TrainingSearchInput } from '@meshplan/training'
import { describeIssue, parseDocument } from '@meshplan/units'
import { fileNameOf, type SearchInput } from './inputs'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** What the page asks of the engine. */
export type Job =
  | { readonly kind: 'audit'; readonly text: string }
  | { readonly kind: 'search'; readonly input: SearchInput }
  | { readonly kind: 'train'; readonly input: TrainingSearchInput; readonly top: number }

/** What the engine answers: progress (training searches), then one of the others. */
export type Reply =
  | { readonly kind: 'progress'; readonly progress: SearchProgress }
  | { readonly kind: 'audit'; readonly audit: Audit }
  | { readonly kind: 'training-audit'; readonly audit: TrainingAudit }
  | { readonly kind: 'search'; readonly result: PlanResult; readonly seconds: number }
  | { readonly kind: 'train'; readonly plan: TrainingPlan }
  | { readonly kind: 'problems'; readonly problems: ReadonlyArray<string> }

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const problems = (...messages: ReadonlyArray<string>): Reply => ({ kind: 'problems', problems: messages })

/** The audit of a pasted plan file: a serving plan (`meshplan-plan/1`) or a training plan (workload kind `training`). */
const audit = async (text: string): Promise<Reply> => {
  if (text.trim() === '') return problems('plan: paste or drop a plan file (meshplan-plan/1, JSON or YAML)')
  const doc = parseDocument(text, fileNameOf(text, 'plan'))
  if (E.isLeft(doc)) return problems(doc.left.message)
  if (isTrainingPlanDocument(doc.right)) {
    const plan = decodeTrainingPlan(doc.right)
    if (E.isLeft(plan)) return problems(...plan.left.map(describeIssue))
    return { kind: 'training-audit', audit: await checkTrainingPlan(defaultCostModels)(plan.right) }
  }
  const plan = decodePlan(doc.right)
  if (E.isLeft(plan)) return problems(...plan.left.map(describeIssue))
  return { kind: 'audit', audit: checkPlan(defaultCostModels)(plan.right) }
}

/** Runs `job`, posting each reply; resolves once the last is posted. Never rejects. */
export const runJob = async (job: Job, post: (reply: Reply) => void): Promise<void> => {
  try {
    switch (job.kind) {
      case 'audit':
        post(await audit(job.text))
        return
      case 'search': {
        const started = performance.now()
        const result = planInference(defaultCostModels)(job.input)
        post(E.isLeft(result) ? problems(result.left.message) : { kind: 'search', result: result.right, seconds: (performance.now() - started) / 1e3 })
        return
      }
      case 'train': {
        const plan = await planTraining(defaultCostModels)(job.input, {}, { top: job.top, onProgress: (progress) => post({ kind: 'progress', progress }) })
        post(E.isLeft(plan) ? problems(plan.left.message) : { kind: 'train', plan: plan.right })
        return
      }
    }
  } catch (error) {
    post(problems(`internal error: ${error instanceof Error ? error.message : String(error)}`))
  }
}
