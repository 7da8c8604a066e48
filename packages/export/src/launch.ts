/**
 * What an export hands a user: the commands the nodes run, the configuration files they
 * read, and every setting of the plan with the engine flag, environment variable or file
 * key that carries it and where the engine documents it. A command stands for a range of
 * nodes: where it names `$NODE_RANK`, each node of the range runs it with its own rank;
 * a command for one node has its rank written in. Other `$NAMES` are placeholders the
 * user fills in ({@link placeholderMeanings}).
 *
 * @example
 * import { commandLine } from '@meshplan/export'
 * commandLine({ env: [], argv: ['vllm', 'serve', 'm', '--data-parallel-start-rank', '$((NODE_RANK * 4))'] })
 * // 'vllm serve m --data-parallel-start-rank "$((NODE_RANK * 4))"'
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** Where a setting goes: a command-line flag, an environment variable, or a key of a configuration file. */
export type Place = 'flag' | 'env' | 'file'

/** A flag, variable or file key as one release of an engine documents it: the data of the engines' tables. */
export interface Documented {
  readonly key: string
  readonly place: Place
  /** The file, function or page of that release where it is defined. */
  readonly source: string
}

/** A setting's value: a word, a number, a switch, or a list of them (a file key may take a list). */
export type Value = string | number | boolean | ReadonlyArray<Value>

/** One setting of the plan as the engine takes it. */
export interface Setting {
  /** What of the plan it carries, in words (`attention tensor parallelism`). */
  readonly name: string
  readonly place: Place
  /** `--tensor-parallel-size`, `VLLM_PP_LAYER_PARTITION`, `parallelism.tensor_parallel_degree`. */
  readonly key: string
  /** The value; `true` for a switch flag. */
  readonly value: Value
  readonly source: string
}

/** A command the nodes `firstNode`, `firstNode + stride`, ... up to `lastNode` run (0-based node ranks). */
export interface NodeCommand {
  readonly firstNode: number
  readonly lastNode: number
  /** 1: every node of the range; `k`: every `k`th (the first node of each instance of `k` nodes). */
  readonly stride: number
  /** What it does, in a few words. */
  readonly role: string
  readonly env: ReadonlyArray<readonly [string, string]>
  readonly argv: ReadonlyArray<string>
}

/** A configuration file the commands read, written beside them. */
export interface ConfigFile {
  readonly path: string
  readonly format: 'yaml' | 'toml'
  readonly text: string
}

/** A placeholder of the commands and what to put there. */
export interface Placeholder {
  readonly name: string
  readonly meaning: string
}

/** How to launch one strategy on an engine. */
export interface Launch {
  /** Nodes the strategy uses. */
  readonly nodes: number
  readonly commands: ReadonlyArray<NodeCommand>
  readonly files: ReadonlyArray<ConfigFile>
  /** Every setting of the commands and files, with its source. */
  readonly settings: ReadonlyArray<Setting>
  /** What the user must know to run them (how the nodes find each other, what is left to the engine). */
  readonly notes: ReadonlyArray<string>
  readonly placeholders: ReadonlyArray<Placeholder>
}

// -------------------------------------------------------------------------------------
// constants
// -------------------------------------------------------------------------------------

/** What each placeholder the exports write means. */
export const placeholderMeanings: Readonly<Record<string, string>> = {
  NODE_RANK: 'the rank of the node running the command, 0 to nodes - 1 (node 0 runs the commands of node 0)',
  MASTER_ADDR: "node 0's address, reachable from every node",
  MODEL_PATH: 'the checkpoint: a Hugging Face repository id or a local folder (the model names none)',
  WORKER_URLS: 'the http://ADDRESS:PORT of every server instance, space-separated (the commands give each its port)',
  INSTANCE_ADDR: "the address of the first node of the command's instance",
  INSTANCE_HOSTS: "the instance's nodes as mpirun takes them, HOST:GPUS_PER_NODE comma-separated",
  DATA_PATH: 'the tokenized training data (Megatron-LM --data-path, e.g. a prefix of .bin/.idx files)',
  TOKENIZER_MODEL: "the tokenizer (a Hugging Face repository id or folder) the data was tokenized with",
  HF_ASSETS_PATH: "a folder with the model's tokenizer files (torchtitan model.hf_assets_path)",
}

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** The setting `documented` carries with `value`. */
export const setting = (documented: Documented, name: string, value: Value): Setting => ({
  name,
  place: documented.place,
  key: documented.key,
  value,
  source: documented.source,
})

