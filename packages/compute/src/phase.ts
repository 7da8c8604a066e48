/**
 * What one GPU is asked to do in a step: prefill `tokens` prompt tokens of each of
 * `batch` sequences, decode one token for each of `batch` sequences that attend to
 * given context lengths, or run the forward and backward pass of one training
 * micro-batch (with or without activation recomputation).
 *
 * `batch` always counts the sequences of one model replica (one data-parallel rank),
 * so a planner's per-replica micro-batch goes here unchanged.
 *
 * @example
 * import { causalPairs, decode, prefill, training } from '@meshplan/compute'
 * prefill({ tokens: 2048, batch: 1 })                        // right({ kind: 'prefill', tokens: 2048, batch: 1 })
 * decode({ batch: 2, context: [100, 4096] })                 // right: two sequences, 100 and 4096 keys
 * training({ sequence: 4096, batch: 1, recompute: 'selective' })
 * causalPairs(4)                                             // 10 = 1 + 2 + 3 + 4
 */
import * as E from 'fp-ts/Either'
import { pipe } from 'fp-ts/function'
import { windowedKeys, type AttentionWindow } from '@meshplan/model'
import { computeError, positiveFinite, positiveInteger, type ComputeError } from './error'

// -------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------

/**
 * Activation recomputation in training (Korthikanti et al. 2022, "Reducing Activation
 * Recomputation in Large Transformer Models", sections 4 and 5): `none`; `selective`
 * recomputes the attention core (scores, softmax, context) in the backward pass; `full`
 * recomputes the whole forward of every transformer layer.
 */
export type Recompute = 'none' | 'selective' | 'full'

/** The prompt of each of `batch` sequences, `tokens` long, processed at once (from an empty cache). */
export interface Prefill {
  readonly kind: 'prefill'
  readonly tokens: number
  readonly batch: number
}

/**
 * One new token for each of `batch` sequences. `context` is the number of keys each
 * sequence attends to, the new token included: one number for all of them (or their
 * mean), or one per sequence.
 */
export interface Decode {
  readonly kind: 'decode'
  readonly batch: number
  readonly context: number | ReadonlyArray<number>
  /** Tokens each sequence brings to the step (default 1): speculative decoding verifies its drafted tokens and one more at once, over one read of the KV cache. */
  readonly queries?: number
}

/** The forward and backward pass of a micro-batch of `batch` sequences of `sequence` tokens. */
export interface Training {
  readonly kind: 'training'
  readonly sequence: number
  readonly batch: number
  readonly recompute: Recompute
}

export type Phase = Prefill | Decode | Training

/** The phase kinds. */
export type PhaseKind = Phase['kind']

// -------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------

/** A prefill of `tokens` tokens for each of `batch` sequences (default 1). */
export const prefill = (p: { readonly tokens: number; readonly batch?: number }): E.Either<ComputeError, Prefill> =>
  pipe(
    positiveInteger('prefill tokens', 'tokens', p.tokens),
    E.chain(() => positiveInteger('prefill batch', 'batch', p.batch ?? 1)),
    E.map((batch) => ({ kind: 'prefill', tokens: p.tokens, batch })),
  )

/** A decode step of `batch` sequences attending to `context` keys (one number, or one per sequence), each bringing `queries` tokens (default 1). */
export const decode = (p: { readonly batch: number; readonly context: number | ReadonlyArray<number>; readonly queries?: number }): E.Either<ComputeError, Decode> =>
  pipe(
    positiveInteger('decode queries per sequence', 'queries', p.queries ?? 1),
    E.chain((queries) => pipe(decodeOfOne(p), E.map((d): Decode => (queries === 1 ? d : { ...d, queries })))),
  )

const decodeOfOne = (p: { readonly batch: number; readonly context: number | ReadonlyArray<number> }): E.Either<ComputeError, Decode> =>
  pipe(
    positiveInteger('decode batch', 'batch', p.batch),
    E.chain((batch) => {
      const context = p.context
      if (typeof context === 'number') {
        return pipe(
          positiveFinite('decode context length', 'context', context),
          E.chain((c) =>
            c >= 1 ? E.right(c) : E.left(computeError('invalid-size', `decode context length must be at least 1 (the new token), got ${c}`, { context: c })),
          ),
          E.map((): Decode => ({ kind: 'decode', batch, context })),
        )
      }
      if (context.length !== batch) {
        return E.left(
          computeError('invalid-size', `decode context lengths: expected one per sequence (${batch}), got ${context.length}`, {
            batch,
            contexts: context.length,
          }),
        )
      }
      const bad = context.findIndex((c) => !(Number.isSafeInteger(c) && c > 0))
      if (bad >= 0) {
        return E.left(
          computeError('invalid-size', `decode context length of sequence ${bad} must be a positive integer, got ${context[bad]}`, {
            sequence: bad,
            context: context[bad] ?? Number.NaN,
          }),
        )
      }
      return E.right({ kind: 'decode', batch, context })
    }),
  )

