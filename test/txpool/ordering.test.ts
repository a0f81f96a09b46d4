import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { TxsByPriceAndNonce } from '../../src/txpool/ordering.ts'
import { GWEI, devChain, startPool, transfer } from './testkit.ts'
import type { DevChain } from './testkit.ts'

/** "account:nonce" of what iterating yields */
function order(dc: DevChain, txs: TxsByPriceAndNonce): string[] {
  return [...txs].map((tx) => `${dc.addresses.indexOf(tx.getSenderAddress().toString())}:${tx.nonce}`)
}

describe('pendingByPriceAndNonce: what the sealer takes (geth miner ordering)', () => {
  it('best effective tip first across accounts, each account in nonce order', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { tip: 4n * GWEI, feeCap: 10n * GWEI }))
    await pool.add(transfer(dc, 1, 1n, { tip: 5n * GWEI, feeCap: 10n * GWEI }))
    await pool.add(transfer(dc, 2, 0n, { tip: 3n * GWEI, feeCap: 10n * GWEI }))
    await pool.add(transfer(dc, 3, 0n, { tip: 2n * GWEI, feeCap: 10n * GWEI }))
    // a 2.5 gwei tip capped by its fee cap: effectively 1.6 gwei over a 1 gwei base fee
    await pool.add(transfer(dc, 4, 0n, { tip: (5n * GWEI) / 2n, feeCap: (26n * GWEI) / 10n }))
    assert.deepEqual(order(dc, pool.pendingByPriceAndNonce(GWEI)), ['1:0', '1:1', '2:0', '3:0', '4:0'])
    // without a base fee the tip alone counts
    assert.deepEqual(order(dc, pool.pendingByPriceAndNonce()), ['1:0', '1:1', '2:0', '4:0', '3:0'])
  })

  it('a later nonce never overtakes an earlier one, however much it pays', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { tip: GWEI }))
    await pool.add(transfer(dc, 1, 1n, { tip: 50n * GWEI }))
    await pool.add(transfer(dc, 2, 0n, { tip: 2n * GWEI }))
    assert.deepEqual(order(dc, pool.pendingByPriceAndNonce(GWEI)), ['2:0', '1:0', '1:1'])
  })

  it('an account whose next transaction cannot pay the base fee is left out', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { tip: 1n, feeCap: GWEI - 1n }))
    await pool.add(transfer(dc, 1, 1n, { tip: 9n * GWEI, feeCap: 20n * GWEI }))
    await pool.add(transfer(dc, 2, 0n, { tip: 1n, feeCap: GWEI }))
    await pool.add(transfer(dc, 2, 1n, { tip: 1n, feeCap: GWEI - 1n }))
    assert.deepEqual(order(dc, pool.pendingByPriceAndNonce(GWEI)), ['2:0'])
  })

  it('equal tips: first come, first served', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    for (const from of [3, 1, 2]) await pool.add(transfer(dc, from, 0n))
    assert.deepEqual(order(dc, pool.pendingByPriceAndNonce(GWEI)), ['3:0', '1:0', '2:0'])
  })

  it('peek / shift / pop: after a failure the rest of that account is skipped', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    for (const n of [0n, 1n, 2n]) await pool.add(transfer(dc, 1, n, { tip: 3n * GWEI }))
    for (const n of [0n, 1n]) await pool.add(transfer(dc, 2, n, { tip: 2n * GWEI }))
    const txs = pool.pendingByPriceAndNonce(GWEI)
    const at = () => {
      const top = txs.peek()
      return top === undefined ? 'none' : `${dc.addresses.indexOf(top.tx.from)}:${top.tx.nonce}`
    }
    assert.equal(at(), '1:0')
    assert.equal(txs.peek()?.fee, 3n * GWEI)
    txs.shift()
    assert.equal(at(), '1:1')
    txs.pop() // account 1's nonce 1 failed: 1:2 cannot run either
    assert.equal(at(), '2:0')
    txs.shift()
    assert.equal(at(), '2:1')
    txs.shift()
    assert.equal(at(), 'none')
  })

  it('a minimum tip cuts remote accounts at their first cheaper transaction, never local ones', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { tip: 3n * GWEI }))
    await pool.add(transfer(dc, 1, 1n, { tip: GWEI }))
    await pool.add(transfer(dc, 1, 2n, { tip: 3n * GWEI }))
    await pool.add(transfer(dc, 2, 0n, { tip: 0n }), { local: true })
    assert.deepEqual(order(dc, pool.pendingByPriceAndNonce(GWEI, 2n * GWEI)), ['1:0', '2:0'])
  })

  it('the pool is the sealer\'s transaction source', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    assert.equal(pool.hasPending(), false)
    let woken = 0
    const unsubscribe = pool.onPending(() => woken++)
    await pool.add(transfer(dc, 1, 1n))
    assert.equal(woken, 0, 'a queued transaction wakes no one')
    await pool.add(transfer(dc, 1, 0n))
    assert.equal(woken, 1)
    assert.equal(pool.hasPending(), true)
    assert.equal([...pool.candidates(GWEI)].length, 2)
    unsubscribe()
    await pool.add(transfer(dc, 2, 0n))
    assert.equal(woken, 1)
  })
})
