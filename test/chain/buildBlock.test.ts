import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { devChain, mine, transfer } from '../txpool/testkit.ts'

describe('Chain.buildBlock', () => {
  it('ends the transaction intake at its deadline, seals what it took, and leaves the rest for the next block', { timeout: 120_000 }, async (t) => {
    const dc = await devChain(t)
    // far more work than the one slice (~20 ms) that runs before the deadline is first looked at
    const txs = Array.from({ length: 1200 }, (_, i) => transfer(dc, 1 + (i % 8), BigInt(Math.floor(i / 8))))
    const first = await mine(dc, txs, { intakeUntil: performance.now() })
    const taken = first.transactions.length
    assert.ok(taken > 0 && taken < txs.length, `the first block took ${taken} of ${txs.length}`)
    assert.deepEqual(first.transactions.map((tx) => tx.hash()), txs.slice(0, taken).map((tx) => tx.hash()))
    const second = await mine(dc, txs.slice(taken))
    assert.equal(second.transactions.length, txs.length - taken, 'without a deadline the next block takes the rest')
    assert.equal(dc.chain.heads().latest.number, 2n)
  })
})
