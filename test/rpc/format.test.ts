/**
 * Result shapes for cases the conformance chain does not reach (pending transactions, failed and pre-Byzantium
 * receipts mixed in one block, pre-EIP-155 signatures); the shapes it does reach are checked byte for byte
 * against geth in namespaces.test.ts.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlock } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import { createContractAddress, hexToBytes } from '@ethereumjs/util'

import type { ConsensusReceipt } from '../../src/chain/types.ts'
import { formatBlock, formatBlockReceipts, formatReceiptAt, formatTransaction, inclusionIn } from '../../src/rpc/format.ts'

const KEY = hexToBytes(`0x${'11'.repeat(32)}`)
const TO: `0x${string}` = `0x${'22'.repeat(20)}`
const london = new Common({ chain: Mainnet, hardfork: Hardfork.London })
const homestead = new Common({ chain: Mainnet, hardfork: Hardfork.Homestead })

const legacy155 = createLegacyTx({ nonce: 0n, gasPrice: 50n, gasLimit: 21000n, to: TO, value: 1n }, { common: london }).sign(KEY)
const legacyPre155 = createLegacyTx({ nonce: 1n, gasPrice: 50n, gasLimit: 21000n, to: TO, value: 1n }, { common: homestead }).sign(KEY)
const dynamic = createFeeMarket1559Tx(
  { nonce: 2n, maxFeePerGas: 100n, maxPriorityFeePerGas: 7n, gasLimit: 30000n, to: TO, accessList: [{ address: TO, storageKeys: [`0x${'00'.repeat(31)}01` as const] }] },
  { common: london },
).sign(KEY)
const creation = createFeeMarket1559Tx({ nonce: 3n, maxFeePerGas: 20n, maxPriorityFeePerGas: 15n, gasLimit: 90000n, data: '0x6000' }, { common: london }).sign(KEY)

const block = createBlock(
  { header: { number: 9n, timestamp: 1234n, gasLimit: 1_000_000n, baseFeePerGas: 10n }, transactions: [legacy155, legacyPre155, dynamic, creation] },
  { common: london },
)

const log = (n: number): ConsensusReceipt['logs'][number] => [hexToBytes(TO), [new Uint8Array(32).fill(n)], Uint8Array.of(n)]
const bloom = new Uint8Array(256)
const receipts: ConsensusReceipt[] = [
  { type: 0, status: 1, cumulativeGasUsed: 21000n, logsBloom: bloom, logs: [log(1), log(2)] },
  { type: 0, stateRoot: new Uint8Array(32).fill(9), cumulativeGasUsed: 42000n, logsBloom: bloom, logs: [] },
  { type: 2, status: 0, cumulativeGasUsed: 70000n, logsBloom: bloom, logs: [log(3)] },
  { type: 2, status: 1, cumulativeGasUsed: 130000n, logsBloom: bloom, logs: [] },
]

describe('formatTransaction', () => {
  it("gives a pending fee-market transaction geth's pending shape: no location, the fee cap as gas price", () => {
    const tx = formatTransaction(dynamic)
    assert.deepEqual(Object.keys(tx), [
      'blockHash', 'blockNumber', 'blockTimestamp', 'from', 'gas', 'gasPrice', 'maxFeePerGas', 'maxPriorityFeePerGas',
      'hash', 'input', 'nonce', 'to', 'transactionIndex', 'value', 'type', 'accessList', 'chainId', 'v', 'r', 's', 'yParity',
    ])
    assert.equal(tx.blockHash, null)
    assert.equal(tx.blockNumber, null)
    assert.equal(tx.blockTimestamp, null)
    assert.equal(tx.transactionIndex, null)
    assert.equal(tx.gasPrice, '0x64')
    assert.equal(tx.from, dynamic.getSenderAddress().toString())
    assert.deepEqual(tx.accessList, [{ address: TO, storageKeys: [`0x${'00'.repeat(31)}01`] }])
    assert.equal(tx.yParity, tx.v)
  })

  it('prices an included fee-market transaction at min(base fee + tip, fee cap)', () => {
    assert.equal(formatTransaction(dynamic, inclusionIn(block, 2)).gasPrice, '0x11')
    assert.equal(formatTransaction(creation, inclusionIn(block, 3)).gasPrice, '0x14')
    const included = formatTransaction(dynamic, inclusionIn(block, 2))
    assert.equal(included.blockHash, `0x${Buffer.from(block.hash()).toString('hex')}`)
    assert.equal(included.blockTimestamp, '0x4d2')
    assert.equal(included.transactionIndex, '0x2')
    assert.equal(formatTransaction(creation).to, null)
  })

  it('gives legacy transactions a chainId only when signed under EIP-155, and no yParity', () => {
    const eip155 = formatTransaction(legacy155, inclusionIn(block, 0))
    assert.equal(eip155.chainId, '0x1')
    assert.ok(eip155.v === '0x25' || eip155.v === '0x26')
    const plain = formatTransaction(legacyPre155, inclusionIn(block, 1))
    assert.equal('chainId' in plain, false)
    assert.ok(plain.v === '0x1b' || plain.v === '0x1c')
    for (const tx of [eip155, plain]) {
      assert.equal('yParity' in tx, false)
      assert.equal('accessList' in tx, false)
      assert.equal('maxFeePerGas' in tx, false)
    }
  })
})

describe('formatBlockReceipts / formatReceiptAt', () => {
  const formatted = formatBlockReceipts(block, receipts)

  it('derives gas used, log indexes across the block, status or root, and the created contract', () => {
    assert.deepEqual(formatted.map((r) => r.gasUsed), ['0x5208', '0x5208', '0x6d60', '0xea60'])
    assert.deepEqual(formatted.map((r) => (r.logs as { logIndex: string }[]).map((l) => l.logIndex)), [['0x0', '0x1'], [], ['0x2'], []])
    assert.equal(formatted[0].status, '0x1')
    assert.equal(formatted[1].root, `0x${'09'.repeat(32)}`)
    assert.equal('status' in formatted[1], false)
    assert.equal(formatted[2].status, '0x0')
    assert.equal(formatted[2].contractAddress, null)
    assert.equal(formatted[3].contractAddress, createContractAddress(creation.getSenderAddress(), 3n).toString())
    assert.deepEqual(formatted.map((r) => r.effectiveGasPrice), ['0x32', '0x32', '0x11', '0x14'])
    assert.deepEqual(formatted.map((r) => r.type), ['0x0', '0x0', '0x2', '0x2'])
  })

  it('orders receipt keys as Go maps marshal them, logs as the Log struct', () => {
    for (const r of formatted) assert.deepEqual(Object.keys(r), Object.keys(r).sort())
    assert.deepEqual(Object.keys((formatted[0].logs as object[])[0]), [
      'address', 'topics', 'data', 'blockNumber', 'transactionHash', 'transactionIndex', 'blockHash', 'blockTimestamp', 'logIndex', 'removed',
    ])
  })

  it('formats one receipt as the whole block does', () => {
    for (let i = 0; i < receipts.length; i++) assert.deepEqual(formatReceiptAt(block, receipts, i), formatted[i])
  })
})

describe('formatBlock', () => {
  it('has sorted keys, the RLP size, and no withdrawals before Shanghai', () => {
    const b = formatBlock(block, false)
    assert.deepEqual(Object.keys(b), Object.keys(b).sort())
    assert.equal(b.size, `0x${block.serialize().length.toString(16)}`)
    assert.equal('withdrawals' in b, false)
    assert.equal(b.baseFeePerGas, '0xa')
    assert.deepEqual(b.transactions, block.transactions.map((tx) => `0x${Buffer.from(tx.hash()).toString('hex')}`))
    assert.deepEqual((formatBlock(block, true).transactions as object[])[2], formatTransaction(dynamic, inclusionIn(block, 2)))
  })

  it('reports the coinbase as miner unless an author hook names the producer (Clique: the sealer)', () => {
    assert.equal(formatBlock(block, false).miner, block.header.coinbase.toString())
    const withAuthor = formatBlock(block, false, (h) => (h === block.header ? TO : 'wrong header'))
    assert.equal(withAuthor.miner, TO)
    assert.deepEqual({ ...withAuthor, miner: null }, { ...formatBlock(block, false), miner: null })
  })
})
