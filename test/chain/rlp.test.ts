import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'

import { encodeRlp, rlpItemAt, rlpList, rlpListItems } from '../../src/chain/rlp.ts'
import type { RlpInput } from '../../src/chain/rlp.ts'

/** a deterministic generator, so a failure names a reproducible case */
function random(seed: number): (n: number) => number {
  let s = seed
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    return (s >>> 8) % n
  }
}

// lengths around every header boundary: single bytes, 55/56 (short/long form), 255/256 and 65535/65536 (length bytes)
const LENGTHS = [0, 1, 2, 31, 32, 55, 56, 57, 255, 256, 1000, 65535, 65536]

function input(rand: (n: number) => number, depth: number): RlpInput {
  if (depth === 0 || rand(3) === 0) {
    const length = rand(20) === 0 ? LENGTHS[rand(LENGTHS.length)] : rand(40)
    return Uint8Array.from({ length }, () => rand(256))
  }
  return Array.from({ length: rand(4) === 0 ? 17 : rand(4) }, () => input(rand, depth - 1))
}

describe('encodeRlp', () => {
  it('encodes the edge cases as @ethereumjs/rlp does', () => {
    const cases: RlpInput[] = [
      new Uint8Array(),
      Uint8Array.of(0),
      Uint8Array.of(0x7f),
      Uint8Array.of(0x80),
      Uint8Array.of(0xff),
      [],
      [[]],
      [[], [[]]],
      ...LENGTHS.map((n) => new Uint8Array(n).fill(0xab)),
      [new Uint8Array(54)],
      [new Uint8Array(55)],
      Array.from({ length: 17 }, () => new Uint8Array(32)),
    ]
    for (const c of cases) assert.equal(bytesToHex(encodeRlp(c)), bytesToHex(RLP.encode(c as never)))
  })

  it('encodes random nested byte strings and lists as @ethereumjs/rlp does', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const c = input(random(seed), 3)
      assert.equal(bytesToHex(encodeRlp(c)), bytesToHex(RLP.encode(c as never)), `seed ${seed}`)
    }
  })
})

describe('reading stored RLP in place', () => {
  /** what the item at b[at..] holds, read back through rlpItemAt and rlpListItems */
  function read(b: Uint8Array, at: number, limit: number): RlpInput {
    const item = rlpItemAt(b, at, limit)
    if (!item.isList) return b.subarray(item.payload, item.end)
    return rlpListItems(b, item.payload, item.end).map((child) => read(b, child.start, item.end))
  }

  it('reads back random nested byte strings and lists, header forms included', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const c = input(random(seed), 3)
      const encoded = encodeRlp(c)
      assert.deepEqual(read(encoded, 0, encoded.length), c, `seed ${seed}`)
    }
  })

  it('refuses items that run past their list or their buffer', () => {
    assert.throws(() => rlpList(Uint8Array.of(0x83, 1, 2, 3)), /expected one list/)
    assert.throws(() => rlpList(Uint8Array.of(0xc1, 0x01, 0x02)), /expected one list/)
    assert.throws(() => rlpItemAt(Uint8Array.of(0x83, 1, 2), 0), /overruns/)
    assert.throws(() => rlpItemAt(Uint8Array.of(0xb9, 0x01), 0), /truncated/)
    assert.throws(() => rlpListItems(Uint8Array.of(0xc2, 0x82, 1, 2), 1, 3), /overruns/)
  })
})
