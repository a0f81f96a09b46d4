import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { ChainDB } from '../../src/db/chaindb.ts'
import { tempDir } from '../helpers.ts'

const hash = (n: number) => hexToBytes(`0x${n.toString(16).padStart(64, '0')}`)

/** the LevelDB handle, to stand in for a slow or failing disk */
const levelOf = (db: ChainDB) => (db as unknown as { level: { batch: (...args: unknown[]) => Promise<void> } }).level

describe('ChainDB writes', () => {
  it('reads a batch back at once, while LevelDB is still writing it', async (t) => {
    const db = await ChainDB.open(tempDir(t))
    t.after(() => db.close())
    await db.batch().putCanonical(7n, hash(1)).putHead('latest', hash(1)).write()
    await db.landed()
    // LevelDB holds the next batch until the gate opens
    const level = levelOf(db)
    const batch = level.batch
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    level.batch = async (...args) => {
      await gate
      return batch.apply(level, args)
    }
    try {
      await db.batch().deleteCanonical(7n).putHead('latest', hash(2)).write()
      assert.equal(await db.getCanonicalHash(7n), undefined)
      assert.equal(bytesToHex((await db.getHeadHash('latest'))!), bytesToHex(hash(2)))
    } finally {
      open()
    }
    await db.landed()
    level.batch = batch
    assert.equal(await db.getCanonicalHash(7n), undefined)
    assert.equal(bytesToHex((await db.getHeadHash('latest'))!), bytesToHex(hash(2)))
  })

  it('lands batches in the order they were written, so the head on disk is the last one', async (t) => {
    const dir = tempDir(t)
    const db = await ChainDB.open(dir)
    // written back to back without waiting: each one is in flight while the next is handed over
    const writes: Promise<void>[] = []
    for (let n = 1; n <= 200; n++) writes.push(db.batch().putCanonical(BigInt(n), hash(n)).putHead('latest', hash(n)).write())
    await Promise.all(writes)
    await db.close()
    const reopened = await ChainDB.open(dir)
    t.after(() => reopened.close())
    assert.equal(bytesToHex((await reopened.getHeadHash('latest'))!), bytesToHex(hash(200)))
    for (const n of [1, 100, 200]) assert.equal(bytesToHex((await reopened.getCanonicalHash(BigInt(n)))!), bytesToHex(hash(n)))
  })

  it('writes the batches applied while LevelDB is busy as one, in order, each read back at once', async (t) => {
    const dir = tempDir(t)
    const db = await ChainDB.open(dir)
    const level = levelOf(db)
    const batch = level.batch
    const writes: number[] = []
    let open!: () => void
    const gate = new Promise<void>((resolve) => (open = resolve))
    level.batch = async (...args) => {
      writes.push((args[0] as unknown[]).length)
      await gate
      return batch.apply(level, args)
    }
    try {
      // the first write is held; the three after it wait in the queue
      await db.batch().putCanonical(1n, hash(1)).putHead('latest', hash(1)).write()
      await db.batch().putCanonical(2n, hash(2)).putHead('latest', hash(2)).write()
      await db.batch().deleteCanonical(2n).putHead('latest', hash(3)).write()
      await db.batch().putCanonical(3n, hash(3)).write()
      assert.equal(await db.getCanonicalHash(2n), undefined)
      assert.equal(bytesToHex((await db.getCanonicalHash(3n))!), bytesToHex(hash(3)))
      assert.equal(bytesToHex((await db.getHeadHash('latest'))!), bytesToHex(hash(3)))
    } finally {
      open()
    }
    await db.landed()
    level.batch = batch
    assert.deepEqual(writes, [2, 5], 'the first batch, then the three queued behind it in one write')
    await db.close()
    const reopened = await ChainDB.open(dir)
    t.after(() => reopened.close())
    assert.equal(await reopened.getCanonicalHash(2n), undefined)
    assert.equal(bytesToHex((await reopened.getCanonicalHash(3n))!), bytesToHex(hash(3)))
    assert.equal(bytesToHex((await reopened.getHeadHash('latest'))!), bytesToHex(hash(3)))
  })

  it('refuses every later write once LevelDB fails one, and says what to do', async (t) => {
    const db = await ChainDB.open(tempDir(t))
    t.after(() => db.close())
    // a disk that fails the write (LevelDB reports an I/O error for the batch)
    const level = levelOf(db)
    const batch = level.batch
    level.batch = async () => {
      throw new Error('IO error: No space left on device')
    }
    await db.batch().putHead('latest', hash(1)).write()
    await assert.rejects(db.landed(), /database write failed: IO error: No space left on device; stop cairn/)
    level.batch = batch
    await assert.rejects(db.batch().putHead('latest', hash(2)).write(), /database write failed/)
  })
})
