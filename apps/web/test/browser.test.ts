/**
 * The built page in headless Chromium (Debian's package, driven by playwright-core):
 * what a person does on it, checked against what the `meshplan` command answers for
 * the same input. Screenshots of the main views go to test-artifacts/.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { collectErrors, launch, meshplan, repositoryRoot, screenshot, serveDist, type StaticServer } from './page'

jest.setTimeout(180_000)

let browser: Browser
let server: StaticServer

beforeAll(async () => {
  server = await serveDist()
  browser = await launch()
})

afterAll(async () => {
  await browser?.close()
  await server?.close()
})

const referencePlanText = readFileSync(join(repositoryRoot, 'examples', 'reference-plan.yaml'), 'utf8')

/** A new page (its own context: no service worker or storage shared with another test) at `hash`, with its errors collected. */
const open = async (hash = '', colorScheme: 'light' | 'dark' = 'light'): Promise<{ readonly page: Page; readonly errors: ReadonlyArray<string> }> => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, colorScheme, serviceWorkers: 'block' })
  const page = await context.newPage()
  // generous: the machine may be busy with the other test files
  page.setDefaultTimeout(90_000)
  const errors = collectErrors(page)
  await page.goto(`${server.url}${hash}`)
  await page.waitForSelector('[data-testid=view-estimate]', { state: 'attached' })
  return { page, errors }
}

const json = <T>(text: string): T => JSON.parse(text) as T

/** Whether `a` equals `b` to 1e-9 of the larger (the same arithmetic in two JavaScript engines). */
const close = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b))

const dataValue = async (page: Page, testId: string, attribute = 'data-value'): Promise<number> => Number(await page.getAttribute(`[data-testid=${testId}]`, attribute))
const text = async (page: Page, testId: string): Promise<string> => (await page.innerText(`[data-testid=${testId}] .value`)).trim()

interface CheckJson {
  readonly passes: boolean
  readonly estimate: {
    readonly description: string
    readonly ttft_seconds: number
    readonly tpot_seconds: number
    readonly request_latency_seconds: number
    readonly output_tokens_per_second: number
    readonly output_tokens_per_second_per_gpu: number
    readonly output_tokens_per_second_per_user: number
    readonly memory: { readonly per_gpu_bytes: number; readonly max_batch: number }
  }
  readonly claims: ReadonlyArray<{ readonly metric: string; readonly holds: boolean; readonly computed: number | null }>
  readonly best: { readonly top: ReadonlyArray<{ readonly description: string; readonly output_tokens_per_second_per_gpu: number }> }
}

