import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx, createFeeMarket1559TxFromRLP, createLegacyTx, createLegacyTxFromRLP } from '@ethereumjs/tx'
import type { FeeMarketEIP1559TxData } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { SECP256K1_ORDER, bytesToHex, hexToBytes, randomBytes } from '@ethereumjs/util'

import { recoverSendersAhead, senderAccountAddress, senderAddress } from '../../src/crypto/senders.ts'
import { RecoveryWorker, recoverPublicKey } from '../../src/crypto/secp256k1.ts'

// no customCrypto: ethereumjs' own pure-JS recovery is the reference the worker's answers are checked against
const prague = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const homestead = new Common({ chain: Mainnet, hardfork: Hardfork.Homestead })
const chainstart = new Common({ chain: Mainnet, hardfork: Hardfork.Chainstart })
const to = '0x000000000000000000000000000000000000dead'

function signedTxs(count: number): TypedTransaction[] {
  const txs: TypedTransaction[] = []
  for (let i = 0; i < count; i++) {
    const key = randomBytes(32)
    const kind = i % 3
    if (kind === 0) txs.push(createFeeMarket1559Tx({ nonce: i, to, value: 1n, gasLimit: 21000n, maxFeePerGas: 10n, maxPriorityFeePerGas: 1n }, { common: prague }).sign(key))
    // EIP-155 replay-protected legacy (v = 37/38 on chain 1) and pre-EIP-155 legacy (v = 27/28)
    else if (kind === 1) txs.push(createLegacyTx({ nonce: i, to, value: 1n, gasLimit: 21000n, gasPrice: 10n }, { common: prague }).sign(key))
    else txs.push(createLegacyTx({ nonce: i, to, value: 1n, gasLimit: 21000n, gasPrice: 10n }, { common: homestead }).sign(key))
  }
  return txs
}

/** The same transaction decoded afresh: nothing cached, so ethereumjs recovers its sender itself. */
const fresh = (tx: TypedTransaction) => (tx.type === 2 ? createFeeMarket1559TxFromRLP(tx.serialize(), { common: prague }) : createLegacyTxFromRLP(tx.serialize(), { common: tx.common }))

describe('senderAddress', () => {
  it("is ethereumjs's sender, lowercase hex, for typed, EIP-155 and pre-EIP-155 legacy transactions", () => {
    for (const tx of signedTxs(9)) assert.equal(senderAddress(fresh(tx)), fresh(tx).getSenderAddress().toString())
  })

  it('as an Address (senderAccountAddress), equal to getSenderAddress', () => {
    for (const tx of signedTxs(9)) assert.ok(senderAccountAddress(fresh(tx)).equals(fresh(tx).getSenderAddress()))
  })

  it('keeps the key it recovers in the transaction, as ethereumjs would, and answers from it', () => {
    for (const signed of signedTxs(9)) {
      const tx = fresh(signed)
      const sender = senderAddress(tx)
      assert.equal(bytesToHex(tx.cache.senderPubKey!), bytesToHex(fresh(signed).getSenderPublicKey()))
      assert.equal(senderAddress(tx), sender)
      // the address too: asked again, it is the same bytes, not hashed anew
      assert.equal(senderAccountAddress(tx).bytes, senderAccountAddress(tx).bytes)
    }
  })

  it('follows a mutable transaction whose signature changes', () => {
    const [good] = signedTxs(1)
    const mutable = createFeeMarket1559Tx(good.toJSON() as FeeMarketEIP1559TxData, { common: prague, freeze: false })
    assert.equal(senderAddress(mutable), good.getSenderAddress().toString())
    const other = mutable.sign(randomBytes(32))
    Object.assign(mutable, { v: other.v, r: other.r, s: other.s })
    assert.equal(senderAddress(mutable), other.getSenderAddress().toString())
    assert.notEqual(senderAddress(mutable), good.getSenderAddress().toString())
  })

  it("leaves to ethereumjs what it must judge itself: high s before Homestead, a mutable transaction", () => {
    const low = createLegacyTx({ nonce: 0, to, value: 1n, gasLimit: 21000n, gasPrice: 10n }, { common: chainstart }).sign(randomBytes(32))
    const highS = createLegacyTx({ ...low.toJSON(), s: SECP256K1_ORDER - low.s!, v: 55n - low.v! }, { common: chainstart })
    assert.equal(senderAddress(highS), low.getSenderAddress().toString())
    const [good] = signedTxs(1)
    const mutable = createFeeMarket1559Tx(good.toJSON() as FeeMarketEIP1559TxData, { common: prague, freeze: false })
    assert.equal(senderAddress(mutable), good.getSenderAddress().toString())
    assert.equal(mutable.cache.senderPubKey, undefined)
  })

  it('throws for a signature that recovers nothing, as getSenderAddress does', () => {
    const [tx] = signedTxs(1)
    const forged = createFeeMarket1559Tx({ ...(tx.toJSON() as FeeMarketEIP1559TxData), r: SECP256K1_ORDER }, { common: prague })
    assert.throws(() => forged.getSenderAddress())
    assert.throws(() => senderAddress(forged))
  })
})

