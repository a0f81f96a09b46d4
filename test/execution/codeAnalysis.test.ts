import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createEVM } from '@ethereumjs/evm'
import type { EVM } from '@ethereumjs/evm'
import { bytesToBigInt, bytesToHex, hexToBytes } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { cachedCodeAnalyses, installCodeAnalysisCache } from '../../src/execution/codeAnalysis.ts'

const VALUE = 0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20n

/** PUSH1 4, JUMP, INVALID, JUMPDEST, PUSH32 VALUE, PUSH0, MSTORE, PUSH1 32, PUSH0, RETURN: PUSH0 needs Shanghai */
const code = () => hexToBytes(`0x600456fe5b7f${VALUE.toString(16).padStart(64, '0')}5f5260205ff3`)

async function evmAt(hardfork: Hardfork, onJumpdest?: () => void): Promise<EVM> {
  const common = new Common({ chain: Mainnet, hardfork })
  return createEVM({
    common,
    customOpcodes:
      onJumpdest === undefined
        ? []
        : [{ opcode: 0x5b, opcodeName: 'JUMPDEST', baseFee: 1, logicFunction: async () => onJumpdest() }],
  })
}

describe('the EVM code analysis kept between calls', () => {
  before(() => installCodeAnalysisCache())

  it('analyses a code array once, and the cached jump destinations and PUSH values run as the fresh ones', async () => {
    const evm = await evmAt(Hardfork.Prague)
    const contract = code()
    const before = cachedCodeAnalyses()
    for (let run = 0; run < 3; run++) {
      const result = await evm.runCode({ code: contract, gasLimit: 100_000n })
      assert.equal(result.exceptionError, undefined, `run ${run}`)
      assert.equal(bytesToBigInt(result.returnValue), VALUE, `run ${run}`)
    }
    assert.equal(cachedCodeAnalyses(), before + 1)
  })

  it("runs the same code array with each EVM's own opcode table: its fork and its custom handlers", async () => {
    const contract = code()
    const shanghai = await evmAt(Hardfork.Shanghai)
    assert.equal((await shanghai.runCode({ code: contract, gasLimit: 100_000n })).exceptionError, undefined)
    // the cached analysis came from an EVM where PUSH0 exists; before Shanghai it is an invalid opcode
    const london = await evmAt(Hardfork.London)
    assert.equal((await london.runCode({ code: contract, gasLimit: 100_000n })).exceptionError?.error, 'invalid opcode')
    let jumpdests = 0
    const counting = await evmAt(Hardfork.Prague, () => jumpdests++)
    const result = await counting.runCode({ code: contract, gasLimit: 100_000n })
    assert.equal(result.exceptionError, undefined)
    assert.equal(jumpdests, 1, "the counting EVM's JUMPDEST handler ran")
  })
})

describe("eth_call's code analysis", () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-code-analysis-'))
  const CONTRACT = '0x00000000000000000000000000000000000c0de5'
  let chain: Chain

  before(async () => {
    const genesis = devGenesis({ period: 0, gasLimit: 30_000_000n }) as { alloc: Record<string, unknown> }
    genesis.alloc[CONTRACT] = { balance: '0x0', code: bytesToHex(code()) }
    await Chain.init(dir, JSON.stringify(genesis))
    chain = await Chain.open(dir)
  })
  after(async () => {
    await chain?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('is made once for calls to the same contract: its code comes from the state caches as the same array', async () => {
    const calls = chain.callExecution()
    const head = chain.heads().latest
    const analysed = cachedCodeAnalyses()
    for (let i = 0; i < 4; i++) assert.equal(bytesToBigInt(await calls.call(head, { to: hexToBytes(CONTRACT) })), VALUE)
    assert.equal(cachedCodeAnalyses(), analysed + 1)
  })
})
