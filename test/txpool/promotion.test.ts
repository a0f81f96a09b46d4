import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex, toChecksumAddress } from '@ethereumjs/util'

import type { PooledTransaction } from '../../src/txpool/validation.ts'
import { GWEI, devChain, startPool, transfer } from './testkit.ts'

const nonces = (txs: PooledTransaction[]) => txs.map((tx) => tx.nonce)

describe('queued and pending', () => {
  it('a future nonce waits in the queue and is promoted, with the run after it, when the gap fills', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const events: string[] = []
    pool.on('pending', (txs) => events.push(`pending ${nonces(txs).join(',')}`))
    pool.on('queued', (txs) => events.push(`queued ${nonces(txs).join(',')}`))
    const from = dc.addresses[1]

    await pool.add(transfer(dc, 1, 2n))
    await pool.add(transfer(dc, 1, 1n))
    assert.deepEqual(pool.status(), { pending: 0, queued: 2 })
    assert.equal(await pool.pendingNonce(from), 0n)

    await pool.add(transfer(dc, 1, 0n))
    assert.deepEqual(pool.status(), { pending: 3, queued: 0 })
    assert.equal(await pool.pendingNonce(from), 3n)
    assert.deepEqual(events, ['queued 2', 'queued 1', 'pending 0,1,2'])

    await pool.add(transfer(dc, 1, 4n))
    assert.deepEqual(pool.status(), { pending: 3, queued: 1 })
    assert.equal(await pool.pendingNonce(from), 3n)
  })

  it('pendingNonce: the state nonce for accounts without executable transactions', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    assert.equal(await pool.pendingNonce(dc.addresses[5]), 0n)
    assert.equal(await pool.pendingNonce(toChecksumAddress(dc.addresses[5])), 0n)
    assert.equal(await pool.pendingNonce('0x000000000000000000000000000000000000dead'), 0n)
  })

  it('content, contentFrom, inspect and status group by account and nonce as geth\'s txpool_* do', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const a = transfer(dc, 1, 0n, { value: 5n })
    const b = transfer(dc, 1, 2n)
    const c = transfer(dc, 2, 0n, { to: null, data: Uint8Array.from([1]), gasLimit: 60000n })
    for (const tx of [a, b, c]) await pool.add(tx)

    const { pending, queued } = pool.content()
    assert.deepEqual([...pending.keys()].sort(), [dc.addresses[1], dc.addresses[2]].sort())
    assert.deepEqual([...(pending.get(dc.addresses[1])?.keys() ?? [])], [0n])
    assert.equal(pending.get(dc.addresses[1])?.get(0n)?.tx, a)
    assert.equal(queued.get(dc.addresses[1])?.get(2n)?.tx, b)

    const mine = pool.contentFrom(toChecksumAddress(dc.addresses[1]))
    assert.deepEqual([...mine.pending.keys()], [0n])
    assert.deepEqual([...mine.queued.keys()], [2n])
    assert.equal(pool.contentFrom(dc.addresses[7]).pending.size, 0)

    const inspect = pool.inspect()
    const feeCap = GWEI + 2n * GWEI
    assert.equal(inspect.pending.get(dc.addresses[1])?.get(0n), `${toChecksumAddress(dc.addresses[9])}: 5 wei + 21000 gas × ${feeCap} wei`)
    assert.equal(inspect.pending.get(dc.addresses[2])?.get(0n), `contract creation: 1 wei + 60000 gas × ${feeCap} wei`)
    assert.deepEqual(pool.status(), { pending: 2, queued: 1 })

    const hash = bytesToHex(a.hash())
    assert.equal(pool.get(hash)?.from, dc.addresses[1])
    assert.equal(pool.get(hash)?.local, false)
    assert.ok(pool.has(`0x${hash.slice(2).toUpperCase()}`))
  })

  it('the sender is recovered once, at admission', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const txs = [2n, 1n, 0n].map((n) => transfer(dc, 1, n))
    let recoveries = 0
    const counted = txs.map((tx) => {
      const recover = tx.getSenderPublicKey.bind(tx)
      // the transaction objects are frozen: count through a wrapper with the same prototype chain
      return Object.create(tx, { getSenderPublicKey: { value: () => (recoveries++, recover()) } }) as typeof tx
    })
    for (const tx of counted) await pool.add(tx)
    assert.deepEqual(pool.status(), { pending: 3, queued: 0 })
    assert.equal(recoveries, 3)
    for (const tx of pool.pendingByPriceAndNonce(GWEI)) void tx
    assert.equal(recoveries, 3)
  })
})
