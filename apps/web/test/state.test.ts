import fc from 'fast-check'
import { choices, defaultState, fieldNames, hashOfState, isChoice, stateOfHash, textDefaults, withField, type PageState } from '../src/state'

/** Any state: every choice one of its words, every text field any string (URL-special characters included). */
const anyState: fc.Arbitrary<PageState> = fc.record(
  Object.fromEntries(fieldNames.map((name) => [name, isChoice(name) ? fc.constantFrom(...choices[name]) : fc.oneof(fc.string(), fc.constantFrom('&', '=', '#', '%', '+', ' ', '\n', 'a=b&c', textDefaults[name as keyof typeof textDefaults]))])) as Record<keyof PageState, fc.Arbitrary<string>>,
) as unknown as fc.Arbitrary<PageState>

describe('the state in the URL hash', () => {
  it('reads back what it wrote, for any state', () => {
    fc.assert(fc.property(anyState, (s) => expect(stateOfHash(hashOfState(s))).toEqual(s)))
  })

  it('writes nothing for the defaults and only the fields that differ otherwise', () => {
    expect(hashOfState(defaultState)).toBe('')
    fc.assert(
      fc.property(anyState, (s) => {
        const written = new URLSearchParams(hashOfState(s).slice(1))
        for (const name of fieldNames) expect(written.has(name)).toBe(s[name] !== defaultState[name])
      }),
    )
  })

  it('reads any hash without failing, every choice one of its words', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webQueryParameters(), fc.constantFrom('#view=nope&mode=', '#%E0%A4%A', '#&&==&')), (hash) => {
        const s = stateOfHash(hash)
        for (const name of fieldNames) {
          if (isChoice(name)) expect(choices[name] as ReadonlyArray<string>).toContain(s[name])
          else expect(typeof s[name]).toBe('string')
        }
      }),
    )
  })

  it('falls back to a choice\'s default for an unknown word and keeps text as typed', () => {
    const s = stateOfHash('#view=nowhere&mode=latency&tp=abc')
    expect(s.view).toBe(defaultState.view)
    expect(s.mode).toBe('latency')
    expect(s.tp).toBe('abc')
  })

  it('sets a field, and leaves a choice unchanged when the word is not one of its own', () => {
    expect(withField(defaultState, 'nodes', '4').nodes).toBe('4')
    expect(withField(defaultState, 'view', 'audit').view).toBe('audit')
    expect(withField(defaultState, 'view', 'nowhere')).toBe(defaultState)
  })
})
