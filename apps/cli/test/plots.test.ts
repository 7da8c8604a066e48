// --svg FILE and --plot LIST: each command's plots written as one SVG, read back as XML (its marks and their labels).
import * as fs from 'node:fs'
import * as path from 'node:path'
import { labelsOf, marksOf, parseSvg, textsOf } from '@meshplan/test-utils'
import type { Output } from '../src/commands'
import { meshplan, spawnMeshplan, tempFile } from './cli'

const examples = path.join(__dirname, '..', '..', '..', 'examples')
const svgFile = (name: string): string => tempFile(name, '')
const panels = (file: string): ReadonlyArray<string> =>
  ['pareto_front', 'breakdown_segments', 'memory_segments', 'schedule_blocks', 'roofline_operators'].filter((layer) => marksOf(parseSvg(fs.readFileSync(file, 'utf8')), layer).length > 0)

const expectRefused = (r: Output, message: RegExp): void => {
  expect(r.code).toBe(2)
  expect(r.stdout).toBe('')
  expect(r.stderr).toMatch(message)
  expect(r.stderr).not.toContain('internal error')
}

interface PlanJson {
  top: Array<{ description: string; batch: number }>
  pareto: Array<{ description: string; batch: number }>
}

describe('plan --svg: the Pareto front of the search, then the chosen plan', () => {
  const search = ['plan', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--max-tpot', '30ms']
  let file: string
  let r: Output
  let json: PlanJson
  beforeAll(async () => {
    file = svgFile('plan.svg')
    r = await meshplan(...search, '--svg', file)
    json = JSON.parse((await meshplan(...search, '--json')).stdout) as PlanJson
  })

  it('prints the search as without --svg, and says on stderr what it wrote', async () => {
    expect(r.code).toBe(0)
    // the search's time aside
    const untimed = (text: string) => text.replace(/ in [0-9.]+ [mµu]?s:/, ' in (time):')
    expect(untimed(r.stdout)).toBe(untimed((await meshplan(...search)).stdout))
    expect(r.stderr).toBe(`meshplan plan: wrote ${file}: pareto, breakdown, memory, roofline`)
  })

  it('draws one point per front entry and marks the chosen plan, the first row', () => {
    const root = parseSvg(fs.readFileSync(file, 'utf8'))
    const front = labelsOf(root, 'pareto_front')
    expect(front).toHaveLength(json.pareto.length)
    for (const p of json.pareto) expect(front.some((l) => l.startsWith(`${p.description}, batch ${p.batch}: `))).toBe(true)
    const chosen = json.top[0]
    expect(labelsOf(root, 'pareto_chosen')).toHaveLength(1)
    expect(labelsOf(root, 'pareto_chosen')[0]).toMatch(new RegExp(`^${chosen?.description}, batch ${chosen?.batch}: `))
    expect(panels(file)).toEqual(['pareto_front', 'breakdown_segments', 'memory_segments', 'roofline_operators'])
  })

  it('--plot pareto draws the front alone; --json keeps stdout one JSON document', async () => {
    const only = svgFile('front.svg')
    const out = await meshplan(...search, '--json', '--svg', only, '--plot', 'pareto')
    expect(out.code).toBe(0)
    expect(JSON.parse(out.stdout)).toMatchObject({ schema: 'meshplan/plan/2' })
    expect(panels(only)).toEqual(['pareto_front'])
  })

  it('a search that finds nothing writes nothing, keeps its exit code and says why', async () => {
    const none = path.join(path.dirname(svgFile('none.svg')), 'nothing.svg')
    const out = await meshplan(...search.slice(0, -1), '1us', '--svg', none)
    expect(out.code).toBe(1)
    expect(out.stderr).toMatch(/--svg: .* not written: nothing to draw/)
    expect(fs.existsSync(none)).toBe(false)
  })
})

describe('estimate --svg: where a step goes, memory, roofline', () => {
  it('serving: the three panels, the memory parts as the estimate gives them', async () => {
    const file = svgFile('estimate.svg')
    const r = await meshplan('estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '32', '--svg', file)
    expect(r.code).toBe(0)
    expect(panels(file)).toEqual(['breakdown_segments', 'memory_segments', 'roofline_operators'])
    const json = JSON.parse((await meshplan('estimate', '--model', 'llama-2-70b', '--cluster', 'dgx-h100', '--tp', '8', '--batch', '32', '--json')).stdout) as { memory: { weights_bytes: number; capacity_bytes: number } }
    const root = parseSvg(fs.readFileSync(file, 'utf8'))
    const weights = labelsOf(root, 'memory_segments').find((l) => / weights /.test(l))
    // "a GPU: ... : weights 17.25 GB (..%)": Llama 2 70B's weights over tp 8 in bf16
    expect(Number(/ weights ([0-9.]+) GB/.exec(weights ?? '')?.[1]) * 1e9).toBeCloseTo(json.memory.weights_bytes, -5)
    expect(textsOf(root)).toContain(`capacity ${Math.round(json.memory.capacity_bytes / 1e9)} GB`)
  })

  it('training: the schedule has stages x micro-batches forwards and as many backwards', async () => {
    const file = svgFile('train.svg')
    const r = await meshplan('estimate', '--train', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--global-batch', '16', '--svg', file, '--plot', 'schedule,memory')
    expect(r.code).toBe(0)
    expect(r.stderr).toBe(`meshplan estimate: wrote ${file}: memory, schedule`)
    const labels = labelsOf(parseSvg(fs.readFileSync(file, 'utf8')), 'schedule_blocks')
    // dp 1: 16 micro-batches of 1 on each of 4 stages
    expect(labels.filter((l) => / forward of micro-batch /.test(l))).toHaveLength(4 * 16)
    expect(labels.filter((l) => / backward of micro-batch /.test(l))).toHaveLength(4 * 16)
  })

  it('training with ZB-H1: the schedule is not drawn, by default a note, by name an error', async () => {
    const step = ['estimate', '--train', '--model', 'llama-3.1-8b', '--cluster', 'dgx-h100', '--tp', '2', '--pp', '4', '--global-batch', '16', '--schedule', 'zb-h1']
    const file = svgFile('zb.svg')
    const r = await meshplan(...step, '--svg', file)
    expect(r.code).toBe(0)
    expect(r.stderr).toMatch(/wrote .*: breakdown, memory, roofline\nmeshplan estimate: not drawn: schedule: .*ZB-H1/)
    expectRefused(await meshplan(...step, '--svg', file, '--plot', 'schedule'), /--svg: schedule: .*ZB-H1/)
  })
})

describe('check --svg', () => {
  it('a serving plan: its estimate and the search\'s front with the plan marked; exit 1 as without it', async () => {
    const file = svgFile('check.svg')
    const r = await meshplan('check', path.join(examples, 'reference-plan.yaml'), '--svg', file)
    expect(r.code).toBe(1)
    const root = parseSvg(fs.readFileSync(file, 'utf8'))
    expect(panels(file)).toEqual(['pareto_front', 'breakdown_segments', 'memory_segments', 'roofline_operators'])
    // the reference plan: tp 2, dp 64, ep 64, etp 2 at batch 1024
    expect(labelsOf(root, 'pareto_plan')).toHaveLength(1)
    expect(labelsOf(root, 'pareto_plan')[0]).toMatch(/^TP2 DP64 EP64 ETP2, batch 1024: /)
    expect(textsOf(root).some((t) => t.startsWith('best alternative: '))).toBe(true)
  })

  it('a training plan: breakdown, memory per stage, schedule, roofline', async () => {
    const file = svgFile('check-training.svg')
    const r = await meshplan('check', path.join(examples, 'llama-3.1-405b-training.yaml'), '--svg', file, '--plot', 'memory,schedule')
    expect([0, 1]).toContain(r.code)
    expect(panels(file)).toEqual(['memory_segments', 'schedule_blocks'])
    expect(textsOf(parseSvg(fs.readFileSync(file, 'utf8')))).toEqual(expect.arrayContaining(['Memory per GPU by pipeline stage', 'Pipeline schedule (1F1B)']))
  })
})

describe('bad plot flags are errors, never a crash', () => {
  it('--plot without --svg, a plot that does not exist, one the command does not have', async () => {
    expectRefused(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--plot', 'memory'), /--plot: applies with --svg FILE/)
    expectRefused(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--svg', svgFile('x.svg'), '--plot', 'memory,pie'), /--plot: expected a comma-separated list of pareto, breakdown, memory, schedule, roofline, got "memory,pie"/)
    expectRefused(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--svg', svgFile('x.svg'), '--plot', 'schedule'), /--svg: schedule: not a plot of this answer/)
  })

  it('a file that cannot be written: no such folder, a folder', async () => {
    const folder = path.dirname(svgFile('y.svg'))
    expectRefused(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--svg', path.join(folder, 'no', 'such', 'x.svg')), /--svg: cannot write .*: no such folder/)
    expectRefused(await meshplan('estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--svg', folder), /--svg: cannot write .*: a folder/)
  })

  it('a training search has no plots: --svg is an error there', async () => {
    expectRefused(await meshplan('plan', '--train', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--global-batch', '8', '--svg', svgFile('z.svg')), /--svg: a training search has no plots yet/)
  })
})

describe('the binary as a user runs it', () => {
  it('writes the same bytes as the command in this process, twice', async () => {
    const args = ['estimate', '--model', 'llama-2-7b', '--cluster', 'dgx-h100', '--batch', '8']
    const [a, b, c] = [svgFile('a.svg'), svgFile('b.svg'), svgFile('c.svg')]
    expect(spawnMeshplan(...args, '--svg', a).code).toBe(0)
    expect(spawnMeshplan(...args, '--svg', b).code).toBe(0)
    expect((await meshplan(...args, '--svg', c)).code).toBe(0)
    const bytes = fs.readFileSync(a, 'utf8')
    expect(bytes.startsWith('<svg')).toBe(true)
    expect(fs.readFileSync(b, 'utf8')).toBe(bytes)
    expect(fs.readFileSync(c, 'utf8')).toBe(bytes)
  })

  it('documents --svg and --plot in each command\'s help', () => {
    for (const command of ['plan', 'estimate', 'check']) {
      const help = spawnMeshplan(command, '--help').stdout
      expect(help).toContain('--svg <FILE>')
      expect(help).toContain('--plot <LIST>')
    }
  })
})
