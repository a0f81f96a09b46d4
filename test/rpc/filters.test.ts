import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'

import type { Chain } from '../../src/chain/chain.ts'
import { parseFlags } from '../../src/cli/flags.ts'
import { createLogger } from '../../src/cli/log.ts'
import { startRpc } from '../../src/node/rpc.ts'
import { FILTER_TIMEOUT_MS, FilterSystem, ethFilters, logMatches } from '../../src/rpc/filters.ts'
import { formatTransaction } from '../../src/rpc/format.ts'
import { handleRequestBody } from '../../src/rpc/jsonrpc.ts'
import { Registry } from '../../src/rpc/registry.ts'
import type { MethodTable } from '../../src/rpc/registry.ts'
import { ChainEvents } from '../../src/rpc/subscriptions.ts'
import { ALICE_TOPIC, EVENTS_ADDRESS, PING_TOPIC, RpcSocket, buildForks, deployTx, inTurnFor, openChain, pingTx, seal, topicOf } from './eventKit.ts'

/** One call through the JSON-RPC core: the reply's result, or its error object. */
async function rpc(methods: MethodTable, method: string, params?: unknown[]): Promise<any> {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, ...(params !== undefined ? { params } : {}) })
  const reply = JSON.parse((await handleRequestBody(body, methods, { batchItemLimit: 0, batchResponseMaxSize: 0 }, () => {}))!)
  return 'error' in reply ? { error: reply.error } : reply.result
}

interface Served {
  methods: MethodTable
  clock: { now: number }
  emitPending: (txs: TypedTransaction[]) => void
}

/** The filter methods over `chain`, with a clock and a pending-transaction feed the test drives. */
function serveFilters(chain: Chain): Served {
  const clock = { now: 0 }
  const pending = new Set<(txs: readonly TypedTransaction[]) => void>()
  const events = new ChainEvents({
    chain,
    chainEvents: chain,
    pendingTxs: {
      onPending: (listener) => {
        pending.add(listener)
        return () => pending.delete(listener)
      },
    },
  })
  const filters = new FilterSystem(events, { now: () => clock.now })
  return { methods: new Registry().add(ethFilters, filters).select(['eth']), clock, emitPending: (txs) => pending.forEach((l) => l(txs)) }
}

