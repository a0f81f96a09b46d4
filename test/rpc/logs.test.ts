/**
 * eth_getLogs over the conformance chain, beyond its fixtures: geth's range rules and errors, the default range,
 * limits, and agreement with the logs the receipts carry.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import type { Chain } from '../../src/chain/chain.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer } from '../../src/rpc/index.ts'
import { openFixtureChain } from './fixtureChain.ts'

const CONTRACT = '0x7dcd17433742f4c0ca53122ab541d0ba67fc27df'
const EMIT = '0x00000000000000000000000000000000000000000000000000000000656d6974'

interface Log {
  address: string
  topics: string[]
  blockNumber: string
  blockHash: string
  logIndex: string
  transactionHash: string
}

describe('eth_getLogs', () => {
  let fixture: { chain: Chain; close(): Promise<void> }
  let server: HttpServer
  const getLogs = async (filter: unknown): Promise<{ result?: Log[]; error?: { code: number; message: string } }> => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [filter] }) })
    const { result, error } = (await res.json()) as { result?: Log[]; error?: { code: number; message: string } }
    return { result, error }
  }

  before(async () => {
    fixture = await openFixtureChain()
    server = await startHttpServer({ port: 0, methods: createRegistry({ chain: fixture.chain, clientVersion: clientVersion('0.1.0'), peerCount: () => 0 }).select(['eth']) })
  })
  after(async () => {
    await server?.close()
    await fixture?.close()
  })

  it('returns the logs the receipts carry, block by block, over the whole chain', async () => {
    const { result } = await getLogs({ fromBlock: 'earliest', toBlock: 'latest' })
    assert.ok(result!.length > 10, `${result!.length} logs`)
    const blocks = [...new Set(result!.map((l) => l.blockHash))]
    const fromReceipts: Log[] = []
    for (const hash of blocks) {
      const res = await fetch(server.url, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getBlockReceipts', params: [hash] }), headers: { 'content-type': 'application/json' } })
      const receipts = ((await res.json()) as { result: { logs: Log[] }[] }).result
      fromReceipts.push(...receipts.flatMap((r) => r.logs))
    }
    assert.deepEqual(result, fromReceipts)
    assert.deepEqual((await getLogs({ fromBlock: '0x0', toBlock: '0x36', address: CONTRACT })).result, result!.filter((l) => l.address === CONTRACT))
  })

  it('answers a repeated query with the same bytes, its kept logs joined as JSON.stringify writes a list', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{ fromBlock: 'earliest', toBlock: 'latest', address: CONTRACT }] })
    const ask = async () => (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text()
    const first = await ask()
    const again = await ask()
    assert.equal(again, first)
    const { result } = JSON.parse(again) as { result: Log[] }
    assert.ok(result.length > 1)
    assert.equal(again, JSON.stringify({ jsonrpc: '2.0', id: 1, result }))
    // one log of that range, asked alone, encodes alone as it did in the list
    const one = result[1]
    const { result: alone } = await getLogs({ blockHash: one.blockHash, address: CONTRACT })
    assert.deepEqual(alone!.find((l) => l.logIndex === one.logIndex), one)
  })

  it('reads the head block when no range is given', async () => {
    const head = fixture.chain.heads().latest
    const { result } = await getLogs({})
    assert.ok(result!.every((l) => BigInt(l.blockNumber) === head.number))
    assert.deepEqual((await getLogs(null)).result, result)
  })

  it("matches topics by position, a null or empty position matching anything, as geth's filter", async () => {
    const all = (await getLogs({ fromBlock: '0x0' })).result!
    const emits = (await getLogs({ fromBlock: '0x0', topics: [EMIT] })).result!
    assert.deepEqual(emits, all.filter((l) => l.topics[0] === EMIT))
    // a position asks for a topic there: logs with fewer topics never match, even through a wildcard
    assert.deepEqual((await getLogs({ fromBlock: '0x0', topics: [null, null, null, null] })).result, all.filter((l) => l.topics.length >= 4))
    assert.deepEqual((await getLogs({ fromBlock: '0x0', topics: [[EMIT, `0x${'ab'.repeat(32)}`]] })).result, emits, 'alternatives in a position')
    assert.deepEqual((await getLogs({ fromBlock: '0x0', topics: [[`0x${'ab'.repeat(32)}`, null]] })).result, all.filter((l) => l.topics.length >= 1), 'a null alternative makes the position a wildcard')
  })

  it('answers every mix of addresses and topics as a scan of all logs would, each log once and in order', async () => {
    const all = (await getLogs({ fromBlock: '0x0' })).result!
    const matches = (l: Log, addresses: string[], topics: (string[] | null)[]) =>
      (addresses.length === 0 || addresses.includes(l.address)) &&
      topics.length <= l.topics.length &&
      topics.every((accepted, i) => accepted === null || accepted.includes(l.topics[i]))
    const addresses = [...new Set(all.map((l) => l.address))]
    const second = [...new Set(all.filter((l) => l.topics.length > 1).map((l) => l.topics[1]))]
    assert.ok(addresses.length > 1 && second.length > 1, `${addresses.length} addresses, ${second.length} second topics`)
    const cases: { address?: string[]; topics?: (string[] | null)[] }[] = [
      { address: [addresses[1], addresses[0], addresses[1]] },
      { address: [CONTRACT.toUpperCase().replace('0X', '0x')], topics: [null, [second[1], second[0], second[1]]] },
      { topics: [[EMIT], [second[0]]] },
      { address: addresses, topics: [null, null, null] },
      { address: [addresses[0]], topics: [[`0x${'ab'.repeat(32)}`]] },
    ]
    for (const c of cases) {
      const expected = all.filter((l) => matches(l, (c.address ?? []).map((a) => a.toLowerCase()), c.topics ?? []))
      assert.deepEqual((await getLogs({ fromBlock: '0x0', ...c })).result, expected, JSON.stringify(c))
    }
  })

  it("refuses ranges as geth does, with its codes and messages", async () => {
    const invalid = (message: string) => ({ error: { code: -32602, message }, result: undefined })
    assert.deepEqual(await getLogs({ fromBlock: '0x40' }), invalid('invalid block range params'))
    assert.deepEqual(await getLogs({ fromBlock: '0x5', toBlock: '0x4' }), invalid('invalid block range params'))
    assert.deepEqual(await getLogs({ fromBlock: '0x1', toBlock: '0x40' }), invalid('block range extends beyond current head block'))
    assert.deepEqual(await getLogs({ fromBlock: 'pending' }), invalid('pending logs are not supported'))
    assert.deepEqual(await getLogs({ blockHash: `0x${'de'.repeat(32)}` }), { error: { code: -32000, message: 'unknown block' }, result: undefined })
    assert.deepEqual(await getLogs({ blockHash: `0x${'de'.repeat(32)}`, toBlock: 'latest' }), invalid('invalid argument 0: cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other'))
  })

  it('limits the addresses and the topics per position to 1000', async () => {
    const many = Array.from({ length: 1001 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`)
    assert.deepEqual(await getLogs({ address: many }), { error: { code: -32000, message: 'exceed max addresses or topics per search position' }, result: undefined })
    assert.deepEqual((await getLogs({ address: many.slice(0, 1000) })).result, [])
  })
})
