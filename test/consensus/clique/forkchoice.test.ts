import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { compareHeads, type HeadCandidate, headCandidate, inTurnDistance } from '../../../src/consensus/clique/forkchoice.ts'
import { newSnapshot } from '../../../src/consensus/clique/snapshot.ts'
import { addressOf } from './testkit.ts'

const hash = (byte: number) => new Uint8Array(32).fill(byte)

function head(overrides: Partial<HeadCandidate>): HeadCandidate {
  return { totalDifficulty: 100n, number: 50n, hash: hash(0x55), signerIndex: 0, signerCount: 3, ...overrides }
}

/** The best of `heads` by compareHeads. */
function best(...heads: HeadCandidate[]): HeadCandidate {
  return [...heads].sort(compareHeads)[heads.length - 1]
}

describe('EIP-3436 block choice', () => {
  it('1. more total difficulty wins, whatever else', () => {
    const heavy = head({ totalDifficulty: 101n, number: 60n, hash: hash(0xff), signerIndex: 2 })
    const light = head({ totalDifficulty: 100n, number: 40n, hash: hash(0x00) })
    assert.ok(compareHeads(heavy, light) > 0)
    assert.ok(compareHeads(light, heavy) < 0)
  })

  it('2. then the lower block number (the shorter chain)', () => {
    const short = head({ number: 49n, hash: hash(0xff) })
    const long = head({ number: 50n, hash: hash(0x00) })
    assert.equal(best(long, short), short)
  })

  it('3. then the signer with the least recent in-turn slot: the larger (number - index) mod count', () => {
    // EIP-3436's second deadlock scenario: 8 signers (sorted as numbered, index = number - 1),
    // signer 7 sealed in turn at block 6, then signers 1,3,5 and 2,4,6 each seal blocks 7, 8 and 9
    // out of turn, so both forks have the same total difficulty and length.
    const oddFork = head({ totalDifficulty: 3n, number: 9n, hash: hash(0x01), signerIndex: 4, signerCount: 8 })
    const evenFork = head({ totalDifficulty: 3n, number: 9n, hash: hash(0x02), signerIndex: 5, signerCount: 8 })
    assert.equal(inTurnDistance(9n, 4, 8), 5n) // signer 5 was last in turn at block 4
    assert.equal(inTurnDistance(9n, 5, 8), 4n) // signer 6 at block 5
    assert.equal(best(evenFork, oddFork), oddFork)
  })

  it('3. an in-turn head counts as the most recent in-turn slot', () => {
    const inTurn = head({ number: 51n, signerIndex: 0, hash: hash(0x00) }) // 51 % 3 == 0
    const outOfTurn = head({ number: 51n, signerIndex: 1, hash: hash(0xff) })
    assert.equal(inTurnDistance(51n, 0, 3), 0n)
    assert.equal(best(inTurn, outOfTurn), outOfTurn)
  })

  it('4. then the lower hash, read as an unsigned 256-bit integer', () => {
    const low = head({ hash: Uint8Array.of(0x00, ...new Uint8Array(31).fill(0xff)) })
    const high = head({ hash: Uint8Array.of(0x01, ...new Uint8Array(31)) })
    assert.equal(best(high, low), low)
    assert.equal(compareHeads(low, head({ hash: low.hash.slice() })), 0)
  })

  it('is a consistent order: antisymmetric, and any input order sorts to the same best head', () => {
    const heads: HeadCandidate[] = []
    for (const totalDifficulty of [10n, 11n]) {
      for (const number of [5n, 6n]) {
        for (const signerIndex of [0, 1, 2]) {
          heads.push(head({ totalDifficulty, number, signerIndex, hash: hash(heads.length) }))
        }
      }
    }
    for (const a of heads) for (const b of heads) assert.equal(Math.sign(compareHeads(a, b)) + Math.sign(compareHeads(b, a)), 0)
    const winner = best(...heads)
    assert.equal(best(...[...heads].reverse()), winner)
    // TD 11, number 5: 5 % 3 = 2 so index 0 was in turn 2 blocks ago, the least recent
    assert.deepEqual(winner, head({ totalDifficulty: 11n, number: 5n, signerIndex: 0, hash: hash(6) }))
  })

  it('inTurnDistance refuses an index outside the signer list', () => {
    assert.equal(inTurnDistance(1n, 5, 8), 4n)
    assert.throws(() => inTurnDistance(1n, 3, 3), RangeError)
    assert.throws(() => inTurnDistance(1n, -1, 3), RangeError)
    assert.throws(() => inTurnDistance(1n, 0, 0), RangeError)
  })
})

describe('headCandidate', () => {
  const signers = ['A', 'B', 'C'].map(addressOf).sort()
  const parentSnapshot = newSnapshot(41, `0x${'00'.repeat(32)}`, signers)
  const block = { totalDifficulty: 90n, number: 42n, hash: hash(7) }

  it("takes the signer's place in the parent snapshot's sorted list", () => {
    assert.deepEqual(headCandidate(block, parentSnapshot, signers[2].toUpperCase().replace('0X', '0x')), {
      ...block,
      signerIndex: 2,
      signerCount: 3,
    })
  })

  it('refuses a signer the snapshot does not know', () => {
    assert.throws(() => headCandidate(block, parentSnapshot, addressOf('D')), RangeError)
  })
})
