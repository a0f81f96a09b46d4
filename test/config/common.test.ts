import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlockHeader, paramsBlock } from '@ethereumjs/block'
import { Common, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx, paramsTx } from '@ethereumjs/tx'

import { ChainCommon } from '../../src/config/common.ts'

const params = (c: Common) => (c as unknown as { _paramsCache: Record<string, unknown> })._paramsCache

describe('ChainCommon', () => {
  it('gives every copy the same parameters as a stock Common, across forks and tables', () => {
    for (const hardfork of ['london', 'cancun', 'prague', 'osaka']) {
      const stock = new Common({ chain: Mainnet, hardfork })
      const ours = new ChainCommon({ chain: Mainnet, hardfork })
      for (const table of [paramsTx, paramsBlock, paramsTx]) {
        const a = stock.copy()
        const b = ours.copy()
        a.updateParams(table)
        b.updateParams(table)
        assert.deepEqual(params(b), params(a), `${hardfork}`)
      }
    }
  })

  it('a copy moved to another fork gets that fork\'s parameters, not a reused cache', () => {
    const ours = new ChainCommon({ chain: Mainnet, hardfork: 'prague' })
    ours.copy().updateParams(paramsTx)
    const moved = ours.copy()
    moved.setHardfork('london')
    moved.updateParams(paramsTx)
    const stock = new Common({ chain: Mainnet, hardfork: 'london' })
    stock.updateParams(paramsTx)
    assert.deepEqual(params(moved), params(stock))
    assert.throws(() => moved.param('blobCommitmentVersionKzg'))
  })

  it('copies moved to the same fork share one parameter cache, equal to a stock Common\'s; another fork gets its own', () => {
    const ours = new ChainCommon({ chain: Mainnet, hardfork: 'chainstart' })
    const moved = (hardfork: string) => {
      const c = ours.copy()
      c.setHardfork(hardfork)
      return c
    }
    const [one, two, london] = [moved('prague'), moved('prague'), moved('london')]
    assert.equal(params(one), params(two), 'the same object: a later updateParams on either finds its merge')
    assert.deepEqual(params(one), params(new Common({ chain: Mainnet, hardfork: 'prague' })))
    assert.notEqual(params(london), params(one))
    assert.deepEqual(params(london), params(new Common({ chain: Mainnet, hardfork: 'london' })))
    // a table merged into the store afterwards is part of what the next fork change builds
    one.updateParams(paramsTx)
    const stock = new Common({ chain: Mainnet, hardfork: 'cancun' })
    stock.updateParams(paramsTx)
    assert.deepEqual(params(moved('cancun')), params(stock))
  })

  it('transactions and headers built on it read their parameters', () => {
    const common = new ChainCommon({ chain: Mainnet, hardfork: 'prague' })
    for (let i = 0; i < 3; i++) {
      const tx = createFeeMarket1559Tx({ to: '0x'.padEnd(42, '1') as `0x${string}`, gasLimit: 21000n, maxFeePerGas: 10n }, { common })
      assert.equal(tx.getIntrinsicGas(), 21000n)
      const header = createBlockHeader({ number: 1n, gasLimit: 30_000_000n, baseFeePerGas: 7n }, { common })
      assert.equal(header.common.param('elasticityMultiplier'), 2n)
    }
  })
})
