import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, randomBytes } from '@ethereumjs/util'

import { orderedTrieRoot } from '../../src/execution/orderedTrie.ts'

async function reference(values: Uint8Array[]): Promise<string> {
  const trie = new MerklePatriciaTrie()
  for (const [i, v] of values.entries()) await trie.put(RLP.encode(i), v)
  return bytesToHex(trie.root())
}

describe('orderedTrieRoot', () => {
  it('equals the root ethereumjs builds by insertion, across the RLP key-length boundaries and small (inlined) nodes', async () => {
    for (const n of [0, 1, 2, 3, 15, 16, 17, 127, 128, 129, 130, 255, 256, 257, 1000, 2100]) {
      for (const size of [1, 5, 40, 120]) {
        const values = Array.from({ length: n }, () => randomBytes(1 + Math.floor(Math.random() * size)))
        assert.equal(bytesToHex(orderedTrieRoot(values)), await reference(values), `${n} items of up to ${size} bytes`)
      }
    }
  })
})
