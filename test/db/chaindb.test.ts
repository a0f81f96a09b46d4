import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { ChainDB, DatabaseWriteError } from '../../src/db/chaindb.ts'
import { tempDir } from '../helpers.ts'

const hash = (n: number) => new Uint8Array(32).fill(n)
/** LevelDB hands back Buffers */
const bytes = (b: Uint8Array | undefined) => (b === undefined ? b : Uint8Array.from(b))

describe('ChainDB writes', () => {
  it('reads see a batch as soon as it is handed over, and batches land in order', async (t) => {
    const dir = tempDir(t)
    let db = await ChainDB.open(dir)
    await db.batch().putCanonical(1n, hash(1)).putHead('latest', hash(1)).write()
    // not awaited: each one queues behind the one before
    const writes = Array.from({ length: 50 }, (_, i) => {
      const batch = db.batch().putHead('latest', hash(i + 2))
      if (i === 0) batch.deleteCanonical(1n)
      return batch.write()
    })
    await writes[0]
    assert.equal(await db.getCanonicalHash(1n), undefined, 'a delete handed over is seen')
    await Promise.all(writes)
    assert.deepEqual(bytes(await db.getHeadHash('latest')), hash(51))
    await db.close()

    db = await ChainDB.open(dir)
    try {
      assert.deepEqual(bytes(await db.getHeadHash('latest')), hash(51), 'the last batch landed last')
      assert.equal(await db.getCanonicalHash(1n), undefined)
    } finally {
      await db.close()
    }
  })

  it('a batch that makes trie nodes dead takes them out of the node cache once it lands; they still read from the database', async (t) => {
    const dir = tempDir(t)
    const node = Uint8Array.of(0xc2, 0x80, 0x80)
    const key = hash(7)
    const keyHex = Buffer.from(key).toString('hex')
    let db = await ChainDB.open(dir)
    await db.batch().putTrieNodes([[key, node]]).write()
    await db.close()
    db = await ChainDB.open(dir)
    try {
      const cached = await db.getTrieNodeByHex(keyHex)
      assert.deepEqual(bytes(cached), node)
      assert.equal(await db.getTrieNodeByHex(keyHex), cached, 'served from the cache: the same array')
      const batch = db.batch().putHead('latest', hash(1)).forgetTrieNodes([keyHex])
      assert.equal(await db.getTrieNodeByHex(keyHex), cached, 'kept until the batch is written')
      await batch.write()
      const reread = await db.getTrieNodeByHex(keyHex)
      assert.deepEqual(bytes(reread), node)
      assert.notEqual(reread, cached, 'read from LevelDB again')
      // a node made again by the batch that replaced it (a value written back) stays cached
      const again = Uint8Array.from(node)
      await db.batch().putTrieNodes([[key, again]]).forgetTrieNodes([keyHex]).write()
      await db.batch().putHead('latest', hash(2)).write()
      assert.equal(await db.getTrieNodeByHex(keyHex), again)
    } finally {
      await db.close()
    }
  })

  it('a failed batch keeps what it wrote readable, refuses every later write and is reported on close', async (t) => {
    const db = await ChainDB.open(tempDir(t))
    await db.batch().putHead('latest', hash(1)).write()
    const level = db.level as unknown as { batch: (...args: unknown[]) => Promise<void> }
    const batch = level.batch.bind(level)
    level.batch = () => Promise.reject(new Error('No space left on device'))
    await db.batch().putHead('latest', hash(2)).write() // handed over; LevelDB fails it afterwards
    assert.deepEqual(bytes(await db.getHeadHash('latest')), hash(2), 'this process already acted on it')
    level.batch = batch
    await assert.rejects(db.batch().putHead('latest', hash(3)).write(), (err: Error) => {
      assert.ok(err instanceof DatabaseWriteError)
      assert.match(err.message, /No space left on device; restart cairn, which resumes at the last block written whole/)
      return true
    })
    assert.deepEqual(bytes(await db.getHeadHash('latest')), hash(2))
    await assert.rejects(db.close(), DatabaseWriteError)
  })

  it('a write racing close is refused with its own error, and close still lands what came before', async (t) => {
    const dir = tempDir(t)
    let db = await ChainDB.open(dir)
    const before = db.batch().putHead('latest', hash(1)).write()
    const closed = db.close()
    await assert.rejects(db.batch().putHead('latest', hash(2)).write(), /^Error: the database .* is closed$/)
    await before
    await closed // no DatabaseWriteError: nothing LevelDB was given failed
    db = await ChainDB.open(dir)
    try {
      assert.deepEqual(bytes(await db.getHeadHash('latest')), hash(1))
    } finally {
      await db.close()
    }
  })
})