/** Polls a filter until `count` changes have come (events are handled asynchronously after each import). */
async function changes(methods: MethodTable, id: string, count: number): Promise<any[]> {
  const got: any[] = []
  const deadline = Date.now() + 5000
  while (got.length < count) {
    if (Date.now() > deadline) throw new Error(`filter ${id}: ${got.length} of ${count} changes`)
    got.push(...(await rpc(methods, 'eth_getFilterChanges', [id])))
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  return got
}

const NOT_FOUND = { error: { code: -32000, message: 'filter not found' } }
const HASH_A = `0x${'aa'.repeat(32)}`

describe('log filter criteria', () => {
  it("decode with geth's FilterCriteria rules and messages", async (t) => {
    const { methods } = serveFilters(await openChain(t))
    const invalid = (message: string) => ({ error: { code: -32602, message: `invalid argument 0: ${message}` } })
    const cases: [unknown[] | undefined, unknown][] = [
      [undefined, { error: { code: -32602, message: 'missing value for required argument 0' } }],
      [['x'], invalid('json: cannot unmarshal string into Go value of type filters.input')],
      [[{ address: '0x1' }], invalid('invalid address: hex string of odd length')],
      [[{ address: '0x1234' }], invalid('invalid address: hex has invalid length 2 after decoding; expected 20 for address')],
      [[{ address: [EVENTS_ADDRESS, 5] }], invalid('non-string address at index 1')],
      [[{ address: ['0xzz'] }], invalid('invalid address at index 0: invalid hex string')],
      [[{ address: 5 }], invalid('invalid addresses in query')],
      [[{ topics: [null, null, null, null, null] }], invalid('exceed max topics')],
      [[{ topics: [5] }], invalid('invalid topic(s)')],
      [[{ topics: [[PING_TOPIC, 5]] }], invalid('invalid topic(s)')],
      [[{ topics: ['0x12'] }], invalid('hex has invalid length 1 after decoding; expected 32 for topic')],
      [[{ topics: PING_TOPIC }], invalid('json: cannot unmarshal string into Go struct field input.topics of type []interface {}')],
      [[{ blockHash: HASH_A, fromBlock: 'latest' }], invalid('cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other')],
      [[{ fromBlock: 5 }], invalid('hex string without 0x prefix')],
      // the event system's range rules
      [[{ fromBlock: '0x5', toBlock: '0x3' }], { error: { code: -32000, message: 'invalid block range params' } }],
      [[{ fromBlock: 'finalized' }], { error: { code: -32000, message: 'invalid block range params' } }],
    ]
    for (const [params, want] of cases) assert.deepEqual(await rpc(methods, 'eth_newFilter', params), want, JSON.stringify(params))
    for (const ok of [{}, null, { FromBlock: '0x1', ADDRESS: EVENTS_ADDRESS.toUpperCase().replace('0X', '0x') }, { fromBlock: 'pending', toBlock: 'pending' }, { blockHash: HASH_A }, { topics: [[null, 5]] }]) {
      assert.match(await rpc(methods, 'eth_newFilter', [ok]), /^0x[0-9a-f]+$/, JSON.stringify(ok))
    }
  })

  it("match as geth's filterLogs: any listed address, topics by position, null and [] as wildcards", () => {
    const [a, b] = ['0x' + '0a'.repeat(20), '0x' + '0b'.repeat(20)]
    const [x, y, z] = ['x', 'y', 'z'].map((c) => `0x${c.charCodeAt(0).toString(16).repeat(32)}`)
    const log = { address: a, topics: [x, y] }
    const matches = (addresses: string[], topics: string[][]) => logMatches({ addresses, topics }, log.address, log.topics)
    assert.ok(matches([], []))
    assert.ok(matches([b, a], []))
    assert.ok(!matches([b], []))
    assert.ok(matches([], [[x]]))
    assert.ok(matches([], [[], [y]]), 'an empty position matches anything')
    assert.ok(matches([], [[z, x], [z, y]]), 'alternatives at a position')
    assert.ok(!matches([], [[y]]), 'topics are positional')
    assert.ok(!matches([], [[x], [y], []]), 'a log with fewer topics than positions never matches')
  })
})

describe('polling filters', () => {
  it('hand over new blocks, logs and pending transactions once each; uninstall; not found', { timeout: 15_000 }, async (t) => {
    const chain = await openChain(t)
    const { methods, emitPending } = serveFilters(chain)
    const blocks = await rpc(methods, 'eth_newBlockFilter')
    const byAddress = await rpc(methods, 'eth_newFilter', [{ address: EVENTS_ADDRESS }])
    const secondPing = await rpc(methods, 'eth_newFilter', [{ topics: [PING_TOPIC, ALICE_TOPIC, topicOf(2n)] }])
    const fromStart = await rpc(methods, 'eth_newFilter', [{ fromBlock: '0x0', address: [EVENTS_ADDRESS] }])
    const pendingHashes = await rpc(methods, 'eth_newPendingTransactionFilter')
    const pendingFull = await rpc(methods, 'eth_newPendingTransactionFilter', [true])
    for (const id of [blocks, byAddress, secondPing, pendingHashes, pendingFull]) assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [id]), [])

    const sealed = [await seal(chain, inTurnFor(1n), [deployTx(chain)]), await seal(chain, inTurnFor(2n), [pingTx(chain, 1n, 1n)]), await seal(chain, inTurnFor(3n), [pingTx(chain, 2n, 2n)])]
    assert.deepEqual(await changes(methods, blocks, 3), sealed.map((b) => bytesToHex(b.hash())))
    const logs = await changes(methods, byAddress, 2)
    assert.deepEqual(logs.map((l) => [l.blockNumber, l.topics[2], l.removed]), [['0x2', topicOf(1n), false], ['0x3', topicOf(2n), false]])
    assert.deepEqual(await changes(methods, secondPing, 1), [logs[1]])
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [byAddress]), [], 'each change is handed over once')

    const txs = [pingTx(chain, 3n, 3n)]
    emitPending(txs)
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [pendingHashes]), [bytesToHex(txs[0].hash())])
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [pendingFull]), [formatTransaction(txs[0])])

    // stored logs: from block 0 to the head for one filter; without fromBlock, only the head block's
    assert.deepEqual(await rpc(methods, 'eth_getFilterLogs', [fromStart]), logs)
    assert.deepEqual(await rpc(methods, 'eth_getFilterLogs', [byAddress]), [logs[1]])
    assert.deepEqual(await rpc(methods, 'eth_getFilterLogs', [blocks]), NOT_FOUND, 'only log filters have logs')

    assert.equal(await rpc(methods, 'eth_uninstallFilter', [blocks]), true)
    assert.equal(await rpc(methods, 'eth_uninstallFilter', [blocks]), false)
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [blocks]), NOT_FOUND)
    assert.deepEqual(await rpc(methods, 'eth_getFilterLogs', ['0x1']), NOT_FOUND)
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [7]), { error: { code: -32602, message: 'invalid argument 0: json: cannot unmarshal number into Go value of type rpc.ID' } })
  })

  it('expire after five minutes without a poll, and stop listening then', async (t) => {
    const chain = await openChain(t)
    const { methods, clock } = serveFilters(chain)
    const id = await rpc(methods, 'eth_newBlockFilter')
    assert.equal(chain.listenerCount('head'), 1)
    clock.now += FILTER_TIMEOUT_MS - 1
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [id]), [], 'a poll restarts the idle time')
    clock.now += FILTER_TIMEOUT_MS - 1
    // asking for its logs is no poll, as in geth
    await rpc(methods, 'eth_getFilterLogs', [id])
    clock.now += 1
    assert.deepEqual(await rpc(methods, 'eth_getFilterChanges', [id]), NOT_FOUND)
    assert.equal(chain.listenerCount('head'), 0, 'nothing is left listening to the chain')
  })

  it('show the logs a reorg removed again, flagged, then the new chain’s; eth_getFilterLogs reads the canonical chain', { timeout: 15_000 }, async (t) => {
    const { block1, forkA, forkB } = await buildForks(t)
    const chain = await openChain(t)
    const { methods } = serveFilters(chain)
    const blocks = await rpc(methods, 'eth_newBlockFilter')
    const logs = await rpc(methods, 'eth_newFilter', [{ fromBlock: '0x2', address: EVENTS_ADDRESS }])
    const onlyFork = await rpc(methods, 'eth_newFilter', [{ blockHash: bytesToHex(forkA[0].hash()) }])

    for (const block of [block1, ...forkA]) await chain.importBlock(block)
    const mined = await changes(methods, logs, 3)
    for (const block of forkB) await chain.importBlock(block)
    const afterReorg = await changes(methods, logs, 5)
    assert.deepEqual(afterReorg.slice(0, 3), mined.map((l) => ({ ...l, removed: true })))
    assert.deepEqual(afterReorg.slice(3).map((l) => [l.blockHash, l.topics[2], l.removed]), forkB.map((b, i) => [bytesToHex(b.hash()), topicOf([20n, 30n][i]), false]))
    // as geth, the block filter gets the new head, not the new chain's blocks below it
    assert.deepEqual(await changes(methods, blocks, 5), [block1, ...forkA, forkB[1]].map((b) => bytesToHex(b.hash())))

    assert.deepEqual(await rpc(methods, 'eth_getFilterLogs', [logs]), afterReorg.slice(3))
    assert.deepEqual(await rpc(methods, 'eth_getFilterLogs', [onlyFork]), [mined[0]], 'a block named by hash, canonical or not')
  })

  it('are served on HTTP and WebSocket alike by the node: a filter made over HTTP is polled over WebSocket', { timeout: 15_000 }, async (t) => {
    const chain = await openChain(t)
    const lines: string[] = []
    const { flags } = parseFlags(['--http', '--http.port', '0', '--ws', '--ws.port', '0', '--ws.api', 'eth,net'])
    const services = await startRpc(chain, flags, createLogger(3, (line) => lines.push(line)))
    t.after(async () => {
      for (const s of services.reverse()) await s.stop()
    })
    const ws = services.find((s) => s.name === 'ws-rpc')!
    assert.match(lines.join(''), new RegExp(`INFO .* WebSocket enabled url=${ws.url}\n`))
    assert.match(ws.url, /^ws:\/\/127\.0\.0\.1:\d+$/)

    const http = services.find((s) => s.name === 'http-rpc')!
    const post = async (method: string, params: unknown[]) => {
      const reply = await fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
      return ((await reply.json()) as { result: unknown }).result
    }
    const id = await post('eth_newBlockFilter', [])
    const client = await RpcSocket.open(ws.url, t)
    assert.deepEqual(await client.call('rpc_modules'), { eth: '1.0', net: '1.0', rpc: '1.0' })
    const heads = await client.call('eth_subscribe', ['newHeads'])
    const block = await seal(chain, inTurnFor(1n))
    const [notification] = await client.take(1)
    assert.equal(notification.subscription, heads)
    assert.equal(notification.result.hash, bytesToHex(block.hash()))
    assert.deepEqual(await client.call('eth_getFilterChanges', [id]), [bytesToHex(block.hash())])
    assert.equal(await post('eth_uninstallFilter', [id]), true)
  })
})
