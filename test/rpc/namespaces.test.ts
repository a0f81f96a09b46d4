/**
 * eth, net and web3 over a real chain (the execution-apis conformance chain imported into a LevelDB datadir),
 * served over HTTP: every conformance test of these methods must get geth's answer byte for byte (key order
 * included, which the hive runner does not even check), plus what the fixtures do not cover.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import type { Chain } from '../../src/chain/chain.ts'
import type { ChainReader } from '../../src/chain/types.ts'
import type { CallExecution } from '../../src/execution/call.ts'
import { eth } from '../../src/rpc/eth.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer, RpcContext } from '../../src/rpc/index.ts'
import { net } from '../../src/rpc/net.ts'
import { web3 } from '../../src/rpc/web3.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import { fixtureMethods, fixtureTests, openFixtureChain } from './fixtureChain.ts'

const served = new Set([eth, net, web3].flatMap((ns) => ns.methods.map((m) => m.name)))
// eth_capabilities' fixture is spec-only (geth's log index window differs): ethMisc.test.ts checks it
const covered = fixtureMethods().filter((m) => served.has(m) && m !== 'eth_capabilities')

// from the fixtures: a contract with storage and its balance at head and at block 0x2c
const CONTRACT = '0x7dcd17433742f4c0ca53122ab541d0ba67fc27df'
const BLOCK_2C = '0xa38f2a6f7d276298d8e7a9bfa28625e4dc8948021f5a7369d0a04571879e98d2'
const BLOCK_1 = '0x80e911b62f552f563a2544dfef5eb39ec8863d9082c998ca6b657f76e19de38e'
const UNKNOWN_HASH = `0x${'de'.repeat(32)}`

async function rpc(server: HttpServer, method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const { jsonrpc, id, ...answer } = (await res.json()) as { jsonrpc: string; id: number; result?: unknown; error?: { code: number; message: string } }
  assert.equal(jsonrpc, '2.0')
  assert.equal(id, 1)
  return answer
}

const serve = (chain: ChainReader, execution?: CallExecution, txpool?: TxPool, more: Pick<RpcContext, 'simulation' | 'proofs'> = {}) =>
  startHttpServer({
    port: 0,
    methods: createRegistry({ chain, execution, clientVersion: clientVersion('0.1.0'), peerCount: () => 3, ...(txpool !== undefined ? { txpool } : {}), ...more }).select([
      'eth',
      'net',
      'web3',
    ]),
  })

describe('eth, net, web3 over the conformance chain', () => {
  let fixture: { chain: Chain; close(): Promise<void> }
  let server: HttpServer

  let txpool: TxPool

  before(async () => {
    fixture = await openFixtureChain()
    // a real pool: eth_sendRawTransaction fixtures are admitted against the chain's state, as in geth
    txpool = new TxPool(fixture.chain, { allowBlobTxs: true })
    await txpool.start()
    // fixtures check results, not timing: no 5 s timeout answers on a busy machine
    const limits = { evmTimeoutMs: 60_000 }
    server = await serve(fixture.chain, fixture.chain.callExecution(limits), txpool, { simulation: fixture.chain.simulation(limits), proofs: fixture.chain.stateProofs() })
  })
  after(async () => {
    await server?.close()
    await txpool?.stop()
    await fixture?.close()
  })

  it('has conformance tests for most served methods', () => {
    assert.ok(covered.length >= 17, `covered: ${covered.join(', ')}`)
  })

  for (const method of covered) {
    it(`answers the ${method} conformance tests exactly as geth`, async () => {
      for (const test of fixtureTests(method)) {
        for (const { request, response } of test.exchanges) {
          const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request })
          assert.equal(await res.text(), response, test.name)
        }
      }
    })
  }

  it('reads state at EIP-1898 block references', async () => {
    for (const ref of [{ blockHash: BLOCK_2C }, { blockHash: BLOCK_2C, requireCanonical: true }, { blockNumber: '0x2c' }, '0x2c']) {
      assert.deepEqual(await rpc(server, 'eth_getBalance', [CONTRACT, ref]), { result: '0x56' }, JSON.stringify(ref))
    }
    for (const ref of ['latest', 'pending', 'safe', 'finalized', { blockNumber: 'latest' }]) {
      assert.deepEqual(await rpc(server, 'eth_getBalance', [CONTRACT, ref]), { result: '0x76' }, JSON.stringify(ref))
    }
    assert.deepEqual(await rpc(server, 'eth_getBalance', [CONTRACT, 'earliest']), { result: '0x0' })
    // the contract is in the genesis alloc
    assert.deepEqual(await rpc(server, 'eth_getCode', [CONTRACT, '0x0']), await rpc(server, 'eth_getCode', [CONTRACT]))
    assert.deepEqual(await rpc(server, 'eth_getTransactionCount', ['0x7435ed30a8b4aeb0877cef0c6e8cffe834eb865f', '0x1']), { result: '0x4' })
    assert.deepEqual(await rpc(server, 'eth_getStorageAt', [CONTRACT, '0x0', 'latest']), { result: '0x0000000000000000000000000000000000000000000000000000000000000038' })
  })

  it('fails state reads at unknown blocks as geth', async () => {
    const headerNotFound = { error: { code: -32000, message: 'header not found' } }
    assert.deepEqual(await rpc(server, 'eth_getBalance', [CONTRACT, '0x3e8']), headerNotFound)
    assert.deepEqual(await rpc(server, 'eth_getCode', [CONTRACT, { blockNumber: '0x37' }]), headerNotFound)
    // the block is resolved before the key is decoded
    assert.deepEqual(await rpc(server, 'eth_getStorageAt', [CONTRACT, '0xzz', '0x3e8']), headerNotFound)
    assert.deepEqual(await rpc(server, 'eth_getTransactionCount', [CONTRACT, { blockHash: UNKNOWN_HASH }]), { error: { code: -32000, message: 'header for hash not found' } })
  })

  it('enforces requireCanonical', async () => {
    // a view of the chain in which every block has been reorged away
    const reorged: ChainReader = Object.create(fixture.chain, { getCanonicalHash: { value: async () => new Uint8Array(32) } })
    const s = await serve(reorged)
    try {
      const notCanonical = { error: { code: -32000, message: 'hash is not currently canonical' } }
      assert.deepEqual(await rpc(s, 'eth_getBalance', [CONTRACT, { blockHash: BLOCK_2C, requireCanonical: true }]), notCanonical)
      assert.deepEqual(await rpc(s, 'eth_getBlockReceipts', [{ blockHash: BLOCK_1, requireCanonical: true }]), notCanonical)
      assert.deepEqual(await rpc(s, 'eth_getBalance', [CONTRACT, { blockHash: BLOCK_2C }]), { result: '0x56' })
    } finally {
      await s.close()
    }
  })

  it('resolves block tags and returns null for blocks it does not have', async () => {
    const number = async (tag: unknown) => ((await rpc(server, 'eth_getBlockByNumber', [tag, false])).result as { number: string } | null)?.number
    assert.equal(await number('earliest'), '0x0')
    assert.equal(await number('pending'), '0x36')
    assert.equal(await number('0x1b'), '0x1b')
    assert.deepEqual(await rpc(server, 'eth_getBlockByNumber', ['0x37', false]), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getBlockByHash', [UNKNOWN_HASH, false]), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getBlockTransactionCountByNumber', ['0x37']), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getBlockTransactionCountByHash', [UNKNOWN_HASH]), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getTransactionByBlockNumberAndIndex', ['0x1', '0x4']), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getTransactionByBlockHashAndIndex', [UNKNOWN_HASH, '0x0']), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getBlockReceipts', [{ blockHash: UNKNOWN_HASH }]), { result: null })
  })

  it('lists full transactions consistently with eth_getTransactionByHash', async () => {
    const block = (await rpc(server, 'eth_getBlockByHash', [BLOCK_1, true])).result as { transactions: { hash: string }[] }
    assert.equal(block.transactions.length, 4)
    for (const tx of block.transactions) assert.deepEqual((await rpc(server, 'eth_getTransactionByHash', [tx.hash])).result, tx)
    const hashes = (await rpc(server, 'eth_getBlockByHash', [BLOCK_1, false])).result as { transactions: string[] }
    assert.deepEqual(hashes.transactions, block.transactions.map((t) => t.hash))
  })

  it('reports receipts consistently per transaction and per block', async () => {
    const receipts = (await rpc(server, 'eth_getBlockReceipts', ['latest'])).result as { transactionHash: string; logs: { logIndex: string }[] }[]
    assert.ok(receipts.length > 1)
    const logIndexes = receipts.flatMap((r) => r.logs.map((l) => Number(l.logIndex)))
    assert.deepEqual(logIndexes, logIndexes.map((_, i) => i), 'log indexes run across the block')
    for (const receipt of receipts) assert.deepEqual((await rpc(server, 'eth_getTransactionReceipt', [receipt.transactionHash])).result, receipt)
  })

  it('answers the constant methods', async () => {
    assert.deepEqual(await rpc(server, 'eth_accounts'), { result: [] })
    assert.deepEqual(await rpc(server, 'eth_getUncleCountByBlockNumber', ['latest']), { result: '0x0' })
    assert.deepEqual(await rpc(server, 'eth_getUncleCountByBlockHash', [BLOCK_1]), { result: '0x0' })
    assert.deepEqual(await rpc(server, 'eth_getUncleCountByBlockHash', [UNKNOWN_HASH]), { result: null })
    assert.deepEqual(await rpc(server, 'net_listening'), { result: true })
    assert.deepEqual(await rpc(server, 'net_peerCount'), { result: '0x3' })
    assert.match((await rpc(server, 'web3_clientVersion')).result as string, /^cairn\/v0\.1\.0\/[a-z0-9]+-[a-z0-9]+\/nodejs\d+$/)
    assert.deepEqual(await rpc(server, 'web3_sha3', ['0x68656c6c6f20776f726c64']), { result: '0x47173285a8d7341e5e972fc677286384f802f8ef42a5ec5f03bbfa254cb01fad' })
    assert.deepEqual(await rpc(server, 'web3_sha3', ['0x']), { result: '0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470' })
  })

  it("validates arguments with geth's messages", async () => {
    assert.deepEqual(await rpc(server, 'eth_getBalance', ['0x7dcd17433742f4c0ca53122ab541d0ba67fc27']), {
      error: { code: -32602, message: 'invalid argument 0: hex string has length 38, want 40 for common.Address' },
    })
    assert.deepEqual(await rpc(server, 'eth_getBlockByNumber', ['0x1']), { error: { code: -32602, message: 'missing value for required argument 1' } })
    assert.deepEqual(await rpc(server, 'eth_getBlockByNumber', ['1', false]), { error: { code: -32602, message: 'invalid argument 0: hex string without 0x prefix' } })
    assert.deepEqual(await rpc(server, 'eth_getBlockReceipts', []), { error: { code: -32602, message: 'missing value for required argument 0' } })
    assert.deepEqual(await rpc(server, 'eth_chainId', ['0x1']), { error: { code: -32602, message: 'too many arguments, want at most 0' } })
  })
  it('answers headers by number and hash, and null for uncles a block does not have', async () => {
    const block = (await rpc(server, 'eth_getBlockByNumber', ['0x2c', false])).result as Record<string, unknown>
    const header = (await rpc(server, 'eth_getHeaderByNumber', ['0x2c'])).result as Record<string, unknown>
    const { size: _size, transactions: _txs, uncles: _uncles, withdrawals: _w, ...fields } = block
    assert.deepEqual(header, fields)
    assert.deepEqual((await rpc(server, 'eth_getHeaderByHash', [BLOCK_2C])).result, header)
    assert.deepEqual(await rpc(server, 'eth_getHeaderByHash', [UNKNOWN_HASH]), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getUncleByBlockNumberAndIndex', ['0x2c', '0x0']), { result: null })
    assert.deepEqual(await rpc(server, 'eth_getUncleByBlockHashAndIndex', [BLOCK_2C, '0x0']), { result: null })
  })
})