describe('the audit of a pasted plan file', () => {
  it('shows the figures and verdicts of `meshplan check --json` for the reference plan', async () => {
    const [asJson, asText] = await Promise.all([meshplan(['check', 'examples/reference-plan.yaml', '--json']), meshplan(['check', 'examples/reference-plan.yaml'])])
    // the reference plan's claims do not all hold: the command exits 1 with its audit
    expect(asJson.code).toBe(1)
    const cli = json<CheckJson>(asJson.stdout)
    const { page, errors } = await open()
    await page.click('[data-view=audit]')
    await page.fill('textarea[name=plan]', referencePlanText)
    await page.waitForSelector('[data-testid=audit-verdict]', { timeout: 120_000 })

    expect(await page.getAttribute('[data-testid=audit-verdict]', 'data-passes')).toBe(String(cli.passes))
    const e = cli.estimate
    expect(await page.innerText('[data-testid=audit-description]')).toContain(e.description)
    const figures: ReadonlyArray<readonly [string, number]> = [
      ['audit-ttft', e.ttft_seconds],
      ['audit-tpot', e.tpot_seconds],
      ['audit-request-latency', e.request_latency_seconds],
      ['audit-tokens-total', e.output_tokens_per_second],
      ['audit-tokens-per-gpu', e.output_tokens_per_second_per_gpu],
      ['audit-tokens-per-user', e.output_tokens_per_second_per_user],
      ['audit-memory', e.memory.per_gpu_bytes],
      ['audit-max-batch', e.memory.max_batch],
    ]
    for (const [testId, expected] of figures) {
      const shown = await dataValue(page, testId)
      if (!close(shown, expected)) throw new Error(`${testId}: the page has ${shown}, meshplan check ${expected}`)
    }
    // the text a person reads is the command's, to the character
    expect(asText.stdout).toContain(`TTFT ${await text(page, 'audit-ttft')}   TPOT ${await text(page, 'audit-tpot')}   request ${await text(page, 'audit-request-latency')}`)
    expect(asText.stdout).toContain(`output tokens/s: ${await text(page, 'audit-tokens-total')} in total, ${await text(page, 'audit-tokens-per-gpu')} per GPU, ${await text(page, 'audit-tokens-per-user')} per user`)

    const rows = await page.$$eval('[data-testid=audit-claims] tbody tr', (trs) =>
      trs.map((tr) => ({ metric: tr.getAttribute('data-metric'), holds: tr.getAttribute('data-holds'), computed: tr.getAttribute('data-computed'), line: tr.getAttribute('data-line') })),
    )
    expect(rows.map((r) => r.metric)).toEqual(cli.claims.map((c) => c.metric))
    cli.claims.forEach((c, i) => {
      const shown = rows[i]
      expect(shown?.holds).toBe(String(c.holds))
      if (c.computed === null) expect(shown?.computed).toBeNull()
      else if (!close(Number(shown?.computed), c.computed)) throw new Error(`${c.metric}: the page computed ${shown?.computed}, meshplan check ${c.computed}`)
      // "tpot ≤ 2 ms: computed 68.6 ms, 34.3x of the claim", as the command prints it
      expect(asText.stdout).toContain(`  ${c.holds ? 'holds        ' : 'does not hold'}  ${shown?.line}`)
    })
    expect(await page.innerText('[data-testid=audit-claims-summary]')).toBe(`claims: ${cli.claims.filter((c) => c.holds).length} of ${cli.claims.length} hold`)

    const best = cli.best.top[0]
    expect(await page.getAttribute('[data-testid=audit-best]', 'data-description')).toBe(best?.description)
    expect(close(await dataValue(page, 'audit-best', 'data-per-gpu'), best?.output_tokens_per_second_per_gpu ?? NaN)).toBe(true)
    await screenshot(page, 'audit')
    expect(errors).toEqual([])
  })

  it('audits a training plan file against the training estimate, as `meshplan check --json` does', async () => {
    const cli = await meshplan(['check', 'examples/llama-3.1-405b-training.yaml', '--json'])
    const expected = json<{ readonly passes: boolean; readonly claims: CheckJson['claims']; readonly estimate: { readonly iteration_seconds: number } }>(cli.stdout)
    const { page, errors } = await open('#view=audit')
    await page.fill('textarea[name=plan]', readFileSync(join(repositoryRoot, 'examples', 'llama-3.1-405b-training.yaml'), 'utf8'))
    await page.waitForSelector('[data-testid=audit-verdict]', { timeout: 120_000 })
    expect(await page.getAttribute('[data-testid=audit-verdict]', 'data-passes')).toBe(String(expected.passes))
    expect(close(await dataValue(page, 'audit-iteration'), expected.estimate.iteration_seconds)).toBe(true)
    const rows = await page.$$eval('[data-testid=audit-claims] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-metric'), tr.getAttribute('data-holds')]))
    expect(rows).toEqual(expected.claims.map((c) => [c.metric, String(c.holds)]))
    await page.waitForSelector('[data-testid=audit-training-table]')
    await screenshot(page, 'audit-training')
    expect(errors).toEqual([])
  })

  it('draws the plan\'s deployment graph, its mermaid text that of `meshplan dag`', async () => {
    const [mermaid, asJson] = await Promise.all([meshplan(['dag', 'examples/reference-plan.yaml', '--format', 'mermaid']), meshplan(['dag', 'examples/reference-plan.yaml', '--format', 'json'])])
    expect(mermaid.code).toBe(0)
    const { page, errors } = await open()
    await page.click('[data-view=audit]')
    await page.fill('textarea[name=plan]', referencePlanText)
    await page.click('[data-view=graph]')
    await page.selectOption('select[name=graphSource]', 'plan')
    // the graph of the deployment on the left is there first: wait for the plan's
    await page.waitForFunction(() => document.querySelector('[data-testid=graph-text][data-format=mermaid]')?.textContent?.includes('%% reference-moe') === true)
    expect((await page.textContent('[data-testid=graph-text]'))?.trim()).toBe(mermaid.stdout.trim())
    const graph = json<{ readonly nodes: ReadonlyArray<unknown>; readonly edges: ReadonlyArray<unknown> }>(asJson.stdout)
    expect(await page.locator('[data-testid=graph-svg] g.node').count()).toBe(graph.nodes.length)
    expect(await page.locator('[data-testid=graph-svg] path.edge').count()).toBe(graph.edges.length)
    await screenshot(page, 'graph')
    expect(errors).toEqual([])
  })
})