/** The forward and backward pass of `batch` sequences of `sequence` tokens (recomputation default `none`). */
export const training = (p: {
  readonly sequence: number
  readonly batch: number
  readonly recompute?: Recompute
}): E.Either<ComputeError, Training> =>
  pipe(
    positiveInteger('training sequence length', 'sequence', p.sequence),
    E.chain(() => positiveInteger('training micro-batch', 'batch', p.batch)),
    E.map((batch) => ({ kind: 'training', sequence: p.sequence, batch, recompute: p.recompute ?? 'none' })),
  )

/** Checks a phase built by hand (rather than with the constructors above). */
export const validatePhase = (phase: Phase): E.Either<ComputeError, Phase> => {
  switch (phase.kind) {
    case 'prefill':
      return prefill(phase)
    case 'decode':
      return decode(phase)
    case 'training':
      return ['none', 'selective', 'full'].includes(phase.recompute)
        ? training(phase)
        : E.left(computeError('invalid-size', `training recompute must be none, selective or full, got ${String(phase.recompute)}`))
  }
}

// -------------------------------------------------------------------------------------
// operations
// -------------------------------------------------------------------------------------

/**
 * Query-key pairs of causal attention over `tokens` tokens (query i sees keys 1..i), at
 * most `window` keys per query with a sliding window: `n(n+1)/2`, or with `n > W`,
 * `W(W+1)/2 + (n−W)·W` (causal masking: Vaswani et al. 2017, section 3.2.3; sliding
 * window: Jiang et al. 2023, "Mistral 7B", section 2). A causal FlashAttention kernel
 * skips the masked blocks, so its FLOPs scale with these pairs (Dao 2023,
 * "FlashAttention-2", section 3.1.1).
 */
export const causalPairs = (tokens: number, window: number = Number.POSITIVE_INFINITY): number =>
  tokens <= window ? (tokens * (tokens + 1)) / 2 : (window * (window + 1)) / 2 + (tokens - window) * window

/**
 * Query-key pairs of causal attention within chunks of `chunk` tokens (a query sees the
 * keys of its own chunk up to itself; Llama 4's chunked local attention): each full
 * chunk `C(C+1)/2`, the last partial one of `r` tokens `r(r+1)/2`.
 */
export const chunkedPairs = (tokens: number, chunk: number): number => {
  const full = Math.floor(tokens / chunk)
  const rest = tokens - full * chunk
  return (full * chunk * (chunk + 1)) / 2 + (rest * (rest + 1)) / 2
}

/** Causal pairs over `tokens`, averaged over the layers: window layers by {@link causalPairs} with the span (or {@link chunkedPairs}), the others without. */
export const layerPairs = (tokens: number, window: AttentionWindow): number => {
  const global = causalPairs(tokens)
  if (window.share === 0) return global
  const local = window.chunked ? chunkedPairs(tokens, window.span) : causalPairs(tokens, window.span)
  return window.share * local + (1 - window.share) * global
}

/** Keys a decode step reads over all its sequences: the sum of the context lengths, each capped at `window` (a span on every layer, or an {@link AttentionWindow}). */
export const decodeKeys = (phase: Decode, window: number | AttentionWindow = Number.POSITIVE_INFINITY): number => {
  const w: AttentionWindow = typeof window === 'number' ? { span: window, share: 1, chunked: false } : window
  const context = phase.context
  if (typeof context === 'number') return phase.batch * windowedKeys(context, w)
  let keys = 0
  for (const c of context) keys += windowedKeys(c, w)
  return keys
}

/** Tokens of one model replica in the step: `batch·tokens` (prefill), `batch·queries` (decode), `batch·sequence` (training). */
export const replicaTokens = (phase: Phase): number => {
  switch (phase.kind) {
    case 'prefill':
      return phase.batch * phase.tokens
    case 'decode':
      return phase.batch * (phase.queries ?? 1)
    case 'training':
      return phase.batch * phase.sequence
  }
}
