/**
 * eth_simulateV1 over the conformance chain: every fixture byte for byte (block hashes, state roots, logs, errors),
 * then what the fixtures leave out: the chain's own state untouched, the tracer's log order and numbering through
 * creations, delegate calls and reverted frames, geth's limits (block gas, RPC gas cap, timeout), withdrawals, and a
 * Clique chain.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { bytesToHex, createContractAddress, createAddressFromString } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { SimulationError } from '../../src/execution/simulate.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer } from '../../src/rpc/index.ts'
import type { RpcContext } from '../../src/rpc/context.ts'
import { fixtureTests, openFixtureChain } from './fixtureChain.ts'

type Answer = { result?: any; error?: { code: number; message: string; data?: string } }

async function rpc(server: HttpServer, method: string, params: unknown[] = []): Promise<Answer> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const { result, error } = (await res.json()) as Answer
  return error === undefined ? { result } : { error }
}

const serve = (ctx: RpcContext) => startHttpServer({ port: 0, methods: createRegistry(ctx).select(['eth']) })

const SENDER = '0xc000000000000000000000000000000000000000'
const A = '0xaa00000000000000000000000000000000000000'
const B = '0xbb00000000000000000000000000000000000000'
const C = '0xcc00000000000000000000000000000000000000'
const push20 = (address: string) => `73${address.slice(2)}`
/** JUMPDEST PUSH1 0 JUMP: a loop that runs until the gas is gone */
const LOOP = '0x5b600056'
/** COINBASE, returned as a word */
const RETURN_COINBASE = '0x4160005260206000f3'
const returnBalanceOf = (address: string) => `0x${push20(address)}3160005260206000f3`
const simulation = (blocks: unknown[], opts: Record<string, unknown> = {}) => [{ blockStateCalls: blocks, ...opts }, 'latest']

describe('eth_simulateV1 over the conformance chain', () => {
  let fixture: { chain: Chain; close(): Promise<void> }
  let server: HttpServer

  before(async () => {
    fixture = await openFixtureChain()
    const { chain } = fixture
    // fixtures check results, not timing: a busy machine must not turn a slow simulation into geth's 5 s timeout
    server = await serve({ chain, clientVersion: clientVersion('0.1.0'), peerCount: () => 0, simulation: chain.simulation({ evmTimeoutMs: 60_000 }) })
  })
  after(async () => {
    await server?.close()
    await fixture?.close()
  })

  it('answers every eth_simulateV1 conformance test exactly as geth', async () => {
    const tests = fixtureTests('eth_simulateV1')
    assert.equal(tests.length, 91)
    for (const test of tests) {
      for (const { request, response } of test.exchanges) {
        const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request })
        assert.equal(await res.text(), response, test.name)
      }
    }
  })

  it("leaves the chain's state and head as they were", async () => {
    const before = await rpc(server, 'eth_getBalance', [SENDER, 'latest'])
    const head = fixture.chain.heads().latest.hash()
    const { result } = await rpc(server, 'eth_simulateV1', simulation([{ stateOverrides: { [SENDER]: { balance: '0x64' } }, calls: [{ from: SENDER, to: A, value: '0x10' }] }]))
    assert.equal(result[0].calls[0].status, '0x1')
    assert.deepEqual(await rpc(server, 'eth_getBalance', [SENDER, 'latest']), before)
    assert.deepEqual(fixture.chain.heads().latest.hash(), head)
  })

  it("logs transfers and events in the order geth's tracer does, numbering dropped logs too", async () => {
    // A: CREATE(value 5) of init code that logs, DELEGATECALL B (logs in A's name), CALL C (logs then reverts), log
    const init = '60006000a000'
    const codeA = `0x65${init}6000526006601a6005f050` + `60006000600060006000${push20(B)}5af450` + `600060006000600060006000${push20(C)}5af150` + '60006000a000'
    const created = createContractAddress(createAddressFromString(A), 0n).toString()
    const { result } = await rpc(
      server,
      'eth_simulateV1',
      simulation(
        [
          {
            stateOverrides: { [SENDER]: { balance: '0x64' }, [A]: { code: codeA }, [B]: { code: '0x60006000a000' }, [C]: { code: '0x60006000a060006000fd' } },
            calls: [{ from: SENDER, to: A, value: '0x7' }],
          },
        ],
        { traceTransfers: true },
      ),
    )
    const transfer = (from: string, to: string) => ['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', `0x${from.slice(2).padStart(64, '0')}`, `0x${to.slice(2).padStart(64, '0')}`]
    const logs = result[0].calls[0].logs.map((l: { address: string; topics: string[]; logIndex: string }) => [l.address, l.topics, l.logIndex])
    assert.deepEqual(logs, [
      ['0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', transfer(SENDER, A), '0x0'],
      ['0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', transfer(A, created), '0x1'],
      [created, [], '0x2'],
      [A, [], '0x3'],
      // C's log (0x4) went with its revert
      [A, [], '0x5'],
    ])
  })

  it("refuses requests geth refuses, with geth's codes", async () => {
    assert.deepEqual(await rpc(server, 'eth_simulateV1', simulation([])), { error: { code: -32602, message: 'empty input' } })
    const calls = Array.from({ length: 5001 }, () => ({}))
    assert.deepEqual(await rpc(server, 'eth_simulateV1', simulation([{ calls }])), { error: { code: -38026, message: 'too many calls in block: 5001 > 5000' } })
    assert.deepEqual(await rpc(server, 'eth_simulateV1', simulation([{ calls: [{ from: SENDER, to: A, nonce: '0x5' }] }], { validation: true })), {
      error: { code: -38011, message: 'err: nonce too high: address 0xC000000000000000000000000000000000000000, tx: 5 state: 0 (supplied gas 50000000)' },
    })
    const twoTransfers = [{ from: SENDER, to: A, gas: '0x5208' }, { from: SENDER, to: A, gas: '0x5208' }]
    assert.deepEqual(await rpc(server, 'eth_simulateV1', simulation([{ blockOverrides: { gasLimit: '0x7530' }, calls: twoTransfers }])), {
      error: { code: -38015, message: 'block gas limit reached: remaining: 9000, required: 21000' },
    })
    assert.deepEqual(await rpc(server, 'eth_simulateV1', simulation([{ stateOverrides: { [A]: { state: {}, stateDiff: {} } } }])), {
      error: { code: -32000, message: "account 0xaa00000000000000000000000000000000000000 has both 'state' and 'stateDiff'" },
    })
  })

  it('credits withdrawals given as a block override', async () => {
    const withdrawal = { index: '0x0', validatorIndex: '0x1', address: B, amount: '0x2' }
    const { result } = await rpc(
      server,
      'eth_simulateV1',
      simulation([{ blockOverrides: { withdrawals: [withdrawal] } }, { stateOverrides: { [A]: { code: returnBalanceOf(B) } }, calls: [{ to: A }] }]),
    )
    assert.deepEqual(result[0].withdrawals, [withdrawal])
    assert.notEqual(result[0].withdrawalsRoot, '0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421')
    assert.equal(BigInt(result[1].calls[0].returnData), 2n * 10n ** 9n)
  })

  it("caps the calls' gas by the RPC gas cap, and says so when a capped call runs out", async () => {
    const capped = await serve({ chain: fixture.chain, clientVersion: '', peerCount: () => 0, simulation: fixture.chain.simulation({ gasCap: 30_000n }) })
    try {
      const { result } = await rpc(capped, 'eth_simulateV1', simulation([{ stateOverrides: { [A]: { code: LOOP } }, calls: [{ to: A }] }]))
      const [call] = result[0].calls
      assert.equal(call.gasUsed, '0x7530')
      assert.deepEqual(call.error, { message: "out of gas (gas limit was capped by the RPC server's global gas cap)", code: -32015 })
    } finally {
      await capped.close()
    }
  })

  it('aborts a simulation past the EVM timeout', async () => {
    const slow = await serve({ chain: fixture.chain, clientVersion: '', peerCount: () => 0, simulation: fixture.chain.simulation({ gasCap: 0n, evmTimeoutMs: 100 }) })
    try {
      // geth answers either, depending on whether the deadline passes inside the EVM or between calls
      const { error } = await rpc(slow, 'eth_simulateV1', simulation([{ stateOverrides: { [A]: { code: LOOP } }, calls: [{ to: A }] }]))
      assert.ok(
        [JSON.stringify({ code: -32603, message: 'execution aborted (timeout = 100ms)' }), JSON.stringify({ code: -32000, message: 'context deadline exceeded' })].includes(JSON.stringify(error)),
        JSON.stringify(error),
      )
    } finally {
      await slow.close()
    }
  })
})

