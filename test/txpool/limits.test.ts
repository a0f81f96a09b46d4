import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { TxPool } from '../../src/txpool/txpool.ts'
import { GWEI, devChain, refusal, startPool, transfer } from './testkit.ts'
import type { DevChain } from './testkit.ts'

/** nonces per dev account index, pending or queued */
function held(pool: TxPool, dc: DevChain, which: 'pending' | 'queued'): Record<number, bigint[]> {
  const out: Record<number, bigint[]> = {}
  for (const [address, txs] of pool.content()[which]) out[dc.addresses.indexOf(address)] = [...txs.keys()]
  return out
}

describe('limits and eviction', () => {
  it('--txpool.accountqueue: a remote account keeps its lowest future nonces; a local account is not capped', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { accountQueue: 3 })
    await pool.addRemotes([1n, 2n, 3n, 4n, 5n].map((n) => transfer(dc, 1, n)))
    for (const n of [1n, 2n, 3n, 4n, 5n]) await pool.add(transfer(dc, 2, n), { local: true })
    assert.deepEqual(held(pool, dc, 'queued'), { 1: [1n, 2n, 3n], 2: [1n, 2n, 3n, 4n, 5n] })
  })

  it('--txpool.globalqueue: the least recently active remote accounts lose their highest nonces first', async (t) => {
    const dc = await devChain(t)
    let now = 0
    const pool = await startPool(t, dc, { globalQueue: 4, now: () => now })
    await pool.add(transfer(dc, 4, 1n), { local: true })
    await pool.addRemotes([1n, 2n, 3n].map((n) => transfer(dc, 1, n)))
    now = 10
    await pool.addRemotes([1n, 2n].map((n) => transfer(dc, 2, n)))
    // 6 > 4: account 1 (oldest) gives up its two highest
    assert.deepEqual(held(pool, dc, 'queued'), { 4: [1n], 1: [1n], 2: [1n, 2n] })
    now = 20
    await pool.addRemotes([transfer(dc, 3, 1n)])
    assert.deepEqual(held(pool, dc, 'queued'), { 4: [1n], 2: [1n, 2n], 3: [1n] })
    // the local account's queue is never truncated, even over the limit
    for (const n of [2n, 3n, 4n, 5n]) await pool.add(transfer(dc, 4, n), { local: true })
    assert.deepEqual(held(pool, dc, 'queued')[4], [1n, 2n, 3n, 4n, 5n])
  })

  it('--txpool.globalslots: remote accounts over --txpool.accountslots are evened down, the biggest first', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { globalSlots: 6, accountSlots: 2 })
    const batch = [
      ...[0n, 1n, 2n, 3n, 4n].map((n) => transfer(dc, 1, n)),
      ...[0n, 1n, 2n].map((n) => transfer(dc, 2, n)),
      transfer(dc, 3, 0n),
    ]
    await pool.addRemotes(batch)
    // 9 > 6: account 1 drops to account 2's 3, then both drop one (geth stops at or under the limit)
    assert.deepEqual(held(pool, dc, 'pending'), { 1: [0n, 1n], 2: [0n, 1n], 3: [0n] })
    assert.equal(await pool.pendingNonce(dc.addresses[1]), 2n)

    const withLocal = await startPool(t, dc, { globalSlots: 6, accountSlots: 2 })
    for (const n of [0n, 1n, 2n, 3n, 4n]) await withLocal.add(transfer(dc, 1, n), { local: true })
    await withLocal.addRemotes([0n, 1n, 2n, 3n].map((n) => transfer(dc, 2, n)))
    assert.deepEqual(held(withLocal, dc, 'pending'), { 1: [0n, 1n, 2n, 3n, 4n], 2: [0n, 1n] })
  })

  it('a full pool evicts its cheapest remote transaction for a better one and refuses worse ones', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { globalSlots: 2, globalQueue: 2 })
    await pool.addRemotes([1n, 2n, 3n, 4n].map((tip) => transfer(dc, Number(tip), 0n, { tip: tip * GWEI })))
    assert.equal(pool.status().pending, 4)

    const [worse] = await pool.addRemotes([transfer(dc, 5, 0n, { tip: GWEI / 2n })])
    assert.equal(worse?.message, 'transaction underpriced')
    const [better] = await pool.addRemotes([transfer(dc, 5, 0n, { tip: 5n * GWEI })])
    assert.equal(better, undefined)
    assert.deepEqual(Object.keys(held(pool, dc, 'pending')).map(Number).sort(), [2, 3, 4, 5])
    // then the next cheapest goes
    await pool.addRemotes([transfer(dc, 6, 0n, { tip: 6n * GWEI })])
    assert.deepEqual(Object.keys(held(pool, dc, 'pending')).map(Number).sort(), [3, 4, 5, 6])
  })

  it('a full pool never evicts local transactions: remote ones get "txpool is full", local ones still go in', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { globalSlots: 2, globalQueue: 2 })
    for (const from of [1, 2, 3, 4]) await pool.add(transfer(dc, from, 0n), { local: true })
    const [error] = await pool.addRemotes([transfer(dc, 5, 0n, { tip: 100n * GWEI })])
    assert.equal(error?.message, 'txpool is full')
    await pool.add(transfer(dc, 5, 0n, { tip: 0n }), { local: true })
    assert.equal(pool.status().pending, 5)
  })

  it('a local transaction makes room by evicting remote ones whatever it pays', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { globalSlots: 1, globalQueue: 1 })
    await pool.addRemotes([transfer(dc, 1, 0n, { tip: 5n * GWEI }), transfer(dc, 2, 0n, { tip: 6n * GWEI })])
    await pool.add(transfer(dc, 3, 0n, { tip: 0n }), { local: true })
    assert.deepEqual(Object.keys(held(pool, dc, 'pending')).map(Number).sort(), [2, 3])
  })

  it('a future transaction cannot push out executable ones', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { globalSlots: 2, globalQueue: 2 })
    await pool.addRemotes([1n, 2n, 3n, 4n].map((tip) => transfer(dc, Number(tip), 0n, { tip: tip * GWEI })))
    assert.equal(await refusal(pool.add(transfer(dc, 5, 1n, { tip: 10n * GWEI }))), 'future transaction tries to replace pending')
    assert.equal(pool.status().pending, 4)
  })

  it('a local sender\'s pooled remote transactions become local too', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { globalSlots: 2, globalQueue: 2 })
    await pool.addRemotes([transfer(dc, 1, 0n, { tip: GWEI }), transfer(dc, 2, 0n, { tip: 2n * GWEI })])
    await pool.add(transfer(dc, 1, 2n), { local: true })
    assert.equal(pool.content().pending.get(dc.addresses[1])?.get(0n)?.local, true)
    await pool.addRemotes([transfer(dc, 3, 0n, { tip: 3n * GWEI })])
    const [error] = await pool.addRemotes([transfer(dc, 4, 0n, { tip: 4n * GWEI })])
    assert.equal(error, undefined)
    // account 2 was the only remote one left to evict
    assert.deepEqual(Object.keys(held(pool, dc, 'pending')).map(Number).sort(), [1, 3, 4])
  })
})
