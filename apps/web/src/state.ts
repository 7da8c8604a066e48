/**
 * The page's state: every input a person gives (the form's fields as they typed them,
 * the texts they pasted) and the view they look at. It lives in the URL's hash, so a
 * link shares a plan: `#view=plans&model=llama-3.1-70b&tp=8`. Only the fields that
 * differ from the defaults are written; reading a hash never fails (an unknown key is
 * ignored, a choice that is not one of its values falls back to its default, and a
 * field's text is kept as it is, to be checked where it is used, with the field named).
 *
 * @example
 * const s = stateOfHash('#view=audit&model=mixtral-8x7b')
 * s.view // 'audit'
 * hashOfState(s) // '#view=audit&model=mixtral-8x7b'
 */

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/** The views of the page, in the order of its tabs. */
export const views = ['estimate', 'plans', 'audit', 'graph', 'training', 'export'] as const
export type View = (typeof views)[number]

/** The fields whose value is one of a few words, with those words (the first is the default). */
export const choices = {
  view: views,
  modelSource: ['preset', 'config'],
  clusterSource: ['preset', 'file'],
  mode: ['static', 'max_throughput', 'latency'],
  graphSource: ['deployment', 'plan'],
  graphFormat: ['mermaid', 'dot', 'json'],
  graphPhase: ['decode', 'prefill'],
  exportSource: ['deployment', 'plan'],
  exportEngine: ['vllm', 'sglang', 'trtllm', 'megatron', 'torchtitan'],
} as const
type Choice = keyof typeof choices

/** The free-text fields and their defaults: what the form shows before anyone types. */
export const textDefaults = {
  model: 'llama-3.1-70b',
  config: '',
  system: 'dgx-h100',
  nodes: '1',
  clusterFile: '',
  precision: '',
  inputTokens: '1024',
  outputTokens: '256',
  batch: '',
  tp: '8',
  pp: '1',
  dp: '1',
  cp: '1',
  ep: '1',
  etp: '',
  maxTtft: '',
  maxTpot: '',
  minTokensPerUser: '',
  maxGpus: '',
  top: '5',
  plan: '',
  globalBatch: '1536',
  seqLen: '2048',
  trainTop: '10',
} as const
type TextField = keyof typeof textDefaults

export type PageState = { readonly [K in Choice]: (typeof choices)[K][number] } & { readonly [K in TextField]: string }

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

const choiceNames = Object.keys(choices) as ReadonlyArray<Choice>
const textNames = Object.keys(textDefaults) as ReadonlyArray<TextField>

/** The state of a page opened without a hash. */
export const defaultState: PageState = {
  ...(Object.fromEntries(choiceNames.map((k) => [k, choices[k][0]])) as { [K in Choice]: (typeof choices)[K][number] }),
  ...textDefaults,
}

/** Every field of the state, choices first. */
export const fieldNames: ReadonlyArray<keyof PageState> = [...choiceNames, ...textNames]

/** Whether `name` is a field whose value is one of `choices[name]`. */
export const isChoice = (name: string): name is Choice => (choiceNames as ReadonlyArray<string>).includes(name)

/** `value` when it is one of the field's words, else the field's default. */
const choiceOf = <K extends Choice>(name: K, value: string | null): PageState[K] =>
  (value !== null && (choices[name] as ReadonlyArray<string>).includes(value) ? value : choices[name][0]) as PageState[K]

/** The state a URL hash (with or without its `#`) describes; never fails. */
export const stateOfHash = (hash: string): PageState => {
  const params = new URLSearchParams(hash.startsWith('#') ? hash.slice(1) : hash)
  const out: Record<string, string> = {}
  for (const name of choiceNames) out[name] = choiceOf(name, params.get(name))
  for (const name of textNames) out[name] = params.get(name) ?? textDefaults[name]
  return out as PageState
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/** The hash of `state`: its fields that differ from the defaults, in the order of {@link fieldNames}; `''` for the defaults. */
export const hashOfState = (state: PageState): string => {
  const params = new URLSearchParams()
  for (const name of fieldNames) if (state[name] !== defaultState[name]) params.set(name, state[name])
  const text = params.toString()
  return text === '' ? '' : `#${text}`
}

/** `state` with one field set; a choice that is not one of its words is left as it was. */
export const withField = (state: PageState, name: keyof PageState, value: string): PageState => {
  if (isChoice(name)) return (choices[name] as ReadonlyArray<string>).includes(value) ? { ...state, [name]: value } : state
  return { ...state, [name]: value }
}
