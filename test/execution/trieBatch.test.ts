import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { MapDB, ValueEncoding, bytesToHex, hexToBytes } from '@ethereumjs/util'

import { applyTrieWrites, readTrieValue } from '../../src/execution/trieBatch.ts'
import type { TrieWrite } from '../../src/execution/trieBatch.ts'

/** a node store that hears which stored nodes each applyTrieWrites replaced, as cairn's TrieNodeStore does */
class SupersedeRecordingDB extends MapDB<string, string | Uint8Array> {
  replaced: string[] = []
  superseded(keys: string[]): void {
    this.replaced.push(...keys)
  }
}

const newTrie = (secure: boolean) => new MerklePatriciaTrie({ useKeyHashing: secure, db: new SupersedeRecordingDB(), valueEncoding: ValueEncoding.Bytes })

/** the keys (hex, unprefixed) of the stored nodes reachable from `root`: embedded nodes are walked through, not counted */
async function storedNodes(db: MapDB<string, string | Uint8Array>, root: Uint8Array): Promise<Set<string>> {
  const found = new Set<string>()
  const visit = async (ref: unknown): Promise<void> => {
    if (Array.isArray(ref)) return walk(ref)
    if (!(ref instanceof Uint8Array) || ref.length !== 32) return
    const key = bytesToHex(ref).slice(2)
    if (found.has(key)) return
    const stored = await db.get(key)
    // the empty trie's root is not stored
    if (stored === undefined) return
    found.add(key)
    await walk(RLP.decode(stored as Uint8Array) as unknown[])
  }
  const walk = async (node: unknown[]): Promise<void> => {
    if (node.length === 17) for (const child of node.slice(0, 16)) await visit(child)
    // an extension's flag nibble is 0 or 1; a leaf's value is no reference even when it is 32 bytes long
    else if (((node[0] as Uint8Array)[0] >> 4) < 2) await visit(node[1])
  }
  await visit(root)
  return found
}

/** a deterministic generator, so a failure names a reproducible case */
function random(seed: number): (n: number) => number {
  let s = seed
  return (n) => {
    s = (s * 1103515245 + 12345) % 2 ** 31
    return s % n
  }
}

function bytes(rand: (n: number) => number, length: number): Uint8Array {
  return Uint8Array.from({ length }, () => rand(256))
}

/**
 * Rounds of writes applied one put/del at a time by ethereumjs and in one batch per round by applyTrieWrites: the
 * roots must agree after every round, and every key must read back from the batched trie through ethereumjs.
 */
async function agree(secure: boolean, seed: number, keyBytes: () => number, valueBytes: () => number, rounds: number, perRound: number): Promise<void> {
  const rand = random(seed)
  const reference = newTrie(secure)
  const batched = newTrie(secure)
  const live = new Map<string, [Uint8Array, Uint8Array]>()
  for (let round = 0; round < rounds; round++) {
    const writes: TrieWrite[] = []
    for (let i = 0; i < perRound; i++) {
      const existing = [...live.values()]
      const op = rand(10)
      if (op < 3 && existing.length > 0) {
        // delete a present key
        const [key] = existing[rand(existing.length)]
        writes.push([key, new Uint8Array(0)])
      } else if (op < 5 && existing.length > 0) {
        const [key] = existing[rand(existing.length)]
        writes.push([key, bytes(rand, 1 + valueBytes())])
      } else if (op < 6) {
        // deleting an absent key changes nothing
        writes.push([bytes(rand, keyBytes()), new Uint8Array(0)])
      } else {
        writes.push([bytes(rand, keyBytes()), bytes(rand, 1 + valueBytes())])
      }
    }
    for (const [key, value] of writes) {
      if (value.length === 0) {
        await reference.del(key)
        live.delete(bytesToHex(key))
      } else {
        await reference.put(key, value)
        live.set(bytesToHex(key), [key, value])
      }
    }
    const store = batched.database().db as SupersedeRecordingDB
    const before = await storedNodes(store, batched.root())
    store.replaced = []
    const root = await applyTrieWrites(batched, writes)
    assert.equal(bytesToHex(root), bytesToHex(reference.root()), `seed ${seed} round ${round}: root`)
    // it reports every node the old root reached and the new one does not, and only nodes of the old trie: one may
    // still be in the new trie where the same content recurs elsewhere or is made again (a value written unchanged)
    const after = await storedNodes(store, root)
    const replaced = new Set(store.replaced)
    for (const key of before) if (!after.has(key)) assert.ok(replaced.has(key), `seed ${seed} round ${round}: ${key} replaced, not reported`)
    for (const key of replaced) assert.ok(before.has(key), `seed ${seed} round ${round}: ${key} reported, not in the old trie`)
    assert.equal(bytesToHex(batched.root()), bytesToHex(root))
    // every key just written or deleted, and one never written, reads as ethereumjs's get reads it
    for (const [key] of [...writes, [bytes(rand, keyBytes()), new Uint8Array(0)] as TrieWrite]) {
      assert.deepEqual(await readTrieValue(batched, key), await reference.get(key), `seed ${seed} round ${round}: readTrieValue ${bytesToHex(key)}`)
    }
  }
  for (const [key, value] of live.values()) {
    assert.deepEqual(await batched.get(key), value, `seed ${seed}: ${bytesToHex(key)} reads back`)
    assert.deepEqual(await readTrieValue(batched, key), value, `seed ${seed}: ${bytesToHex(key)} reads back directly`)
  }
}