interface PlanJson {
  readonly top: ReadonlyArray<{ readonly description: string; readonly batch: number; readonly output_tokens_per_second_per_gpu: number }>
  readonly pareto: ReadonlyArray<{ readonly tokens_per_second_per_gpu: number; readonly tokens_per_second_per_user: number }>
}

describe('the serving search', () => {
  it('ranks the plans `meshplan plan` ranks, and the Pareto plot (@meshplan/plots) has a point for each point of the front and the first plan circled', async () => {
    const cli = await meshplan(['plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--nodes', '1', '--max-tpot', '50ms', '--json'])
    expect(cli.code).toBe(0)
    const expected = json<PlanJson>(cli.stdout)
    expect(expected.pareto.length).toBeGreaterThan(1)
    const { page, errors } = await open()
    await page.selectOption('select[name=model]', 'llama-3.1-8b')
    await page.fill('input[name=maxTpot]', '50ms')
    await page.click('[data-view=plans]')
    await page.waitForSelector('[data-testid=plans-table]', { timeout: 120_000 })
    const rows = await page.$$eval('[data-testid=plans-table] tbody tr', (trs) => trs.map((tr) => ({ description: tr.getAttribute('data-description'), perGpu: Number(tr.getAttribute('data-per-gpu')) })))
    expect(rows.map((r) => r.description)).toEqual(expected.top.map((t) => t.description))
    rows.forEach((r, i) => expect(close(r.perGpu, expected.top[i]?.output_tokens_per_second_per_gpu ?? NaN)).toBe(true))
    // the plot is @meshplan/plots' figure: each point of the front a mark of layer pareto_front, the chosen plan of pareto_chosen, each saying its rates
    await page.waitForSelector('[data-testid=pareto-plot][data-state=done] g.pareto_front_marks')
    const rates = (labels: ReadonlyArray<string>): ReadonlyArray<readonly [number, number]> =>
      labels.map((l) => {
        const m = /: ([-\d.e+]+) tokens\/s per GPU, ([-\d.e+]+) tokens\/s per user$/.exec(l)
        return [Number(m?.[1]), Number(m?.[2])] as const
      })
    const labelsOf = (layer: string): Promise<ReadonlyArray<string>> => page.$$eval(`[data-testid=pareto-plot] g.${layer}_marks > *`, (marks) => marks.map((m) => m.getAttribute('aria-label') ?? ''))
    const front = [...rates(await labelsOf('pareto_front'))].sort((a, b) => a[1] - b[1] || b[0] - a[0])
    const chosen = rates(await labelsOf('pareto_chosen'))
    // the plot's numbers carry 6 significant digits
    const near = (a: number, b: number): boolean => Math.abs(a - b) <= 5e-6 * Math.max(Math.abs(a), Math.abs(b))
    expect(front).toHaveLength(expected.pareto.length)
    const cliFront = [...expected.pareto].sort((a, b) => a.tokens_per_second_per_user - b.tokens_per_second_per_user || b.tokens_per_second_per_gpu - a.tokens_per_second_per_gpu)
    cliFront.forEach((p, i) => {
      const [perGpu, perUser] = front[i] ?? [NaN, NaN]
      expect(near(perGpu, p.tokens_per_second_per_gpu) && near(perUser, p.tokens_per_second_per_user)).toBe(true)
    })
    expect(chosen).toHaveLength(1)
    expect(near(chosen[0]?.[0] ?? NaN, expected.top[0]?.output_tokens_per_second_per_gpu ?? NaN)).toBe(true)
    await screenshot(page, 'plans')
    expect(errors).toEqual([])
  })
})

