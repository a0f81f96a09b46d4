import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import { randomBytes } from '@ethereumjs/util'

import { txBytes } from '../../src/chain/txBytes.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const to = '0x000000000000000000000000000000000000dead'

describe('txBytes', () => {
  it('is the canonical encoding, computed once for a frozen transaction', () => {
    for (const tx of [
      createFeeMarket1559Tx({ to, gasLimit: 21000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n }, { common }).sign(randomBytes(32)),
      createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n }, { common }).sign(randomBytes(32)),
    ]) {
      assert.ok(Object.isFrozen(tx))
      const first = txBytes(tx)
      assert.deepEqual(first, tx.serialize())
      assert.equal(txBytes(tx), first, 'the same bytes, not a second encoding')
    }
  })

  it('encodes a mutable transaction afresh each time: it may have changed', () => {
    const tx = createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n }, { common, freeze: false })
    const first = txBytes(tx)
    ;(tx as unknown as { gasPrice: bigint }).gasPrice = 11n
    assert.notDeepEqual(txBytes(tx), first)
    assert.deepEqual(txBytes(tx), tx.serialize())
  })
})
