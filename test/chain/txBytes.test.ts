import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createAccessList2930Tx, createBlob4844Tx, createEOACode7702Tx, createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, randomBytes } from '@ethereumjs/util'

import { decodeTx } from '../../src/chain/decode.ts'
import { signingHash, txBytes } from '../../src/chain/txBytes.ts'
import { customCrypto } from '../../src/execution/crypto.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const to = '0x000000000000000000000000000000000000dead' as const

describe('txBytes', () => {
  it('is the canonical encoding, computed once for a frozen transaction', () => {
    for (const tx of [
      createFeeMarket1559Tx({ to, gasLimit: 21000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n }, { common }).sign(randomBytes(32)),
      createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n }, { common }).sign(randomBytes(32)),
    ]) {
      assert.ok(Object.isFrozen(tx))
      const first = txBytes(tx)
      assert.deepEqual(first, tx.serialize())
      assert.equal(txBytes(tx), first, 'the same bytes, not a second encoding')
    }
  })

  it('encodes a mutable transaction afresh each time: it may have changed', () => {
    const tx = createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n }, { common, freeze: false })
    const first = txBytes(tx)
    ;(tx as unknown as { gasPrice: bigint }).gasPrice = 11n
    assert.notDeepEqual(txBytes(tx), first)
    assert.deepEqual(txBytes(tx), tx.serialize())
  })
})

describe('signingHash', () => {
  const key = randomBytes(32)
  const fees = { maxFeePerGas: 10n, maxPriorityFeePerGas: 1n }
  const accessList = [{ address: to, storageKeys: [bytesToHex(new Uint8Array(32).fill(7)), bytesToHex(new Uint8Array(32).fill(8))] }]
  const authorization = { chainId: '0x1', address: to, nonce: '0x0', yParity: '0x1', r: '0x01', s: '0x02' } as const
  const homestead = new Common({ chain: Mainnet, hardfork: Hardfork.Homestead })
  const withKzg = new Common({ chain: Mainnet, hardfork: Hardfork.Prague, customCrypto })
  const onChain = (chainId: bigint) => new Common({ chain: { ...Mainnet, chainId: Number(chainId) }, hardfork: Hardfork.Prague })

  /** each type, and the RLP length forms: data of 0, 1 (< 0x80 and >= 0x80), 55, 56, 300 and 70,000 bytes, no `to` */
  function variety(): TypedTransaction[] {
    const txs: TypedTransaction[] = []
    for (const data of [new Uint8Array(0), Uint8Array.of(0x7f), Uint8Array.of(0x80), randomBytes(55), randomBytes(56), randomBytes(300), new Uint8Array(70_000).fill(0xab)]) {
      // contract creations (no `to`) where the initcode limit allows
      const create = data.length > 49_152 ? to : undefined
      txs.push(
        createLegacyTx({ to, data, gasLimit: 1_000_000n, gasPrice: 10n, nonce: 1n }, { common }).sign(key),
        createLegacyTx({ to: create, data, gasLimit: 1_000_000n, gasPrice: 10n, value: 1n }, { common: homestead }).sign(key),
        createAccessList2930Tx({ to, data, gasLimit: 1_000_000n, gasPrice: 10n, nonce: 2n, accessList }, { common }).sign(key),
        createFeeMarket1559Tx({ to: create, data, gasLimit: 1_000_000n, nonce: 3n, value: 5n, ...fees }, { common }).sign(key),
        createEOACode7702Tx({ to, data, gasLimit: 1_000_000n, nonce: 4n, authorizationList: [authorization], accessList, ...fees }, { common }).sign(key),
        createBlob4844Tx({ to, data, gasLimit: 1_000_000n, maxFeePerBlobGas: 1n, blobVersionedHashes: [bytesToHex(new Uint8Array(32).fill(1))], ...fees }, { common: withKzg }).sign(key),
      )
    }
    for (const chainId of [1n, 127n, 1337n, 2n ** 32n + 5n]) {
      txs.push(createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n, nonce: 300n }, { common: onChain(chainId) }).sign(key))
    }
    return txs
  }

  it("is ethereumjs's hash of what the signature signs, for every type and length form", () => {
    for (const tx of variety()) assert.deepEqual(signingHash(tx), tx.getMessageToVerifySignature(), `type ${tx.type}, ${tx.data.length} bytes of data`)
  })

  it('for transactions decoded from their bytes, and for mutable ones', () => {
    for (const signed of variety()) assert.deepEqual(signingHash(decodeTx(signed.serialize(), signed.common)), signed.getMessageToVerifySignature())
    const mutable = createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n, v: 27n, r: 1n, s: 2n }, { common, freeze: false })
    assert.deepEqual(signingHash(mutable), mutable.getMessageToVerifySignature())
  })
})
