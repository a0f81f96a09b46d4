import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'

import { verifyExecutionHeader } from '../../src/chain/headerRules.ts'
import { buildCommon, parseGenesis } from '../../src/config/genesis.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'

const SIGNER = '0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266'

/** The Common of a London Clique genesis from `cairn genesis new`, with or without --free-gas. */
function commonOf(freeGas: boolean): Common {
  const genesis = buildCliqueGenesis({ chainId: 4242, period: 1, epoch: 30000, signers: [SIGNER], alloc: [], fork: 'london', gasLimit: 30_000_000n, emptyBlocks: true, freeGas })
  return buildCommon(parseGenesis(JSON.stringify(genesis)))
}

describe('shared header rules: the base fee', () => {
  for (const freeGas of [false, true]) {
    it(`after a full block the next base fee is ${freeGas ? '0 on a free-gas chain (zeroBaseFee)' : 'raised by EIP-1559'}`, () => {
      const common = commonOf(freeGas)
      const parentFee = freeGas ? 0n : 1_000_000_000n
      const parent = createBlockHeader({ number: 0n, gasLimit: 30_000_000n, gasUsed: 30_000_000n, baseFeePerGas: parentFee }, { common, setHardfork: true, skipConsensusFormatValidation: true })
      const childWith = (baseFeePerGas: bigint) =>
        createBlockHeader({ number: 1n, parentHash: parent.hash(), timestamp: 1n, gasLimit: 30_000_000n, baseFeePerGas }, { common, setHardfork: true, skipConsensusFormatValidation: true })
      const want = freeGas ? 0n : 1_125_000_000n
      verifyExecutionHeader(childWith(want), parent, true)
      const wrong = freeGas ? 1n : 0n
      assert.throws(() => verifyExecutionHeader(childWith(wrong), parent, true), {
        message: `invalid baseFee: have ${wrong}, want ${want}, parentBaseFee ${parentFee}, parentGasUsed 30000000`,
      })
    })
  }
})
