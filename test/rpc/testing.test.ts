/**
 * testing_buildBlockV1 over the conformance chain: the fixtures byte for byte (the mempool one is spec-only, as geth's
 * pool held other transactions: its block must hold the one the fixture sends), the namespace served only when asked,
 * and the chain left as it was.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer } from '../../src/rpc/index.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import { fixtureTests, openFixtureChain } from './fixtureChain.ts'
import type { FixtureTest } from './fixtureChain.ts'

const HEAD = '0xd226371d0b1551adb03fb52b71f08e3e11247fe9b1af994768af8cdaa8e7dcd7'
const ATTRIBUTES = {
  parentBeaconBlockRoot: '0xcf8e0d4e9587369b2301d0790347320302cc0943d5a1884365149a42212e8822',
  prevRandao: `0x${'00'.repeat(32)}`,
  suggestedFeeRecipient: `0x${'00'.repeat(20)}`,
  timestamp: '0x228',
  withdrawals: [],
}

type Answer = { result?: any; error?: { code: number; message: string } }

async function post(server: HttpServer, body: string): Promise<string> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
  return res.text()
}

async function rpc(server: HttpServer, method: string, params: unknown[]): Promise<Answer> {
  const { jsonrpc: _, id: __, ...answer } = JSON.parse(await post(server, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params })))
  return answer
}

describe('testing_buildBlockV1 over the conformance chain', () => {
  let fixture: Awaited<ReturnType<typeof openFixtureChain>>
  let txpool: TxPool
  let server: HttpServer
  const tests = new Map<string, FixtureTest>(fixtureTests('testing_buildBlockV1').map((t) => [t.name.replace(/^.*\//, ''), t]))

  before(async () => {
    fixture = await openFixtureChain()
    txpool = new TxPool(fixture.chain, { allowBlobTxs: true })
    await txpool.start()
    const ctx = { chain: fixture.chain, simulation: fixture.chain.simulation(), txpool, clientVersion: clientVersion('0.1.0'), peerCount: () => 0 }
    server = await startHttpServer({ port: 0, methods: createRegistry(ctx).select(['eth', 'testing']) })
  })
  after(async () => {
    await server?.close()
    await txpool?.stop()
    await fixture?.close()
  })

  for (const name of ['build-block-empty-transactions', 'build-block-with-transactions', 'build-block-invalid-transaction']) {
    it(`answers ${name} exactly as geth`, async () => {
      for (const { request, response } of tests.get(name)!.exchanges) assert.equal(await post(server, request), response)
    })
  }

  it('builds from the pool when transactions are null (build-block-from-mempool, spec-only)', async () => {
    const [send, build] = tests.get('build-block-from-mempool')!.exchanges
    assert.equal(await post(server, send.request), send.response)
    const raw = JSON.parse(send.request).params[0] as string
    const got = JSON.parse(await post(server, build.request)).result
    const want = JSON.parse(build.response).result
    assert.deepEqual(got.executionPayload.transactions, [raw])
    assert.equal(got.executionPayload.gasUsed, '0x5208')
    // 21000 gas at a tip of 500 wei
    assert.equal(got.blockValue, '0xa037a0')
    for (const key of ['stateRoot', 'receiptsRoot', 'blockHash', 'gasUsed', 'transactions']) {
      delete got.executionPayload[key]
      delete want.executionPayload[key]
    }
    assert.deepEqual({ ...got, blockValue: undefined }, { ...want, blockValue: undefined })
    assert.deepEqual(Object.keys(got), Object.keys(want))
  })

  it('builds the same block from given transactions as from the pool, and stores neither', async () => {
    const pooled = (await rpc(server, 'testing_buildBlockV1', [HEAD, ATTRIBUTES, null, '0x'])).result
    const raw = pooled.executionPayload.transactions
    const given = (await rpc(server, 'testing_buildBlockV1', [HEAD, ATTRIBUTES, raw, '0x'])).result
    assert.deepEqual(given, pooled)
    assert.equal((await rpc(server, 'eth_blockNumber', [])).result, '0x36')
    assert.equal((await rpc(server, 'eth_getBlockByHash', [pooled.executionPayload.blockHash, false])).result, null)
  })

  it('pays withdrawals and moves the gas limit towards the ceiling', async () => {
    const recipient = `0x${'42'.repeat(20)}`
    const withdrawals = [{ index: '0x7', validatorIndex: '0x3', address: recipient, amount: '0x2' }]
    const empty = (await rpc(server, 'testing_buildBlockV1', [HEAD, ATTRIBUTES, [], '0x'])).result.executionPayload
    const paid = (await rpc(server, 'testing_buildBlockV1', [HEAD, { ...ATTRIBUTES, withdrawals }, [], '0x'])).result.executionPayload
    assert.deepEqual(paid.withdrawals, withdrawals)
    assert.notEqual(paid.stateRoot, empty.stateRoot)
    // 200M parent, geth's 60M ceiling: down by parent/1024 - 1
    assert.equal(BigInt(paid.gasLimit), 200_000_000n - (200_000_000n / 1024n - 1n))

    const ctx = { chain: fixture.chain, simulation: fixture.chain.simulation(), clientVersion: clientVersion('0.1.0'), peerCount: () => 0, minerGasCeil: 200_000_000n }
    const steady = await startHttpServer({ port: 0, methods: createRegistry(ctx).select(['testing']) })
    try {
      assert.equal((await rpc(steady, 'testing_buildBlockV1', [HEAD, ATTRIBUTES, [], '0x'])).result.executionPayload.gasLimit, '0xbebc200')
    } finally {
      await steady.close()
    }
  })

  it("refuses what geth refuses", async () => {
    assert.deepEqual(await rpc(server, 'testing_buildBlockV1', [`0x${'11'.repeat(32)}`, ATTRIBUTES, [], '0x']), {
      error: { code: -32000, message: 'parentHash is not current head' },
    })
    assert.deepEqual(await rpc(server, 'testing_buildBlockV1', [HEAD, { ...ATTRIBUTES, timestamp: undefined }, [], '0x']), {
      error: { code: -32602, message: "invalid argument 1: missing required field 'timestamp' for PayloadAttributes" },
    })
    const answer = await rpc(server, 'testing_buildBlockV1', [HEAD, ATTRIBUTES, ['0x02c0'], '0x'])
    assert.equal(answer.error?.code, -32000)
    assert.match(answer.error!.message, /^invalid transaction 0: /)
  })

  it('is served only when a transport asks for it', async () => {
    const ctx = { chain: fixture.chain, simulation: fixture.chain.simulation(), clientVersion: clientVersion('0.1.0'), peerCount: () => 0 }
    const plain = await startHttpServer({ port: 0, methods: createRegistry(ctx).select(['eth', 'net', 'web3']) })
    try {
      assert.deepEqual(await rpc(plain, 'testing_buildBlockV1', [HEAD, ATTRIBUTES, [], '0x']), {
        error: { code: -32601, message: 'the method testing_buildBlockV1 does not exist/is not available' },
      })
    } finally {
      await plain.close()
    }
  })
})
