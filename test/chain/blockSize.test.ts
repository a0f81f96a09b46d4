import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'

import { encodeBody } from '../../src/chain/bodyRlp.ts'
import { blockSize } from '../../src/chain/blockSize.ts'
import { keccak256 } from '../../src/crypto/keccak.ts'
import { reopenedExecutionApisChain } from './storedChain.ts'

describe('blocks read from the database', () => {
  it("carry their encoded size and their transactions' hashes from the stored bytes, equal to recomputing them; the body cairn writes is ethereumjs's", async (t) => {
    const chain = await reopenedExecutionApisChain(t)
    let typed = 0
    let withdrawals = 0
    for (let n = 0n; n <= chain.heads().latest.number; n++) {
      const block = (await chain.getBlockByNumber(n))!
      assert.equal(blockSize(block), RLP.encode(block.raw()).length, `block ${n} size`)
      assert.deepEqual(encodeBody(block), RLP.encode(block.raw().slice(1)), `block ${n} body`)
      withdrawals += block.withdrawals?.length ?? 0
      for (const tx of block.transactions) {
        assert.equal(bytesToHex(tx.hash()), bytesToHex(keccak256(tx.serialize())), `block ${n} tx hash`)
        if (tx.type !== 0) typed++
      }
    }
    assert.ok(typed > 0, 'the chain holds typed transactions')
    assert.ok(withdrawals > 0, 'the chain holds withdrawals')
  })
})
