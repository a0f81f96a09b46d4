import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import type { TxPool } from '../../src/txpool/txpool.ts'
import { devChain, mine, startPool, transfer } from './testkit.ts'
import type { DevChain } from './testkit.ts'

const ETH = 10n ** 18n

/** nonces per dev account index */
function held(pool: TxPool, dc: DevChain, which: 'pending' | 'queued'): Record<number, bigint[]> {
  const out: Record<number, bigint[]> = {}
  for (const [address, txs] of pool.content()[which]) out[dc.addresses.indexOf(address)] = [...txs.keys()]
  return out
}

const nextBaseFee = (dc: DevChain) => dc.chain.heads().latest.calcNextBaseFee()

describe('following the chain head', () => {
  it('transactions included in a new block leave the pool; queued ones the block makes executable are promoted', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    for (const n of [0n, 1n, 2n]) await pool.add(transfer(dc, 1, n))
    await pool.add(transfer(dc, 1, 4n))
    await pool.add(transfer(dc, 2, 0n))

    const block = await mine(dc, pool.candidates(nextBaseFee(dc)))
    assert.equal(block.transactions.length, 4)
    await pool.settled()
    assert.deepEqual(held(pool, dc, 'pending'), {})
    assert.deepEqual(held(pool, dc, 'queued'), { 1: [4n] })
    assert.equal(await pool.pendingNonce(dc.addresses[1]), 3n)

    const promoted: bigint[] = []
    pool.on('pending', (txs) => promoted.push(...txs.map((tx) => tx.nonce)))
    await mine(dc, [transfer(dc, 1, 3n)])
    await pool.settled()
    assert.deepEqual(held(pool, dc, 'pending'), { 1: [4n] })
    assert.deepEqual(promoted, [4n])
    assert.equal(await pool.pendingNonce(dc.addresses[1]), 5n)
  })

  it('a block that spends the balance drops unpayable transactions and queues the ones after them', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { value: 1n }))
    await pool.add(transfer(dc, 1, 1n, { value: 6000n * ETH }))
    await pool.add(transfer(dc, 1, 2n, { value: 1n }))
    assert.deepEqual(held(pool, dc, 'pending'), { 1: [0n, 1n, 2n] })

    // another nonce-0 transaction of the account, sent elsewhere, spends half of its balance
    await mine(dc, [transfer(dc, 1, 0n, { value: 5000n * ETH })])
    await pool.settled()
    assert.deepEqual(held(pool, dc, 'pending'), {})
    assert.deepEqual(held(pool, dc, 'queued'), { 1: [2n] })
    assert.equal(await pool.pendingNonce(dc.addresses[1]), 1n)
  })

  it('a reorg returns the transactions of the dropped blocks that the new chain does not include', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const genesis = dc.chain.heads().latest
    const onlyOld = transfer(dc, 1, 0n)
    const onBoth = transfer(dc, 2, 0n)
    await pool.add(onlyOld, { local: true })
    await pool.add(onBoth)
    const a1 = await mine(dc, pool.candidates(nextBaseFee(dc)))
    assert.equal(a1.transactions.length, 2)
    await pool.settled()
    assert.deepEqual(pool.status(), { pending: 0, queued: 0 })

    const returned: string[] = []
    pool.on('pending', (txs) => returned.push(...txs.map((tx) => tx.hash)))
    // a longer side chain from genesis: B1 (another timestamp) with only one of the two, then B2
    const b1 = await mine(dc, [onBoth], { parent: genesis, timestamp: genesis.timestamp + 2n })
    const b2 = await mine(dc, [], { parent: b1.header })
    assert.equal(bytesToHex(dc.chain.heads().latest.hash()), bytesToHex(b2.hash()))
    await pool.settled()

    assert.deepEqual(held(pool, dc, 'pending'), { 1: [0n] })
    assert.deepEqual(returned, [bytesToHex(onlyOld.hash())])
    assert.equal(pool.get(bytesToHex(onlyOld.hash()))?.local, true, 'a local account\'s transaction comes back local')
    assert.equal(await pool.pendingNonce(dc.addresses[1]), 1n)
    assert.equal(await pool.pendingNonce(dc.addresses[2]), 1n)

    // and it is mined again on the new chain
    const b3 = await mine(dc, pool.candidates(nextBaseFee(dc)))
    assert.deepEqual(b3.transactions.map((tx) => bytesToHex(tx.hash())), [bytesToHex(onlyOld.hash())])
    await pool.settled()
    assert.deepEqual(pool.status(), { pending: 0, queued: 0 })
  })
})
