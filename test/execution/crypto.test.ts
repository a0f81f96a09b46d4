import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bigIntToUnpaddedBytes, ecrecover, hexToBytes, randomBytes } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'

import { nativeEcrecover } from '../../src/execution/crypto.ts'

const N = secp256k1.Point.CURVE().n

function signed(chainId?: bigint) {
  const msg = randomBytes(32)
  const sig = secp256k1.sign(msg, randomBytes(32), { format: 'recovered', prehash: false })
  const recovery = BigInt(sig[0])
  const v = chainId === undefined ? 27n + recovery : chainId * 2n + 35n + recovery
  return { msg, v, r: sig.subarray(1, 33), s: sig.subarray(33, 65) }
}

describe('native ecrecover', () => {
  it('recovers the same public key as the pure-JS default for legacy, EIP-155 and typed (v = 0/1) signatures', () => {
    for (let i = 0; i < 50; i++) {
      for (const chainId of [undefined, 1337n, 11155111n]) {
        const { msg, v, r, s } = signed(chainId)
        assert.deepEqual(nativeEcrecover(msg, v, r, s, chainId), ecrecover(msg, v, r, s, chainId))
      }
      const { msg, v, r, s } = signed()
      const yParity = v - 27n
      assert.deepEqual(nativeEcrecover(msg, yParity, r, s), ecrecover(msg, yParity, r, s))
    }
  })

  it('accepts r and s shorter than 32 bytes, as transactions carry them unpadded', () => {
    for (let i = 0; i < 300; i++) {
      const { msg, v, r, s } = signed()
      const rs = [r, s].map((x) => bigIntToUnpaddedBytes(BigInt(`0x${Buffer.from(x).toString('hex')}`)))
      if (rs[0].length === 32 && rs[1].length === 32) continue
      assert.deepEqual(nativeEcrecover(msg, v, rs[0], rs[1]), ecrecover(msg, v, rs[0], rs[1]))
      return
    }
  })

  it('rejects what the pure-JS default rejects: bad v, zero r, r or s not below the curve order', () => {
    const { msg, r, s } = signed()
    const n = hexToBytes(`0x${N.toString(16)}`)
    const cases: [bigint, Uint8Array, Uint8Array][] = [
      [29n, r, s],
      [27n, new Uint8Array(32), s],
      [27n, n, s],
      [27n, r, n],
      [27n, r, new Uint8Array(33).fill(1)],
    ]
    for (const [v, rr, ss] of cases) {
      assert.throws(() => ecrecover(msg, v, rr, ss))
      assert.throws(() => nativeEcrecover(msg, v, rr, ss))
    }
  })
})