/** A Hugging Face config.json of Llama 3.1 8B (its published fields), with `hidden_size` given as `value`. */
const llamaConfig = (hiddenSize: unknown): string =>
  JSON.stringify(
    {
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      hidden_size: hiddenSize,
      intermediate_size: 14336,
      num_attention_heads: 32,
      num_hidden_layers: 32,
      num_key_value_heads: 8,
      vocab_size: 128256,
      max_position_embeddings: 131072,
      hidden_act: 'silu',
      rms_norm_eps: 1e-5,
      rope_theta: 500000.0,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
    },
    null,
    2,
  )

describe('a pasted config.json', () => {
  it('with an error: the page names the JSON path and what was expected, as the command does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshplan-web-'))
    const file = join(dir, 'config.json')
    writeFileSync(file, llamaConfig('big'))
    const cli = await meshplan(['estimate', '--model', file, '--cluster', 'dgx-h100', '--tp', '8'])
    expect(cli.code).toBe(2)
    // "meshplan estimate: /tmp/.../config.json: config.hidden_size: expected ..., got "big""
    const issues = cli.stderr
      .split('\n')
      .filter((line) => line.includes('config.'))
      .map((line) => line.slice(line.indexOf('config.', line.indexOf(file) + file.length)))
    expect(issues.length).toBeGreaterThan(0)
    expect(issues.join('\n')).toContain('config.hidden_size: expected a positive integer')

    const { page, errors } = await open()
    // pasting a config chooses it as the model
    await page.fill('textarea[name=config]', llamaConfig('big'))
    expect(await page.isChecked('input[name=modelSource][value=config]')).toBe(true)
    // under the config's own field
    await page.waitForFunction(() => document.querySelector('[data-testid=problems-config]')?.textContent?.includes('hidden_size') === true)
    const shown = await page.$$eval('[data-testid=problems-config] li', (lis) => lis.map((li) => li.textContent))
    for (const issue of issues) expect(shown).toContain(issue)
    expect(await page.getAttribute('textarea[name=config]', 'aria-invalid')).toBe('true')
    await screenshot(page, 'config-error')

    // the same config with a number there is a model the page estimates
    await page.fill('textarea[name=config]', llamaConfig(4096))
    await page.waitForSelector('[data-testid=estimate-ttft]')
    expect(await page.locator('[data-testid=problems-config]').count()).toBe(0)
    expect(errors).toEqual([])
  })
})

interface TrainingJson {
  readonly best: ReadonlyArray<{ readonly description: string; readonly iteration_seconds: number }>
}