describe('applyTrieWrites: batched trie writes give the roots of ethereumjs one-by-one writes, and readTrieValue its reads', () => {
  it('secure trie (state-trie shape): account-sized values, inserts, updates and deletes', async () => {
    for (const seed of [1, 2, 3]) await agree(true, seed, () => 20, () => 70, 12, 60)
  })

  it('secure trie with small values (storage-trie shape)', async () => {
    for (const seed of [4, 5]) await agree(true, seed, () => 32, () => 2, 12, 60)
  })

  it('short raw keys: embedded nodes under 32 bytes, branch values, keys that prefix others, deletes that fold branches', async () => {
    for (const seed of [6, 7, 8, 9, 10, 11]) await agree(false, seed, () => 1 + (seed % 3), () => 3, 20, 15)
  })

  it('a key that prefixes another: deleting either folds the branch that held both', async () => {
    for (const gone of [0, 1]) {
      const keys = [Uint8Array.of(0x12), Uint8Array.of(0x12, 0x34), Uint8Array.of(0x56)]
      const reference = newTrie(false)
      const batched = newTrie(false)
      for (const k of keys) await reference.put(k, Uint8Array.of(7, 7, 7))
      await applyTrieWrites(batched, keys.map((k) => [k, Uint8Array.of(7, 7, 7)]))
      await reference.del(keys[gone])
      await applyTrieWrites(batched, [[keys[gone], new Uint8Array(0)]])
      assert.equal(bytesToHex(batched.root()), bytesToHex(reference.root()), `without key ${gone}`)
    }
  })

  it('deleting every key returns the empty root', async () => {
    const trie = newTrie(true)
    const keys = Array.from({ length: 50 }, (_, i) => Uint8Array.of(i, i * 7))
    await applyTrieWrites(trie, keys.map((k) => [k, Uint8Array.of(1, 2, 3)]))
    const root = await applyTrieWrites(trie, keys.map((k) => [k, new Uint8Array(0)]))
    assert.equal(bytesToHex(root), bytesToHex(trie.EMPTY_TRIE_ROOT))
  })

  it('a missing node is an error naming it, not a wrong root', async () => {
    const trie = newTrie(true)
    await applyTrieWrites(trie, [[Uint8Array.of(1), Uint8Array.of(1)], [Uint8Array.of(2), Uint8Array.of(2)]])
    const orphan = new MerklePatriciaTrie({ useKeyHashing: true, db: new MapDB(), valueEncoding: ValueEncoding.Bytes, root: trie.root() })
    await assert.rejects(applyTrieWrites(orphan, [[Uint8Array.of(3), Uint8Array.of(3)]]), /missing trie node [0-9a-f]{64}/)
    await assert.rejects(readTrieValue(orphan, Uint8Array.of(1)), /missing trie node [0-9a-f]{64}/)
  })

  it('a stored node that is not a trie node is an error saying so', async () => {
    const store = new MapDB<string, Uint8Array>()
    const trie = new MerklePatriciaTrie({ useKeyHashing: true, db: store, valueEncoding: ValueEncoding.Bytes })
    await applyTrieWrites(trie, [[Uint8Array.of(1), Uint8Array.of(1)], [Uint8Array.of(2), Uint8Array.of(2)]])
    const root = bytesToHex(trie.root()).slice(2)
    for (const garbage of ['c3010203', 'c2c0', 'f9ffff', '83010203c0']) {
      await store.put(root, hexToBytes(`0x${garbage}`))
      await assert.rejects(readTrieValue(trie, Uint8Array.of(1)), /invalid trie node/, garbage)
      await assert.rejects(applyTrieWrites(trie, [[Uint8Array.of(3), Uint8Array.of(3)]]), /invalid trie node/, garbage)
    }
  })

  it('under an open checkpoint: reads copy nothing into it, new nodes go to the store, its own writes are read, a revert restores the root', async () => {
    const store = new MapDB<string, Uint8Array>()
    const trie = new MerklePatriciaTrie({ useKeyHashing: true, db: store, valueEncoding: ValueEncoding.Bytes })
    const keys = Array.from({ length: 40 }, (_, i) => Uint8Array.of(i))
    await applyTrieWrites(trie, keys.map((k) => [k, Uint8Array.of(1, ...k)]))
    const before = trie.root()
    trie.checkpoint()
    const open = trie.database().checkpoints.at(-1)!.keyValueMap
    for (const k of keys) assert.deepEqual(await readTrieValue(trie, k), Uint8Array.of(1, ...k))
    assert.equal(open.size, 0, 'nodes read were copied into the checkpoint')

    const storedBefore = store._database.size
    await applyTrieWrites(trie, [[Uint8Array.of(100), Uint8Array.of(7)]])
    assert.ok(store._database.size > storedBefore, 'new nodes did not reach the store')
    assert.equal(open.size, 0)
    // ethereumjs's own writes stay in the checkpoint until it commits: reads and later batches see them
    await trie.put(Uint8Array.of(101), Uint8Array.of(8))
    assert.ok(open.size > 0)
    assert.deepEqual(await readTrieValue(trie, Uint8Array.of(101)), Uint8Array.of(8))
    await applyTrieWrites(trie, [[Uint8Array.of(102), Uint8Array.of(9)]])
    for (const [k, v] of [[100, 7], [101, 8], [102, 9]]) assert.deepEqual(await trie.get(Uint8Array.of(k)), Uint8Array.of(v))

    await trie.revert()
    assert.equal(bytesToHex(trie.root()), bytesToHex(before))
    for (const k of [100, 101, 102]) assert.equal(await readTrieValue(trie, Uint8Array.of(k)), null)
    for (const k of keys) assert.deepEqual(await readTrieValue(trie, k), Uint8Array.of(1, ...k))
  })

  it('an empty trie reads null', async () => {
    assert.equal(await readTrieValue(newTrie(true), Uint8Array.of(1)), null)
  })
})
