import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { checkForkId, crc32, forkIdAt } from '../../src/net/forkid.ts'
import type { ForkSchedule } from '../../src/net/forkid.ts'
import { decodeStatus, encodeStatus, statusMismatch } from '../../src/net/status.ts'

/** Ethereum mainnet as geth's forkid.gatherForks sees it (EIP-2124's own test chain). */
const MAINNET: ForkSchedule = {
  genesisHash: hexToBytes('0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3'),
  blocks: [1150000n, 1920000n, 2463000n, 2675000n, 4370000n, 7280000n, 9069000n, 9200000n, 12244000n, 12965000n, 13773000n, 15050000n],
  times: [1681338455n, 1710338135n],
}
const id = (hash: string, next: bigint) => ({ hash: hexToBytes(hash as `0x${string}`), next })

describe('EIP-2124 fork id', () => {
  it('crc32 is IEEE CRC32 and continues like Go crc32.Update', () => {
    assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926)
    const all = new TextEncoder().encode('hello world')
    assert.equal(crc32(all.subarray(6), crc32(all.subarray(0, 6))), crc32(all))
  })

  it('computes the EIP-2124 mainnet vectors', () => {
    const cases: [bigint, bigint, string, bigint][] = [
      [0n, 0n, '0xfc64ec04', 1150000n],
      [1149999n, 0n, '0xfc64ec04', 1150000n],
      [1150000n, 0n, '0x97c2c34c', 1920000n],
      [1920000n, 0n, '0x91d1f948', 2463000n],
      [4370000n, 0n, '0xa00bc324', 7280000n],
      [7280000n, 0n, '0x668db0af', 9069000n],
      [12965000n, 0n, '0xb715077d', 13773000n],
      [15050000n, 1681338454n, '0xf0afd0e3', 1681338455n],
      [17000000n, 1681338455n, '0xdce96c2d', 1710338135n],
      [20000000n, 1710338135n, '0x9f3d2254', 0n],
    ]
    for (const [number, time, hash, next] of cases) {
      const f = forkIdAt(MAINNET, number, time)
      assert.deepEqual([bytesToHex(f.hash), f.next], [hash, next], `head ${number}/${time}`)
    }
  })

  it('validates remote fork ids by the EIP-2124 rules', () => {
    const head = 7987396n // Petersburg
    assert.equal(checkForkId(MAINNET, head, 0n, id('0x668db0af', 0n)), undefined, 'same fork')
    assert.equal(checkForkId(MAINNET, head, 0n, id('0x668db0af', 0xffffffffn)), undefined, 'same fork, next unknown here')
    assert.equal(checkForkId(MAINNET, head, 0n, id('0xa00bc324', 7280000n)), undefined, 'remote behind, knows the next fork')
    assert.equal(checkForkId(MAINNET, 7279999n, 0n, id('0x668db0af', 0n)), undefined, 'remote ahead: we are syncing')
    assert.match(checkForkId(MAINNET, head, 0n, id('0xa00bc324', 0n))!, /remote is behind/, 'remote stale: missed Petersburg')
    assert.match(checkForkId(MAINNET, head, 0n, id('0x668db0af', 7279999n))!, /past the remote's next fork/)
    assert.match(checkForkId(MAINNET, head, 0n, id('0xafec6b27', 0n))!, /not on this chain's schedule/)
  })
})

describe('status message', () => {
  const status = {
    version: 1,
    chainId: 1337n,
    networkId: 1337n,
    genesisHash: new Uint8Array(32).fill(1),
    forkId: id('0xfc64ec04', 0n),
    headHash: new Uint8Array(32).fill(2),
    headNumber: 42n,
    td: 85n,
  }
  const schedule: ForkSchedule = { genesisHash: status.genesisHash, blocks: [], times: [] }

  it('round-trips and refuses malformed input', () => {
    assert.deepEqual(decodeStatus(encodeStatus(status)), status)
    assert.throws(() => decodeStatus(new Uint8Array([0xc0])), /expected a list of 8 items/)
  })

  it('names the first value that differs', () => {
    const local = { version: 1, chainId: 1337n, networkId: 1337n, genesisHash: status.genesisHash }
    const remote = { ...status, forkId: forkIdAt(schedule, 0n, 0n) }
    const head = { number: 0n, timestamp: 0n }
    assert.equal(statusMismatch(local, schedule, head, remote), undefined)
    assert.equal(statusMismatch(local, schedule, head, { ...remote, chainId: 4242n }), 'chain id: ours 1337, theirs 4242')
    assert.equal(statusMismatch(local, schedule, head, { ...remote, networkId: 7n }), 'network id: ours 1337, theirs 7')
    assert.match(statusMismatch(local, schedule, head, { ...remote, genesisHash: new Uint8Array(32) })!, /^genesis: ours 0x0101.*, theirs 0x0000/)
    assert.match(statusMismatch(local, schedule, head, { ...remote, forkId: id('0xdeadbeef', 0n) })!, /^fork id: fork hash 0xdeadbeef/)
  })
})