describe('the training search', () => {
  it('runs in a Web Worker with a progress bar, and ranks the plans `meshplan plan --train` ranks', async () => {
    const args = ['--model', 'llama-3.1-70b', '--cluster', 'dgx-h100', '--nodes', '8', '--global-batch', '512', '--seq-len', '4096']
    const cli = await meshplan(['plan', '--train', ...args, '--json'])
    expect(cli.code).toBe(0)
    const expected = json<TrainingJson>(cli.stdout)
    const { page, errors } = await open('#view=training')
    await page.selectOption('select[name=model]', 'llama-3.1-70b')
    await page.fill('input[name=nodes]', '8')
    await page.fill('input[name=globalBatch]', '512')
    await page.fill('input[name=seqLen]', '4096')
    await page.click('[data-testid=training-start]')
    await page.waitForSelector('[data-testid=training-progress], [data-testid=training-table]', { timeout: 60_000 })
    // while the search runs the page answers (the search is not on its thread) and shows its progress bar
    if (await page.evaluate(() => document.querySelector('[data-testid=training-progress] progress') !== null)) await screenshot(page, 'training-progress')
    await page.waitForSelector('[data-testid=training-table]', { timeout: 150_000 })
    // the worker posted its progress (every 100 ms of searching) before its result
    expect(Number(await page.getAttribute('[data-testid=training-status]', 'data-updates'))).toBeGreaterThan(0)
    const rows = await page.$$eval('[data-testid=training-table] tbody tr', (trs) => trs.map((tr) => ({ description: tr.getAttribute('data-description'), iteration: Number(tr.getAttribute('data-iteration')) })))
    expect(rows.map((r) => r.description)).toEqual(expected.best.map((b) => b.description))
    rows.forEach((r, i) => expect(close(r.iteration, expected.best[i]?.iteration_seconds ?? NaN)).toBe(true))
    await screenshot(page, 'training')
    expect(errors).toEqual([])
  })
})

describe('the page', () => {
  it('keeps its state in the URL: a link opens the same inputs, view and figures', async () => {
    const first = await open()
    await first.page.selectOption('select[name=model]', 'mixtral-8x7b')
    await first.page.fill('input[name=nodes]', '2')
    await first.page.fill('input[name=batch]', '16')
    await first.page.waitForFunction(() => location.hash.includes('batch=16'))
    await first.page.waitForFunction(() => document.querySelector('[data-testid=estimate-description]')?.textContent?.includes('batch 16 per') === true)
    const ttft = await first.page.getAttribute('[data-testid=estimate-ttft]', 'data-value')
    const description = await first.page.innerText('[data-testid=estimate-description]')
    const link = first.page.url()
    expect(link).toContain('model=mixtral-8x7b')

    const second = await open(link.slice(server.url.length))
    await second.page.waitForSelector('[data-testid=estimate-ttft]')
    expect(await second.page.innerText('[data-testid=estimate-description]')).toBe(description)
    expect(await second.page.inputValue('select[name=model]')).toBe('mixtral-8x7b')
    expect(await second.page.inputValue('input[name=nodes]')).toBe('2')
    expect(await second.page.inputValue('input[name=batch]')).toBe('16')
    expect(await second.page.getAttribute('[data-testid=estimate-ttft]', 'data-value')).toBe(ttft)
    await screenshot(second.page, 'estimate')
    expect([...first.errors, ...second.errors]).toEqual([])
  })

  it('follows the browser\'s light or dark preference', async () => {
    const background = (page: Page): Promise<string> => page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const light = await open('', 'light')
    const dark = await open('', 'dark')
    expect(await background(light.page)).toBe('rgb(255, 255, 255)')
    expect(await background(dark.page)).toBe('rgb(13, 17, 23)')
    await dark.page.waitForSelector('[data-testid=estimate-ttft]')
    await screenshot(dark.page, 'estimate-dark')
  })

  it('opens every view without an error', async () => {
    const { page, errors } = await open()
    for (const view of ['plans', 'audit', 'graph', 'training', 'export', 'estimate']) {
      await page.click(`[data-view=${view}]`)
      expect(await page.isVisible(`[data-testid=view-${view}]`)).toBe(true)
    }
    expect(errors).toEqual([])
  })

  it('works offline once loaded: its service worker answers when the server is gone', async () => {
    const own = await serveDist()
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } })
    const page = await context.newPage()
    page.setDefaultTimeout(90_000)
    const errors = collectErrors(page)
    await page.goto(`${own.url}#view=plans&model=llama-3.1-8b`)
    await page.waitForSelector('[data-testid=plans-table]', { timeout: 120_000 })
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready
      if (navigator.serviceWorker.controller === null) await new Promise((done) => navigator.serviceWorker.addEventListener('controllerchange', done, { once: true }))
    })
    await own.close()
    await page.reload()
    // the page, its script and its Web Worker's script all come from the cache: a search runs
    await page.waitForSelector('[data-testid=plans-table]', { timeout: 120_000 })
    // and Vega's chunk too: the Pareto plot is drawn
    await page.waitForSelector('[data-testid=pareto-plot][data-state=done] g.pareto_front_marks')
    await page.click('[data-view=estimate]')
    await page.waitForSelector('[data-testid=estimate-ttft]')
    await screenshot(page, 'offline')
    expect(errors).toEqual([])
    await context.close()
  })
})

