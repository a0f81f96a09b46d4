import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { keccak256 } from '../../src/crypto/keccak.ts'
import { devChain, mine, transfer } from '../txpool/testkit.ts'
import type { DevChain } from '../txpool/testkit.ts'

/** the key (hex, as the node cache names it) of the stored leaf holding `address` in the head's state */
async function headLeafKey(dc: DevChain, address: string): Promise<string> {
  const { accountProof } = await dc.chain.stateProofs().prove(dc.chain.heads().latest, hexToBytes(address as `0x${string}`), [])
  return bytesToHex(keccak256(accountProof[accountProof.length - 1])).slice(2)
}

describe('Chain and the trie node cache', () => {
  it('a side block leaves the nodes it replaced cached (the head still uses them); a new head drops those it replaced', { timeout: 60_000 }, async (t) => {
    const dc = await devChain(t)
    const genesis = dc.chain.heads().latest
    await mine(dc, [transfer(dc, 1, 0n)])
    await mine(dc, [transfer(dc, 2, 0n)])
    // account 3 is untouched since genesis: its leaf is in the head's state and in the genesis state alike
    const key = await headLeafKey(dc, dc.addresses[3])
    const cached = await dc.chain.db.getTrieNodeByHex(key)
    assert.ok(cached !== undefined)
    assert.equal(await dc.chain.db.getTrieNodeByHex(key), cached, 'served from the cache')

    // a block on genesis that spends from account 3 replaces that leaf, but loses to the longer chain
    const side = await mine(dc, [transfer(dc, 3, 0n)], { parent: genesis })
    assert.equal(dc.chain.heads().latest.number, 2n)
    assert.equal((await dc.chain.getBlockByHash(side.hash()))?.header.number, 1n, 'stored as a side block')
    assert.equal(await dc.chain.db.getTrieNodeByHex(key), cached, 'still cached: the head reads it')

    // the same spend on the head replaces it for good
    await mine(dc, [transfer(dc, 3, 0n)])
    assert.equal(dc.chain.heads().latest.number, 3n)
    assert.notEqual(await headLeafKey(dc, dc.addresses[3]), key)
    const reread = await dc.chain.db.getTrieNodeByHex(key)
    assert.deepEqual(reread, cached, 'still stored: older states use it')
    assert.notEqual(reread, cached, 'read from LevelDB again: the cache forgot it')
  })
})
