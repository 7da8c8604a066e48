/**
 * A Hugging Face model id (`org/name`) resolved to the `config.json` of its newest
 * snapshot in the local Hugging Face cache, without any network access. The cache is
 * where `huggingface_hub` keeps it (its "Manage the cache" guide): `$HF_HUB_CACHE`, else
 * `$HF_HOME/hub`, else `$XDG_CACHE_HOME/huggingface/hub`, else
 * `~/.cache/huggingface/hub`; a model `org/name` is the folder `models--org--name`, whose
 * `refs/main` names the commit of `snapshots/<commit>/`.
 */
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'

/** A model id as the Hub writes it: an owner and a name, each of letters, digits, `.`, `_` and `-`. */
export const isHubId = (name: string): boolean => /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}\/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/.test(name) && !/\.(json|ya?ml)$/i.test(name)

/** The hub cache directory `huggingface_hub` would use with the environment `env`. */
export const hubCacheDir = (env: NodeJS.ProcessEnv = process.env): string => {
  const given = (name: string): string | undefined => {
    const value = env[name]
    return value === undefined || value.trim() === '' ? undefined : value
  }
  const hubCache = given('HF_HUB_CACHE')
  if (hubCache !== undefined) return hubCache
  const home = given('HF_HOME')
  if (home !== undefined) return path.join(home, 'hub')
  return path.join(given('XDG_CACHE_HOME') ?? path.join(os.homedir(), '.cache'), 'huggingface', 'hub')
}

const isFile = (file: string): boolean => {
  try {
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/**
 * The path of `id`'s `config.json` in the local cache: the snapshot `refs/main` names,
 * else the most recently written snapshot that has one; or where it looked and what to do.
 */
export const hubConfigPath = (id: string, env: NodeJS.ProcessEnv = process.env): E.Either<string, string> => {
  const cache = hubCacheDir(env)
  const repo = path.join(cache, `models--${id.replace('/', '--')}`)
  const missing = (what: string): E.Either<string, never> =>
    E.left(`${id}: ${what} (meshplan reads the local Hugging Face cache only, never the network; set HF_HOME or HF_HUB_CACHE, fetch it with \`huggingface-cli download ${id} config.json\`, or give the path of a config.json)`)
  const snapshots = path.join(repo, 'snapshots')
  let names: ReadonlyArray<string>
  try {
    names = fs.readdirSync(snapshots)
  } catch {
    return missing(`not in the local Hugging Face cache (looked for ${snapshots})`)
  }
  let ref: string | undefined
  try {
    ref = fs.readFileSync(path.join(repo, 'refs', 'main'), 'utf8').trim()
  } catch {
    ref = undefined
  }
  if (ref !== undefined && /^[0-9a-f]{40}$/i.test(ref)) {
    const named = path.join(snapshots, ref, 'config.json')
    if (isFile(named)) return E.right(named)
  }
  const candidates = names
    .map((n) => path.join(snapshots, n, 'config.json'))
    .filter(isFile)
    .map((file) => ({ file, written: fs.statSync(file).mtimeMs }))
    .sort((a, b) => b.written - a.written || a.file.localeCompare(b.file))
  const newest = candidates[0]
  return newest === undefined ? missing(`no snapshot with a config.json in ${snapshots}`) : E.right(newest.file)
}