describe('sender recovery ahead of import, on a worker thread', () => {
  let worker: RecoveryWorker
  before(() => (worker = RecoveryWorker.start()))
  after(() => worker.close())

  it('leaves in each transaction the sender ethereumjs recovers (typed, EIP-155 and pre-EIP-155 legacy)', async () => {
    const txs = signedTxs(30)
    assert.ok(txs.every((tx) => tx.cache.senderPubKey === undefined))
    await recoverSendersAhead(worker, txs)
    for (const tx of txs) {
      assert.ok(tx.cache.senderPubKey !== undefined, `tx ${tx.nonce} recovered`)
      assert.equal(bytesToHex(tx.cache.senderPubKey), bytesToHex(fresh(tx).getSenderPublicKey()))
    }
  })

  it('leaves alone what it cannot vouch for, so validation still rejects it in ethereumjs words', async () => {
    const [good] = signedTxs(1)
    // an r that is no point's x coordinate: nothing recovers
    let r = 1n
    while ((() => { try { recoverPublicKey(new Uint8Array(32).fill(1), hexToBytes(`0x${r.toString(16).padStart(64, '0')}${'11'.repeat(32)}`), 0); return true } catch { return false } })()) r++
    const unrecoverable = createFeeMarket1559Tx({ ...(good.toJSON() as FeeMarketEIP1559TxData), r }, { common: prague })
    // the same signature with s mirrored, on a chain before Homestead (which forbids it): ethereumjs recovers it
    const low = createLegacyTx({ nonce: 0, to, value: 1n, gasLimit: 21000n, gasPrice: 10n }, { common: chainstart }).sign(randomBytes(32))
    const highS = createLegacyTx({ ...low.toJSON(), s: SECP256K1_ORDER - low.s!, v: 55n - low.v! }, { common: chainstart })
    const mutable = createFeeMarket1559Tx(good.toJSON() as FeeMarketEIP1559TxData, { common: prague, freeze: false })
    await recoverSendersAhead(worker, [unrecoverable, highS, mutable])
    assert.equal(unrecoverable.cache.senderPubKey, undefined)
    assert.equal(highS.cache.senderPubKey, undefined)
    assert.equal(mutable.cache.senderPubKey, undefined)
    assert.throws(() => unrecoverable.getSenderAddress(), /Invalid Signature/)
    assert.equal(highS.getSenderAddress().toString(), low.getSenderAddress().toString())
    assert.equal(mutable.getSenderAddress().toString(), good.getSenderAddress().toString())
  })

  it('closing while a batch is recovered waits for the thread to leave, and answers what it owed as not recovered', async () => {
    const closing = RecoveryWorker.start()
    const txs = signedTxs(400)
    const owed = recoverSendersAhead(closing, txs)
    await closing.close()
    await owed
    // every transaction either got its sender from the worker or is left to validation: none is wrong
    for (const tx of txs) if (tx.cache.senderPubKey !== undefined) assert.equal(bytesToHex(tx.cache.senderPubKey), bytesToHex(fresh(tx).getSenderPublicKey()))
    await closing.close()
  })

  it('after the worker is gone, recovers nothing and leaves recovery to validation', async () => {
    const gone = RecoveryWorker.start()
    await gone.close()
    const txs = signedTxs(3)
    await recoverSendersAhead(gone, txs)
    assert.ok(txs.every((tx) => tx.cache.senderPubKey === undefined))
    assert.equal(txs[0].getSenderAddress().toString(), fresh(txs[0]).getSenderAddress().toString())
  })
})
