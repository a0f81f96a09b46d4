import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { randomBytes } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { keccak256 } from '../../src/crypto/keccak.ts'

describe('keccak256', () => {
  it('hashes like the pure-JS default for every length around the 136-byte rate, and for views into larger buffers', () => {
    for (let len = 0; len <= 600; len++) {
      const data = randomBytes(len)
      assert.deepEqual(keccak256(data), keccak_256(data))
    }
    const big = randomBytes(1000)
    const view = big.subarray(17, 17 + 300)
    assert.deepEqual(keccak256(view), keccak_256(view))
  })

  it('returns a fresh array each time: a later hash does not overwrite an earlier result', () => {
    const a = keccak256(new Uint8Array([1]))
    const copy = Uint8Array.from(a)
    keccak256(new Uint8Array([2]))
    assert.deepEqual(a, copy)
  })
})