/** `base` followed by the flags of `settings` (a switch is its key alone; `false` leaves a switch out). */
export const argvOf = (base: ReadonlyArray<string>, settings: ReadonlyArray<Setting>): ReadonlyArray<string> => [
  ...base,
  ...settings.filter((s) => s.place === 'flag' && s.value !== false).flatMap((s) => (s.value === true ? [s.key] : [s.key, String(s.value)])),
]

/** The environment variables of `settings`. */
export const envOf = (settings: ReadonlyArray<Setting>): ReadonlyArray<readonly [string, string]> =>
  settings.filter((s) => s.place === 'env').map((s) => [s.key, String(s.value)] as const)

/** `command` for each node of its range on its own line when the range has one node, with `$NODE_RANK` written in as its rank. */
export const forNodes = (firstNode: number, lastNode: number, role: string, env: ReadonlyArray<readonly [string, string]>, argv: ReadonlyArray<string>): NodeCommand => {
  const one = firstNode === lastNode
  const fill = (text: string): string => (one ? text.replace(/\$\(\(NODE_RANK \* (\d+)\)\)/g, (_m, n: string) => String(firstNode * Number(n))).replace(/\$NODE_RANK\b/g, String(firstNode)) : text)
  return { firstNode, lastNode, stride: 1, role, env: env.map(([k, v]) => [k, fill(v)] as const), argv: argv.map(fill) }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

const plain = /^[A-Za-z0-9_@%+=:,./-]+$/

/** One word as a POSIX shell reads it: as it is when plain, in double quotes when it expands a `$` placeholder, else in single quotes. */
export const shellWord = (word: string): string => {
  if (word !== '' && plain.test(word)) return word
  // a placeholder inside an otherwise plain word expands as it is (its values have no spaces)
  if (/^([A-Za-z0-9_@%+=:,./-]|\$[A-Z_]+)+$/.test(word)) return word
  if (word.includes('$')) return `"${word.replace(/(["\\`])/g, '\\$1')}"`
  return `'${word.replace(/'/g, `'\\''`)}'`
}

/** The command as one shell line: its variables, then its words. */
export const commandLine = (c: Pick<NodeCommand, 'env' | 'argv'>): string => [...c.env.map(([k, v]) => `${k}=${shellWord(v)}`), ...c.argv.map(shellWord)].join(' ')

/** The placeholders `launch`'s commands and files name, each with its meaning, in the order of {@link placeholderMeanings}. */
export const placeholdersOf = (commands: ReadonlyArray<NodeCommand>, files: ReadonlyArray<ConfigFile>): ReadonlyArray<Placeholder> => {
  const text = [...commands.flatMap((c) => [...c.argv, ...c.env.map(([, v]) => v)]), ...files.map((f) => f.text)].join('\n')
  return Object.entries(placeholderMeanings)
    .filter(([name]) => new RegExp(`\\$(\\(\\()?${name}\\b`).test(text))
    .map(([name, meaning]) => ({ name: `$${name}`, meaning }))
}

/** The nodes of a command as a reader says them: `node 0`, `nodes 1-15`, `nodes 0, 2, ..., 14`. */
export const nodesText = (c: Pick<NodeCommand, 'firstNode' | 'lastNode' | 'stride'>): string =>
  c.firstNode === c.lastNode
    ? `node ${c.firstNode}`
    : c.stride === 1
      ? `nodes ${c.firstNode}-${c.lastNode}`
      : `nodes ${c.firstNode}, ${c.firstNode + c.stride}, ..., ${c.lastNode}`