describe('eth_simulateV1 on a Clique chain', () => {
  let datadir: string
  let chain: Chain

  before(async () => {
    datadir = mkdtempSync(join(tmpdir(), 'cairn-simulate-'))
    await Chain.init(datadir, JSON.stringify(devGenesis({ period: 0, gasLimit: 30_000_000n })))
    chain = await Chain.open(datadir)
  })
  after(async () => {
    await chain?.close()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('runs on the fee recipient as COINBASE, pays the Clique signer no reward, and carries the difficulty', async () => {
    const recipient = createAddressFromString('0x00000000000000000000000000000000000000fe')
    const blocks = await chain.simulation().simulate(chain.genesis.header, {
      blocks: [
        { block: { feeRecipient: recipient.bytes }, state: new Map([[A, { code: Buffer.from(RETURN_COINBASE.slice(2), 'hex') }]]), calls: [{ to: Buffer.from(A.slice(2), 'hex') }] },
        { state: new Map([[B, { code: Buffer.from(returnBalanceOf(recipient.toString()).slice(2), 'hex') }]]), calls: [{ to: Buffer.from(B.slice(2), 'hex') }] },
      ],
      traceTransfers: false,
      validation: false,
    })
    assert.equal(bytesToHex(blocks[0].calls[0].returnData), `0x${recipient.toString().slice(2).padStart(64, '0')}`)
    assert.equal(BigInt(bytesToHex(blocks[1].calls[0].returnData)), 0n)
    assert.deepEqual(
      blocks.map((b) => [b.header.number, b.header.difficulty]),
      [
        [1n, chain.genesis.header.difficulty],
        [2n, chain.genesis.header.difficulty],
      ],
    )
  })

  it('refuses a block number out of order', async () => {
    await assert.rejects(
      chain.simulation().simulate(chain.genesis.header, { blocks: [{ block: { number: 3n }, calls: [] }, { block: { number: 2n }, calls: [] }], traceTransfers: false, validation: false }),
      (err) => err instanceof SimulationError && err.message === 'block numbers must be in order: 2 <= 3',
    )
  })
})
