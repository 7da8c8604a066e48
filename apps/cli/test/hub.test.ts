// A Hub id (`org/name`) resolved from the local Hugging Face cache, never the network.
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import { hubCacheDir, hubConfigPath, isHubId } from '../src/hub'
import { meshplan } from './cli'

const calibration = path.resolve(__dirname, '../../../validation/calibration.json')
const qwen3Config = (): unknown => {
  const file = JSON.parse(fs.readFileSync(calibration, 'utf8')) as { cases: Array<{ id: string; model: unknown }> }
  const found = file.cases.find((c) => c.id === 'gpustack-vllm0.11-h100-qwen3-32b-bf16-tp1-sharegpt')
  if (found === undefined) throw new Error('the Qwen3-32B case is in the calibration file')
  return found.model
}

/** Every folder these tests make, removed when they end. */
const made: string[] = []
const folder = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'meshplan-hf-'))
  made.push(dir)
  return dir
}
afterAll(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true })
})

/** A Hugging Face home with `org/name` cached: `refs/main` naming `ref` (when given), and snapshots written in the order given. */
const hfHome = (id: string, snapshots: ReadonlyArray<{ readonly commit: string; readonly config?: unknown }>, ref?: string): string => {
  const home = folder()
  const repo = path.join(home, 'hub', `models--${id.replace('/', '--')}`)
  snapshots.forEach((s, i) => {
    const dir = path.join(repo, 'snapshots', s.commit)
    fs.mkdirSync(dir, { recursive: true })
    if (s.config !== undefined) {
      const file = path.join(dir, 'config.json')
      fs.writeFileSync(file, JSON.stringify(s.config))
      // written one after the other: the later, the newer
      fs.utimesSync(file, 1_700_000_000 + i * 100, 1_700_000_000 + i * 100)
    }
  })
  if (ref !== undefined) {
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true })
    fs.writeFileSync(path.join(repo, 'refs', 'main'), `${ref}\n`)
  }
  return home
}

const a = 'a'.repeat(40)
const b = 'b'.repeat(40)

describe('Hub ids', () => {
  it('are an owner and a name, not a file name', () => {
    expect(['Qwen/Qwen3-32B', 'meta-llama/Llama-3.1-8B-Instruct', 'deepseek-ai/DeepSeek-V3.1'].map(isHubId)).toEqual([true, true, true])
    expect(['config.json', './config.json', 'models/x.yaml', 'a/b/c', 'llama-2-7b', '/abs/path'].map(isHubId)).toEqual([false, false, false, false, false, false])
  })

  it('find the cache where huggingface_hub looks: HF_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub', () => {
    expect(hubCacheDir({ HF_HUB_CACHE: '/c', HF_HOME: '/h', XDG_CACHE_HOME: '/x' })).toBe('/c')
    expect(hubCacheDir({ HF_HOME: '/h', XDG_CACHE_HOME: '/x' })).toBe(path.join('/h', 'hub'))
    expect(hubCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(path.join('/x', 'huggingface', 'hub'))
    expect(hubCacheDir({ HF_HOME: '  ' })).toBe(path.join(os.homedir(), '.cache', 'huggingface', 'hub'))
  })

  it('take the snapshot refs/main names, else the newest that has a config.json', () => {
    const config = { model_type: 'llama' }
    const named = hfHome('org/m', [{ commit: a, config }, { commit: b, config }], a)
    expect(hubConfigPath('org/m', { HF_HOME: named })).toEqual(E.right(path.join(named, 'hub', 'models--org--m', 'snapshots', a, 'config.json')))
    const unnamed = hfHome('org/m', [{ commit: a, config }, { commit: b, config }, { commit: 'c'.repeat(40) }])
    expect(hubConfigPath('org/m', { HF_HOME: unnamed })).toEqual(E.right(path.join(unnamed, 'hub', 'models--org--m', 'snapshots', b, 'config.json')))
  })

  it('say where they looked when the model is not cached, or has no config.json', () => {
    const empty = folder()
    const absent = hubConfigPath('org/m', { HF_HOME: empty })
    expect(E.isLeft(absent) && absent.left).toContain(`not in the local Hugging Face cache (looked for ${path.join(empty, 'hub', 'models--org--m', 'snapshots')})`)
    const bare = hfHome('org/m', [{ commit: a }])
    const none = hubConfigPath('org/m', { HF_HOME: bare })
    expect(E.isLeft(none) && none.left).toContain('no snapshot with a config.json')
  })
})

describe('meshplan --model ORG/NAME', () => {
  const saved = process.env['HF_HOME']
  afterEach(() => {
    if (saved === undefined) delete process.env['HF_HOME']
    else process.env['HF_HOME'] = saved
  })

  it('estimates the cached config as it would the file itself', async () => {
    const config = qwen3Config()
    process.env['HF_HOME'] = hfHome('Qwen/Qwen3-32B', [{ commit: a, config }], a)
    const byId = await meshplan('estimate', '--model', 'Qwen/Qwen3-32B', '--cluster', 'dgx-h100', '--tp', '2', '--json')
    expect(byId.code).toBe(0)
    const file = path.join(folder(), 'config.json')
    fs.writeFileSync(file, JSON.stringify(config))
    const byFile = await meshplan('estimate', '--model', file, '--cluster', 'dgx-h100', '--tp', '2', '--json')
    expect(JSON.parse(byId.stdout)).toEqual(JSON.parse(byFile.stdout))
  })

  it('exits 2 naming where it looked when the model is not cached', async () => {
    const empty = folder()
    process.env['HF_HOME'] = empty
    const r = await meshplan('estimate', '--model', 'Qwen/Qwen3-32B', '--cluster', 'dgx-h100')
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(path.join(empty, 'hub', 'models--Qwen--Qwen3-32B', 'snapshots'))
    expect(r.stderr).toContain('never the network')
  })
})
