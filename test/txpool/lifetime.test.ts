import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { devChain, startPool, transfer } from './testkit.ts'

const HOUR = 60 * 60 * 1000

describe('--txpool.lifetime (3 h): queued transactions of idle remote accounts expire', () => {
  it('evicts after the lifetime, not at it; local accounts and pending transactions stay', async (t) => {
    const dc = await devChain(t)
    let now = 1_000_000
    const pool = await startPool(t, dc, { now: () => now })
    await pool.addRemotes([transfer(dc, 1, 1n), transfer(dc, 1, 2n), transfer(dc, 2, 0n), transfer(dc, 2, 5n)])
    await pool.add(transfer(dc, 3, 1n), { local: true })
    assert.deepEqual(pool.status(), { pending: 1, queued: 4 })

    now += 3 * HOUR
    assert.equal(await pool.evictExpired(), 0)
    now += 1
    assert.equal(await pool.evictExpired(), 3)
    assert.deepEqual(pool.status(), { pending: 1, queued: 1 })
    assert.deepEqual([...pool.content().queued.keys()], [dc.addresses[3]])
  })

  it('activity restarts the clock: a promotion renews the account\'s heartbeat', async (t) => {
    const dc = await devChain(t)
    let now = 0
    const pool = await startPool(t, dc, { now: () => now })
    await pool.addRemotes([transfer(dc, 1, 2n)])
    now += 2 * HOUR
    // nonce 0 is executable at once: the account was active now
    await pool.addRemotes([transfer(dc, 1, 0n)])
    now += 2 * HOUR
    assert.equal(await pool.evictExpired(), 0)
    now += 2 * HOUR
    assert.equal(await pool.evictExpired(), 1)
  })

  it('a configured lifetime', async (t) => {
    const dc = await devChain(t)
    let now = 0
    const pool = await startPool(t, dc, { now: () => now, lifetimeMs: 1000 })
    await pool.addRemotes([transfer(dc, 1, 1n)])
    now = 1001
    assert.equal(await pool.evictExpired(), 1)
  })

  it('the eviction timer runs every minute', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const dc = await devChain(t)
    let now = 0
    const pool = await startPool(t, dc, { now: () => now })
    await pool.addRemotes([transfer(dc, 1, 1n)])
    now = 3 * HOUR + 1
    t.mock.timers.tick(59_999)
    await pool.settled()
    assert.equal(pool.status().queued, 1)
    t.mock.timers.tick(1)
    await pool.settled()
    assert.equal(pool.status().queued, 0)
  })
})
