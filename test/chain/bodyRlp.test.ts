import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'

import { encodeBlock, encodeBody, txHashesOfBody } from '../../src/chain/bodyRlp.ts'
import { reopenedExecutionApisChain } from './storedChain.ts'

describe('transaction hashes from a stored body', () => {
  it("equal the decoded transactions' hashes, legacy and typed, and getBlockLogs pairs them with the receipts' logs", async (t) => {
    const chain = await reopenedExecutionApisChain(t)
    const kinds = new Set<number>()
    let logged = 0
    for (let n = 1n; n <= chain.heads().latest.number; n++) {
      // the header only: with the block cached, getBlockLogs would take the hashes from it
      const header = (await chain.getHeaderByHash((await chain.getCanonicalHash(n))!))!
      const fresh = await chain.getBlockLogs(header)
      const block = (await chain.getBlockByHash(header.hash()))!
      const receipts = (await chain.getReceipts(header.hash()))!
      assert.deepEqual(fresh!.txHashes.map(bytesToHex), block.transactions.map((tx) => bytesToHex(tx.hash())), `block ${n}`)
      assert.deepEqual(fresh!.logs, receipts.flatMap((r, txIndex) => r.logs.map((log) => ({ log, txIndex }))), `block ${n} logs`)
      for (const tx of block.transactions) kinds.add(tx.type)
      logged += fresh!.logs.length
    }
    assert.ok(kinds.has(0) && kinds.size > 1, `the chain holds legacy and typed transactions (${[...kinds]})`)
    assert.ok(logged > 0, 'the chain has logs')
  })

  it('refuses a body that is not a list, or whose items overrun it', () => {
    assert.throws(() => txHashesOfBody(Uint8Array.of(0x83, 1, 2, 3)), /expected one list/)
    assert.throws(() => txHashesOfBody(Uint8Array.of(0xc3, 0xc5, 1, 2)), /overruns/)
    assert.throws(() => txHashesOfBody(Uint8Array.of(0xc1, 0xb9)), /truncated|overruns/)
    assert.deepEqual(txHashesOfBody(RLP.encode([[], []])), [])
  })
})

describe('block and body encodings from remembered transaction encodings', () => {
  it('are byte for byte what ethereumjs serializes, for every block of a chain with legacy and typed transactions', async (t) => {
    const chain = await reopenedExecutionApisChain(t)
    for (let n = 0n; n <= chain.heads().latest.number; n++) {
      const block = (await chain.getBlockByNumber(n))!
      assert.deepEqual(encodeBlock(block), block.serialize(), `block ${n}`)
      assert.deepEqual(encodeBody(block), RLP.encode(block.raw().slice(1)), `body ${n}`)
    }
  })
})