interface ExportJson {
  readonly runs_as_written: boolean
  readonly problems: ReadonlyArray<{ readonly code: string; readonly message: string }>
  readonly exported: { readonly description: string } | null
  readonly launch: { readonly commands: ReadonlyArray<{ readonly line: string }>; readonly files: ReadonlyArray<{ readonly path: string; readonly text: string }> } | null
}

describe('the export of a pasted plan file', () => {
  const exportOn = async (engine: string): Promise<{ readonly page: Page; readonly errors: ReadonlyArray<string>; readonly cli: ExportJson }> => {
    const cli = await meshplan(['export', 'examples/reference-plan.yaml', '--engine', engine, '--json'])
    const { page, errors } = await open()
    await page.click('[data-view=audit]')
    await page.fill('textarea[name=plan]', referencePlanText)
    await page.click('[data-view=export]')
    await page.selectOption('select[name=exportSource]', 'plan')
    await page.selectOption('select[name=exportEngine]', engine)
    // the plan file's export on that engine (the deployment on the left is exported first, on the default engine)
    await page.waitForSelector(`[data-testid=export-result][data-engine=${engine}][data-model=reference-moe]`, { timeout: 120_000 })
    return { page, errors, cli: json<ExportJson>(cli.stdout) }
  }
  const commandsOf = (page: Page): Promise<ReadonlyArray<string>> => page.$$eval('[data-testid=export-command]', (pres) => pres.map((p) => p.textContent ?? ''))

  it('shows the commands of `meshplan export --engine sglang --json` for the reference plan', async () => {
    const { page, errors, cli } = await exportOn('sglang')
    expect(cli.launch).not.toBeNull()
    expect(await page.getAttribute('[data-testid=export-verdict]', 'data-runs')).toBe(String(cli.runs_as_written))
    expect(await commandsOf(page)).toEqual(cli.launch?.commands.map((c) => c.line))
    expect(await page.$$eval('[data-testid=export-file]', (pres) => pres.map((p) => p.textContent ?? ''))).toEqual(cli.launch?.files.map((f) => f.text.trimEnd()))
    await screenshot(page, 'export-sglang')
    expect(errors).toEqual([])
  })

  it('shows vLLM\'s refusal with its reasons, and the nearest plan with its commands', async () => {
    const { page, errors, cli } = await exportOn('vllm')
    expect(cli.runs_as_written).toBe(false)
    expect(await page.getAttribute('[data-testid=export-verdict]', 'data-runs')).toBe('false')
    expect(await page.innerText('[data-testid=export-verdict]')).toContain('cannot run the plan as written')
    expect(await page.$$eval('[data-testid=export-problems] li', (lis) => lis.map((li) => li.getAttribute('data-code')))).toEqual(cli.problems.map((p) => p.code))
    expect(await page.getAttribute('[data-testid=export-nearest]', 'data-strategy')).toBe(cli.exported?.description)
    expect(await commandsOf(page)).toEqual(cli.launch?.commands.map((c) => c.line) ?? [])
    await screenshot(page, 'export-vllm')
    expect(errors).toEqual([])
  })
})
