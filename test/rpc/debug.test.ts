/**
 * The debug namespace over the execution-apis conformance chain, served over HTTP: every debug_* conformance test
 * must get geth's answer byte for byte (the trace fixtures the hive runner checks by schema only included), plus the
 * configuration handling and errors the fixtures do not cover.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import type { Chain } from '../../src/chain/chain.ts'
import { ChainTracer } from '../../src/execution/trace.ts'
import { debug } from '../../src/rpc/debug.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer } from '../../src/rpc/index.ts'
import { fixtureMethods, fixtureTests, openFixtureChain } from './fixtureChain.ts'

const served = new Set(debug.methods.map((m) => m.name))
const covered = fixtureMethods().filter((m) => served.has(m))

// from the fixtures: block 1 (four contract creations), its first transaction, a plain transfer, a block-2 transaction
const BLOCK_1 = '0x80e911b62f552f563a2544dfef5eb39ec8863d9082c998ca6b657f76e19de38e'
const CREATE_TX = '0xc1d605c6612a5fe84dc95810030bfe5b1d327652b381bc695e28f50d13b2b09e'
const TRANSFER_TX = '0x3fbac8b19b59077cd29bbacc3815d73577b45a4d976cae80b04c98c793684c07'
const UNKNOWN_HASH = `0x${'de'.repeat(32)}`

type Answer = { result?: unknown; error?: { code: number; message: string } }

describe('debug over the conformance chain', () => {
  let fixture: { chain: Chain; close(): Promise<void> }
  let server: HttpServer

  const rpc = async (method: string, params: unknown[] = []): Promise<Answer> => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
    const { jsonrpc, id, ...answer } = (await res.json()) as { jsonrpc: string; id: number } & Answer
    assert.equal(jsonrpc, '2.0')
    assert.equal(id, 1)
    return answer
  }

  before(async () => {
    fixture = await openFixtureChain()
    const ctx = { chain: fixture.chain, clientVersion: clientVersion('0.1.0'), peerCount: () => 0, tracer: new ChainTracer(fixture.chain), execution: fixture.chain.callExecution() }
    server = await startHttpServer({ port: 0, methods: createRegistry(ctx).select(['debug', 'eth']) })
  })
  after(async () => {
    await server?.close()
    await fixture?.close()
  })

  it('has conformance tests for every served method but debug_traceCall', () => {
    assert.deepEqual(covered.sort(), [...served].filter((m) => m !== 'debug_traceCall').sort())
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

  it('resolves raw data by tag, by hash, and answers unknown blocks as geth', async () => {
    const byNumber = await rpc('debug_getRawBlock', ['0x1'])
    assert.deepEqual(await rpc('debug_getRawBlock', [BLOCK_1]), byNumber)
    assert.deepEqual(await rpc('debug_getRawBlock', [{ blockHash: BLOCK_1 }]), byNumber)
    assert.deepEqual(await rpc('debug_getRawHeader', ['latest']), await rpc('debug_getRawHeader', ['0x36']))
    assert.equal(((await rpc('debug_getRawReceipts', [BLOCK_1])).result as string[]).length, 4)
    // an unknown number is null; an unknown hash is geth's error, the hash printed with %d
    assert.deepEqual(await rpc('debug_getRawBlock', ['0x37']), { result: null })
    assert.deepEqual(await rpc('debug_getRawHeader', ['0x37']), { result: null })
    const goHash = `[${new Array(32).fill(222).join(' ')}]`
    assert.deepEqual(await rpc('debug_getRawHeader', [UNKNOWN_HASH]), { error: { code: -32000, message: `header #${goHash} not found` } })
    assert.deepEqual(await rpc('debug_getRawBlock', [UNKNOWN_HASH]), { error: { code: -32000, message: `block #${goHash} not found` } })
    assert.deepEqual(await rpc('debug_getRawReceipts', [UNKNOWN_HASH]), { result: [] })
    assert.deepEqual(await rpc('debug_getRawTransaction', [UNKNOWN_HASH]), { result: null })
  })

  it('traces one transaction as its block trace does', async () => {
    const block = (await rpc('debug_traceBlockByHash', [BLOCK_1, { tracer: 'callTracer' }])).result as { txHash: string; result: unknown }[]
    for (const { txHash, result } of block) assert.deepEqual((await rpc('debug_traceTransaction', [txHash, { tracer: 'callTracer' }])).result, result)
  })

  it("reports each transaction's gas as its receipt does", async () => {
    for (const number of ['0x1', '0x2', '0x2c', '0x36']) {
      const receipts = (await fixture.chain.getReceipts((await fixture.chain.getBlockByNumber(BigInt(number)))!.hash()))!
      const traces = (await rpc('debug_traceBlockByNumber', [number, { disableStack: true }])).result as { result: { gas: number } }[]
      const calls = (await rpc('debug_traceBlockByNumber', [number, { tracer: 'callTracer' }])).result as { result: { gasUsed: string } }[]
      let previous = 0n
      receipts.forEach((r, i) => {
        const used = r.cumulativeGasUsed - previous
        previous = r.cumulativeGasUsed
        assert.equal(BigInt(traces[i].result.gas), used, `${number} #${i}`)
        assert.equal(BigInt(calls[i].result.gasUsed), used, `${number} #${i}`)
      })
    }
  })

  it('traces a transfer and a creation with the callTracer', async () => {
    assert.deepEqual((await rpc('debug_traceTransaction', [TRANSFER_TX, { tracer: 'callTracer', tracerConfig: { withLog: true } }])).result, {
      from: '0x7435ed30a8b4aeb0877cef0c6e8cffe834eb865f',
      gas: '0x5208',
      gasUsed: '0x5208',
      to: '0xc7b99a164efd027a93f147376cc7da7c67c6bbe0',
      input: '0x',
      value: '0x1',
      type: 'CALL',
    })
    const create = (await rpc('debug_traceTransaction', [CREATE_TX, { tracer: 'callTracer', tracerConfig: { onlyTopCall: true } }])).result as Record<string, string>
    assert.deepEqual(Object.keys(create), ['from', 'gas', 'gasUsed', 'to', 'input', 'output', 'value', 'type'])
    assert.equal(create.type, 'CREATE')
    assert.equal(create.gasUsed, '0x102d3')
    assert.equal(create.output, '0x60004381526020014681526020014181526020014881526020014481526020013281526020013481526020016000f3')
  })

  it('honours the struct logger options and limit', async () => {
    type Logs = { structLogs: Record<string, unknown>[] }
    const all = (await rpc('debug_traceTransaction', [CREATE_TX])).result as Logs
    const bare = (await rpc('debug_traceTransaction', [CREATE_TX, { disableStack: true }])).result as Logs
    assert.equal(bare.structLogs.length, all.structLogs.length)
    assert.ok(bare.structLogs.every((l) => !('stack' in l)))
    const limited = (await rpc('debug_traceTransaction', [CREATE_TX, { limit: 200 }])).result as Logs
    // geth stops once the logs are longer than the limit: the entry that passes it is kept
    assert.equal(limited.structLogs.length, 3)
  })

  it("checks the trace configuration with geth's messages and order", async () => {
    assert.deepEqual(await rpc('debug_traceTransaction', [CREATE_TX, 'callTracer']), {
      error: { code: -32602, message: 'invalid argument 1: json: cannot unmarshal string into Go value of type tracers.TraceConfig' },
    })
    assert.deepEqual(await rpc('debug_traceTransaction', [CREATE_TX, { disableStack: 1 }]), {
      error: { code: -32602, message: 'invalid argument 1: json: cannot unmarshal number into Go struct field TraceConfig.DisableStack of type bool' },
    })
    assert.deepEqual(await rpc('debug_traceTransaction', [CREATE_TX, { tracer: 'callTracer', tracerConfig: { onlyTopCall: 'yes' } }]), {
      error: { code: -32000, message: 'json: cannot unmarshal string into Go struct field callTracerConfig.onlyTopCall of type bool' },
    })
    assert.deepEqual(await rpc('debug_traceTransaction', [CREATE_TX, { timeout: '5' }]), { error: { code: -32000, message: 'time: missing unit in duration "5"' } })
    assert.deepEqual(await rpc('debug_traceTransaction', [CREATE_TX, { tracer: 'noSuchTracer' }]), { error: { code: -32000, message: 'tracer not found: noSuchTracer' } })
    // the block is looked up before the tracer is made
    assert.deepEqual(await rpc('debug_traceBlockByNumber', ['0x37', { tracer: 'noSuchTracer' }]), { error: { code: -32000, message: 'block #55 not found' } })
    assert.deepEqual(await rpc('debug_traceBlockByHash', [UNKNOWN_HASH, { timeout: 'soon' }]), { error: { code: -32000, message: `block ${UNKNOWN_HASH} not found` } })
  })

  it('traces a call as the same transaction traces on the same state', async () => {
    // block 0x2d opens with a creation whose code reads nothing of its block
    const block = (await rpc('eth_getBlockByNumber', ['0x2d', true])).result as { transactions: { hash: string; from: string; input: string; gas: string; value: string }[] }
    const { hash: txHash, from, input, gas, value } = block.transactions[0]
    const mined = (await rpc('debug_traceTransaction', [txHash])).result as { structLogs: unknown[] }
    const call = (await rpc('debug_traceCall', [{ from, input, gas, value }, '0x2c'])).result as { structLogs: unknown[] }
    assert.ok(mined.structLogs.length > 0)
    assert.deepEqual(call, mined)
    const top = (await rpc('debug_traceCall', [{ from, input, value }, 'latest', { tracer: 'callTracer' }])).result as Record<string, string>
    // the gas of a call without one is the RPC gas cap
    assert.deepEqual([top.type, top.gas], ['CREATE', '0x2faf080'])
  })

  it("refuses calls as geth's debug_traceCall does", async () => {
    const args = { from: '0x0000000000000000000000000000000000000001', to: '0x7dcd17433742f4c0ca53122ab541d0ba67fc27df', value: '0x10' }
    assert.deepEqual(await rpc('debug_traceCall', [args, 'latest']), {
      error: { code: -32000, message: 'tracing failed: insufficient funds for gas * price + value: address 0x0000000000000000000000000000000000000001 have 0 want 16' },
    })
    assert.deepEqual(await rpc('debug_traceCall', [args, 'pending']), { error: { code: -32000, message: 'tracing on top of pending is not supported' } })
    assert.deepEqual(await rpc('debug_traceCall', [args]), { error: { code: -32602, message: 'missing value for required argument 1' } })
    assert.deepEqual(await rpc('debug_traceCall', [args, UNKNOWN_HASH]), { error: { code: -32000, message: `block ${UNKNOWN_HASH} not found` } })
    // a transfer, paid for by a state override
    const transfer = { ...args, to: '0x0000000000000000000000000000000000001234' }
    assert.deepEqual(await rpc('debug_traceCall', [transfer, 'latest', { stateOverrides: { [args.from]: { balance: '0x10' } } }]), {
      result: { gas: 21000, failed: false, returnValue: '0x', structLogs: [] },
    })
    assert.deepEqual(await rpc('debug_traceCall', [args, 'latest', { txIndex: '0x0' }]), {
      error: { code: -32000, message: 'tracing after a transaction of the block (txIndex) is not supported' },
    })
  })

  it('gives up on a transaction that outlives the timeout', async () => {
    assert.deepEqual(await rpc('debug_traceBlockByNumber', ['0x2', { timeout: '1ns' }]), { error: { code: -32000, message: 'execution timeout' } })
  })
})
