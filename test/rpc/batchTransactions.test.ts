/**
 * A JSON-RPC batch of eth_sendRawTransaction calls: the transactions are decoded and their senders recovered on the
 * recovery thread in one trip before the calls run in order, and each call still answers as it would alone.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'

import { RecoveryWorker } from '../../src/crypto/secp256k1.ts'
import { recoverSendersAhead } from '../../src/crypto/senders.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer } from '../../src/rpc/index.ts'
import type { TxPool } from '../../src/txpool/txpool.ts'
import { deferCleanup } from '../helpers.ts'
import { devChain, startPool, transfer } from '../txpool/testkit.ts'
import type { DevChain } from '../txpool/testkit.ts'

async function serve(t: TestContext, dc: DevChain): Promise<{ server: HttpServer; txpool: TxPool; recovered: TypedTransaction[][] }> {
  const txpool = await startPool(t, dc)
  const worker = RecoveryWorker.start()
  deferCleanup(t, () => worker.close())
  const recovered: TypedTransaction[][] = []
  const recoverSenders = async (txs: readonly TypedTransaction[]) => {
    await recoverSendersAhead(worker, txs)
    recovered.push([...txs])
  }
  const registry = createRegistry({ chain: dc.chain, clientVersion: clientVersion('0.1.0'), peerCount: () => 0, txpool, recoverSenders })
  const server = await startHttpServer({ port: 0, methods: registry.select(['eth']) })
  deferCleanup(t, () => server.close())
  return { server, txpool, recovered }
}

async function post(server: HttpServer, body: unknown): Promise<unknown> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.json()
}

const send = (id: number, raw: string) => ({ jsonrpc: '2.0', id, method: 'eth_sendRawTransaction', params: [raw] })

describe('eth_sendRawTransaction in a batch', () => {
  it('recovers the batch senders together on the thread and answers each call as alone', async (t) => {
    const dc = await devChain(t)
    const { server, txpool, recovered } = await serve(t, dc)
    const a = transfer(dc, 1, 0n)
    const b = transfer(dc, 2, 0n)
    const rawA = bytesToHex(a.serialize())
    const rawB = bytesToHex(b.serialize())

    const answers = (await post(server, [send(1, rawA), send(2, '0xzz'), send(3, rawB), send(4, rawA), { jsonrpc: '2.0', id: 5, method: 'eth_chainId' }])) as {
      id: number
      result?: string
      error?: { message: string }
    }[]

    assert.deepEqual(
      answers.map((x) => [x.id, x.result ?? x.error?.message]),
      [
        [1, bytesToHex(a.hash())],
        [2, 'invalid argument 0: json: cannot unmarshal invalid hex string into Go value of type hexutil.Bytes'],
        [3, bytesToHex(b.hash())],
        [4, 'already known'],
        [5, '0x539'],
      ],
    )
    // one trip for the two distinct transactions, whose senders came back from the thread
    assert.equal(recovered.length, 1)
    assert.deepEqual(recovered[0].map((tx) => bytesToHex(tx.hash())), [bytesToHex(a.hash()), bytesToHex(b.hash())])
    assert.ok(recovered[0].every((tx) => tx.cache.senderPubKey !== undefined))
    assert.deepEqual(recovered[0].map((tx) => tx.getSenderAddress().toString()), [dc.addresses[1], dc.addresses[2]])
    // the pool admitted the transactions prepared for the batch, not copies decoded again
    assert.equal(txpool.get(bytesToHex(a.hash()))?.tx, recovered[0][0])
    assert.equal(txpool.get(bytesToHex(b.hash()))?.tx, recovered[0][1])
  })

  it('leaves a lone call on the main thread, and a later batch decodes afresh', async (t) => {
    const dc = await devChain(t)
    const { server, recovered } = await serve(t, dc)
    const first = transfer(dc, 1, 0n)
    assert.deepEqual(await post(server, send(1, bytesToHex(first.serialize()))), { jsonrpc: '2.0', id: 1, result: bytesToHex(first.hash()) })
    assert.deepEqual(await post(server, [send(2, bytesToHex(transfer(dc, 1, 1n).serialize()))]), [{ jsonrpc: '2.0', id: 2, result: bytesToHex(transfer(dc, 1, 1n).hash()) }])
    assert.equal(recovered.length, 0)

    // the same bytes again in a new batch: the pool's answer, not a stale prepared transaction's
    const again = (await post(server, [send(3, bytesToHex(first.serialize())), send(4, bytesToHex(transfer(dc, 3, 0n).serialize()))])) as { result?: string; error?: { message: string } }[]
    assert.deepEqual(
      again.map((x) => x.result ?? x.error?.message),
      ['already known', bytesToHex(transfer(dc, 3, 0n).hash())],
    )
    assert.equal(recovered.length, 1)
  })
})
