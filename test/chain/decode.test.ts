import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlock, createBlockFromRLP } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { createAccessList2930Tx, createEOACode7702Tx, createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes, randomBytes } from '@ethereumjs/util'

import { decodeBlock, decodeTx } from '../../src/chain/decode.ts'
import { txBytes } from '../../src/chain/txBytes.ts'
import { keccak256 } from '../../src/crypto/keccak.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const to = '0x000000000000000000000000000000000000dead' as const
const key = randomBytes(32)

function everyType(): TypedTransaction[] {
  const fees = { maxFeePerGas: 10n, maxPriorityFeePerGas: 1n }
  const accessList = [{ address: to, storageKeys: [bytesToHex(new Uint8Array(32).fill(7))] }]
  const authorization = { chainId: '0x1', address: to, nonce: '0x0', yParity: '0x1', r: '0x01', s: '0x02' } as const
  return [
    createLegacyTx({ to, gasLimit: 21000n, gasPrice: 10n, nonce: 1n }, { common }).sign(key),
    createAccessList2930Tx({ to, gasLimit: 30000n, gasPrice: 10n, nonce: 2n, accessList }, { common }).sign(key),
    createFeeMarket1559Tx({ to, gasLimit: 21000n, nonce: 3n, value: 5n, data: '0x1234', ...fees }, { common }).sign(key),
    createEOACode7702Tx({ to, gasLimit: 60000n, nonce: 4n, authorizationList: [authorization], ...fees }, { common }).sign(key),
  ]
}

describe('decodeTx', () => {
  it('keeps the bytes it decoded as the encoding, and hashes them: what serializing again would give', () => {
    for (const signed of everyType()) {
      const raw = signed.serialize()
      const tx = decodeTx(raw, common)
      assert.equal(txBytes(tx), raw, `type ${signed.type}: the decoded bytes themselves`)
      assert.deepEqual(tx.hash(), signed.hash())
      assert.deepEqual(tx.serialize(), raw, `type ${signed.type}: serializes to the bytes it came from`)
      assert.deepEqual(tx.getSenderAddress(), signed.getSenderAddress())
    }
  })

  it('refuses encodings that would not serialize to themselves, so a remembered encoding is canonical', () => {
    const canonical = everyType()[2].serialize()
    const fields = RLP.decode(canonical.subarray(1)) as Uint8Array[]
    const withLeadingZero = [...fields]
    withLeadingZero[1] = new Uint8Array([0, 3]) // nonce 3 as 0x0003
    assert.throws(() => decodeTx(new Uint8Array([2, ...RLP.encode(withLeadingZero)]), common), /leading zero/i)
    assert.throws(() => decodeTx(new Uint8Array([...canonical, 0x80]), common), /remainder/i)
    // a one-byte string below 0x80 written with a length prefix
    const payload = RLP.encode(fields)
    const nonceAt = payload.indexOf(0x03, 4)
    const padded = new Uint8Array([2, ...payload.subarray(0, nonceAt), 0x81, ...payload.subarray(nonceAt)])
    padded[2] += 1 // the list's length grows by the added byte (a short list header)
    assert.throws(() => decodeTx(padded, common))
  })
})

describe('decodeBlock', () => {
  it('decodes as ethereumjs does, with each typed transaction keeping its encoding and hash', () => {
    const txs = everyType()
    const block = createBlock({ header: { number: 22_500_000n, gasLimit: 1_000_000n, timestamp: 1_750_000_000n, baseFeePerGas: 7n }, transactions: txs }, { common })
    const serialized = block.serialize()
    const decoded = decodeBlock(serialized, common)
    const reference = createBlockFromRLP(serialized, { common, setHardfork: true, skipConsensusFormatValidation: true })
    assert.deepEqual(decoded.hash(), reference.hash())
    assert.deepEqual(decoded.serialize(), serialized)
    const body = (RLP.decode(serialized) as unknown[])[1] as (Uint8Array | Uint8Array[])[]
    decoded.transactions.forEach((tx, i) => {
      assert.deepEqual(tx.hash(), reference.transactions[i].hash(), `transaction ${i}`)
      const element = body[i]
      if (element instanceof Uint8Array) {
        assert.deepEqual(txBytes(tx), element)
        assert.deepEqual(tx.hash(), keccak256(element))
      }
    })
  })

  it('takes the transactions a lookup already holds, with the same encoding and fork rules, and decodes the others', () => {
    const txs = everyType()
    const block = createBlock({ header: { number: 22_500_000n, gasLimit: 1_000_000n, timestamp: 1_750_000_000n, baseFeePerGas: 7n }, transactions: txs }, { common })
    const serialized = block.serialize()
    const held = new Map<string, TypedTransaction>(txs.slice(0, 3).map((tx) => [bytesToHex(tx.hash()), decodeTx(tx.serialize(), common)]))
    // a transaction of another fork's rules, under the hash of the fourth
    held.set(bytesToHex(txs[3].hash()), decodeTx(txs[3].serialize(), new Common({ chain: Mainnet, hardfork: Hardfork.Osaka })))
    const asked: string[] = []
    const decoded = decodeBlock(serialized, common, (hash) => {
      asked.push(hash)
      return held.get(hash)
    })
    assert.deepEqual(asked, txs.map((tx) => bytesToHex(tx.hash())), 'each transaction looked up by its hash, a legacy one too')
    for (let i = 0; i < 3; i++) assert.equal(decoded.transactions[i], held.get(asked[i]), `transaction ${i} is the held object`)
    assert.notEqual(decoded.transactions[3], held.get(asked[3]), 'another fork: decoded again')
    assert.equal(decoded.transactions[3].common.hardfork(), Hardfork.Prague)
    const reference = createBlockFromRLP(serialized, { common, setHardfork: true, skipConsensusFormatValidation: true })
    assert.deepEqual(decoded.hash(), reference.hash())
    assert.deepEqual(decoded.serialize(), serialized)
    assert.deepEqual(decoded.transactions.map((tx) => tx.hash()), reference.transactions.map((tx) => tx.hash()))
  })

  it('decodes a transaction again when the held one under its hash has another encoding', () => {
    const [, , signed] = everyType()
    const block = createBlock({ header: { number: 22_500_000n, gasLimit: 1_000_000n, timestamp: 1_750_000_000n, baseFeePerGas: 7n }, transactions: [signed] }, { common })
    const other = decodeTx(everyType()[1].serialize(), common)
    const decoded = decodeBlock(block.serialize(), common, () => other)
    assert.notEqual(decoded.transactions[0], other)
    assert.deepEqual(decoded.transactions[0].hash(), signed.hash())
    assert.deepEqual(decoded.serialize(), block.serialize())
  })

  it('says what is wrong with bytes that are not a block', () => {
    assert.throws(() => decodeBlock(hexToBytes('0x8180'), common), /Must be array/)
    assert.throws(() => decodeBlock(hexToBytes('0xc0'), common))
  })

  it('refuses a legacy transaction wrapped in a byte string, as geth does', () => {
    const legacy = everyType()[0]
    const block = createBlock({ header: { number: 22_500_000n, gasLimit: 1_000_000n, timestamp: 1_750_000_000n, baseFeePerGas: 7n }, transactions: [legacy] }, { common })
    const [header, , uncles, withdrawals] = block.raw()
    const wrapped = RLP.encode([header, [legacy.serialize()], uncles, withdrawals ?? []] as Uint8Array[][])
    assert.throws(() => decodeBlock(wrapped, common), /transaction type not supported/)
    assert.equal(decodeBlock(block.serialize(), common).transactions.length, 1, 'the same transaction as a list is fine')
  })
})

