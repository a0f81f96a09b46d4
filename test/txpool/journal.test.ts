import assert from 'node:assert/strict'
import { appendFileSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, concatBytes } from '@ethereumjs/util'

import { TxPool } from '../../src/txpool/txpool.ts'
import { GWEI, devChain, legacy, mine, transfer } from './testkit.ts'
import type { DevChain } from './testkit.ts'

/** The journal's items as geth writes them: legacy transactions as RLP lists, typed ones as RLP strings. */
function journalItems(path: string): string[] {
  let rest: Uint8Array = readFileSync(path)
  const items: string[] = []
  while (rest.length > 0) {
    const { data, remainder } = RLP.decode(rest, true)
    items.push(Array.isArray(data) ? `list:${bytesToHex(RLP.encode(data))}` : `string:${bytesToHex(data as Uint8Array)}`)
    rest = remainder
  }
  return items
}

async function openPool(dc: DevChain, journalPath: string): Promise<TxPool> {
  const pool = new TxPool(dc.chain, { journalPath })
  await pool.start()
  return pool
}

describe('journal of local transactions (DATADIR/transactions.rlp)', () => {
  it('local transactions survive a restart, pending and queued; remote ones do not', async (t) => {
    const dc = await devChain(t)
    const path = join(dc.dir, 'transactions.rlp')
    const pool = await openPool(dc, path)
    const locals = [transfer(dc, 1, 0n), transfer(dc, 1, 1n), transfer(dc, 1, 3n), legacy(dc, 3, 0n, 2n * GWEI)]
    for (const tx of locals) await pool.add(tx, { local: true })
    await pool.addRemotes([transfer(dc, 2, 0n)])
    await pool.stop()

    assert.deepEqual(
      journalItems(path).sort(),
      [
        ...locals.slice(0, 3).map((tx) => `string:${bytesToHex(tx.serialize())}`),
        `list:${bytesToHex(locals[3].serialize())}`,
      ].sort(),
    )

    const restarted = await openPool(dc, path)
    t.after(() => restarted.stop())
    assert.deepEqual(restarted.status(), { pending: 3, queued: 1 })
    for (const tx of locals) assert.equal(restarted.get(bytesToHex(tx.hash()))?.local, true)
    assert.equal(restarted.content().pending.has(dc.addresses[2]), false)
  })

  it('each new local transaction is appended at once, so a crash keeps it', async (t) => {
    const dc = await devChain(t)
    const path = join(dc.dir, 'transactions.rlp')
    const pool = await openPool(dc, path)
    t.after(() => pool.stop())
    assert.deepEqual(journalItems(path), [])
    const tx = transfer(dc, 1, 0n)
    await pool.add(tx, { local: true })
    assert.deepEqual(journalItems(path), [`string:${bytesToHex(tx.serialize())}`])
    await pool.addRemotes([transfer(dc, 2, 0n)])
    assert.equal(journalItems(path).length, 1)
  })

  it('rotation keeps only what the pool still holds: mined transactions are gone', async (t) => {
    const dc = await devChain(t)
    const path = join(dc.dir, 'transactions.rlp')
    const pool = await openPool(dc, path)
    const mined = transfer(dc, 1, 0n)
    const kept = transfer(dc, 1, 2n)
    await pool.add(mined, { local: true })
    await pool.add(kept, { local: true })
    await mine(dc, [mined])
    await pool.stop()
    assert.deepEqual(journalItems(path), [`string:${bytesToHex(kept.serialize())}`])
  })

  it('--txpool.rejournal: the journal is rewritten on the interval', async (t) => {
    t.mock.timers.enable({ apis: ['setInterval'] })
    const dc = await devChain(t)
    const path = join(dc.dir, 'transactions.rlp')
    const pool = new TxPool(dc.chain, { journalPath: path, rejournalMs: 1000 })
    await pool.start()
    t.after(() => pool.stop())
    const mined = transfer(dc, 1, 0n)
    const kept = transfer(dc, 1, 2n)
    await pool.add(mined, { local: true })
    await pool.add(kept, { local: true })
    await mine(dc, [mined])
    await pool.settled()
    assert.equal(journalItems(path).length, 2)
    t.mock.timers.tick(1000)
    await pool.settled()
    assert.deepEqual(journalItems(path), [`string:${bytesToHex(kept.serialize())}`])
  })

  it('a damaged tail loses only itself', async (t) => {
    const dc = await devChain(t)
    const path = join(dc.dir, 'transactions.rlp')
    const pool = await openPool(dc, path)
    const tx = transfer(dc, 1, 0n)
    await pool.add(tx, { local: true })
    await pool.stop()
    appendFileSync(path, concatBytes(Uint8Array.from([0xf8, 0xff]), new Uint8Array(3)))

    const restarted = await openPool(dc, path)
    t.after(() => restarted.stop())
    assert.ok(restarted.has(bytesToHex(tx.hash())))
    assert.deepEqual(journalItems(path), [`string:${bytesToHex(tx.serialize())}`])
  })

  it('--txpool.nolocals: no journal', async (t) => {
    const dc = await devChain(t)
    const path = join(dc.dir, 'transactions.rlp')
    const pool = new TxPool(dc.chain, { journalPath: path, noLocals: true })
    await pool.start()
    await pool.add(transfer(dc, 1, 0n), { local: true })
    await pool.stop()
    assert.equal(existsSync(path), false)
  })
})
