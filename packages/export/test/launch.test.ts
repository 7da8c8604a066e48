import { commandLine, forNodes, placeholdersOf, shellWord, nodesText, argvOf, setting } from '../src'

describe('shellWord', () => {
  it('leaves plain words and placeholders inside plain words as they are', () => {
    expect(shellWord('--tensor-parallel-size')).toBe('--tensor-parallel-size')
    expect(shellWord('meta-llama/Llama-3.1-70B')).toBe('meta-llama/Llama-3.1-70B')
    expect(shellWord('$MASTER_ADDR:6379')).toBe('$MASTER_ADDR:6379')
    expect(shellWord('--rdzv_endpoint=$MASTER_ADDR:29500')).toBe('--rdzv_endpoint=$MASTER_ADDR:29500')
  })

  it('double-quotes an arithmetic expansion, single-quotes words with spaces or quotes', () => {
    expect(shellWord('$((NODE_RANK * 8))')).toBe('"$((NODE_RANK * 8))"')
    expect(shellWord('a b')).toBe("'a b'")
    expect(shellWord("it's")).toBe(`'it'\\''s'`)
    expect(shellWord('')).toBe("''")
  })
})

describe('commandLine', () => {
  it('writes the variables first, then the words', () => {
    expect(commandLine({ env: [['VLLM_PP_LAYER_PARTITION', '31,32,32,31']], argv: ['vllm', 'serve', 'm'] })).toBe('VLLM_PP_LAYER_PARTITION=31,32,32,31 vllm serve m')
  })
})

describe('forNodes', () => {
  it('keeps $NODE_RANK for a range of nodes and writes the rank in for one node', () => {
    const argv = ['x', '--node-rank', '$NODE_RANK', '--start', '$((NODE_RANK * 4))']
    expect(forNodes(1, 7, 'r', [], argv).argv).toEqual(argv)
    // node 3 of a range of one: rank 3, start rank 3 * 4 = 12
    expect(forNodes(3, 3, 'r', [], argv).argv).toEqual(['x', '--node-rank', '3', '--start', '12'])
  })

  it('says its nodes as a reader does', () => {
    expect(nodesText(forNodes(0, 0, 'r', [], []))).toBe('node 0')
    expect(nodesText(forNodes(1, 15, 'r', [], []))).toBe('nodes 1-15')
    expect(nodesText({ firstNode: 0, lastNode: 14, stride: 2 })).toBe('nodes 0, 2, ..., 14')
  })
})

describe('argvOf', () => {
  it('writes a switch as its flag alone, leaves file keys and variables out', () => {
    const flag = { key: '--tp', place: 'flag' as const, source: 's' }
    const on = { key: '--sp', place: 'flag' as const, source: 's' }
    const file = { key: 'a.b', place: 'file' as const, source: 's' }
    const env = { key: 'V', place: 'env' as const, source: 's' }
    expect(argvOf(['cmd'], [setting(flag, 'tp', 8), setting(on, 'sp', true), setting(file, 'f', 1), setting(env, 'v', 'x')])).toEqual(['cmd', '--tp', '8', '--sp'])
  })
})

describe('placeholdersOf', () => {
  it('lists the placeholders the commands and files name, with their meaning', () => {
    const commands = [forNodes(1, 3, 'r', [], ['x', '$MASTER_ADDR:1', '$((NODE_RANK * 2))'])]
    const names = placeholdersOf(commands, [{ path: 'f', format: 'toml', text: 'path = "$HF_ASSETS_PATH"' }]).map((p) => p.name)
    expect(names).toEqual(['$NODE_RANK', '$MASTER_ADDR', '$HF_ASSETS_PATH'])
    expect(placeholdersOf([forNodes(0, 0, 'r', [], ['x'])], [])).toEqual([])
  })
})
