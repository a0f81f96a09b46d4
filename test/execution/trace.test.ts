/**
 * The tracers on a Clique dev chain, with a contract (contracts/Traced.sol) that makes every kind of call frame: what
 * geth's struct logger and callTracer report for it, on the block's own state, with fees and COINBASE going to the
 * Clique signer.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import type { Block } from '@ethereumjs/block'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToBytes, bytesToHex, concatBytes, createAddressFromString, createContractAddress, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { ChainTracer, traceCall } from '../../src/execution/trace.ts'
import type { Json, TracerChoice } from '../../src/execution/trace.ts'
import { compileContract } from '../solc.ts'

const [dev] = devAccounts(1)
const KEY = hexToBytes(dev.privateKey as `0x${string}`)
const SIGNER = dev.address.toLowerCase()
const selector = (sig: string) => keccak_256(new TextEncoder().encode(sig)).subarray(0, 4)
const uint = (n: bigint) => setLengthLeft(bigIntToBytes(n), 32)
const word = (n: bigint) => bytesToHex(uint(n))
const run = (n: bigint) => concatBytes(selector('run(uint256)'), uint(n))

const TRACED = createContractAddress(createAddressFromString(dev.address), 0n).toString()
// Traced's constructor creates the callee, the contract's first creation
const CALLEE = createContractAddress(createAddressFromString(TRACED), 1n).toString()

const structLogger = (config: Partial<Extract<TracerChoice, { name: 'structLogger' }>['config']> = {}): TracerChoice => ({
  name: 'structLogger',
  config: { enableMemory: false, disableStack: false, disableStorage: false, enableReturnData: false, limit: 0, ...config },
})
const callTracer = (config: { onlyTopCall?: boolean; withLog?: boolean } = {}): TracerChoice => ({
  name: 'callTracer',
  config: { onlyTopCall: false, withLog: false, ...config },
})

interface StructLog {
  pc: number
  op: string
  gas: number
  gasCost: number
  depth: number
  error?: string
  stack?: string[]
  returnData?: string
  memory?: string[]
  storage?: Record<string, string>
}
interface StructTrace {
  gas: number
  failed: boolean
  returnValue: string
  structLogs: StructLog[]
}
interface CallLog {
  address: string
  topics: string[]
  data: string
  index: string
  position: string
}
interface CallFrame {
  from: string
  gas: string
  gasUsed: string
  to?: string
  input: string
  output?: string
  error?: string
  revertReason?: string
  calls?: CallFrame[]
  logs?: CallLog[]
  value?: string
  type: string
}

describe('tracers on a Clique chain', () => {
  let chain: Chain
  let tracer: ChainTracer
  /** [transfer, run(21), run(22), callee.fail(7)] */
  let block: Block
  let receiptGas: bigint[]

  const trace = async (index: number, choice: TracerChoice): Promise<Json> => {
    const parent = (await chain.getHeaderByHash(block.header.parentHash))!
    const [result] = await tracer.traceBlock(block, parent, { tracer: choice, timeoutMs: 30_000 }, index)
    return result
  }

  let dir: string
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cairn-trace-'))
    await Chain.init(dir, JSON.stringify(devGenesis({ period: 0, gasLimit: 30_000_000n })))
    chain = await Chain.open(dir)
    tracer = new ChainTracer(chain)
    let queue: TypedTransaction[] = []
    const sealer = new Sealer({
      chain,
      engine: chain.engine as CliqueEngine,
      signerKey: KEY,
      log: createLogger(0),
      txs: { candidates: () => queue.splice(0), hasPending: () => queue.length > 0, onPending: () => () => {} },
    })
    const common = chain.common.copy()
    common.setHardfork('prague')
    const tx = (nonce: bigint, to: string | undefined, data: Uint8Array) =>
      createFeeMarket1559Tx({ nonce, to: to as `0x${string}` | undefined, data, gasLimit: 3_000_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n }, { common }).sign(KEY)
    queue = [tx(0n, undefined, hexToBytes(compileContract('Traced.sol', 'Traced').bytecode as `0x${string}`))]
    await sealer.sealNow()
    queue = [tx(1n, dev.address, new Uint8Array()), tx(2n, TRACED, run(21n)), tx(3n, TRACED, run(22n)), tx(4n, CALLEE, concatBytes(selector('fail(uint256)'), uint(7n)))]
    block = await sealer.sealNow()
    assert.equal(block.transactions.length, 4)
    const receipts = (await chain.getReceipts(block.hash()))!
    receiptGas = receipts.map((r, i) => r.cumulativeGasUsed - (i === 0 ? 0n : receipts[i - 1].cumulativeGasUsed))
  })
  after(async () => {
    await chain?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('builds the call tree: every frame type, reverts with reasons, out of gas, a call refused for want of balance', async () => {
    const top = (await trace(1, callTracer())) as unknown as CallFrame
    assert.equal(top.type, 'CALL')
    assert.equal(top.from, SIGNER)
    assert.equal(top.to, TRACED)
    // the transaction's own gas limit, and the receipt's gas
    assert.equal(top.gas, '0x2dc6c0')
    assert.equal(BigInt(top.gasUsed), receiptGas[1])
    assert.equal(top.output, word(42n))
    assert.equal(top.logs, undefined, 'logs only withLog')
    const calls = top.calls!
    assert.deepEqual(
      calls.map((c) => [c.type, c.error, c.to]),
      [
        ['CALL', undefined, CALLEE],
        ['CALL', 'execution reverted', CALLEE],
        ['STATICCALL', undefined, CALLEE],
        ['CALL', 'out of gas', CALLEE],
        ['DELEGATECALL', undefined, CALLEE],
        ['CALL', 'insufficient balance for transfer', CALLEE],
        ['CREATE', undefined, calls[6].to],
        ['CALL', undefined, calls[6].to],
      ],
    )
    const [store, fail, view, burn, delegate, refused, create, destroy] = calls
    assert.ok(calls.every((c) => c.from === TRACED))
    assert.equal(store.input, bytesToHex(concatBytes(selector('store(uint256)'), uint(21n))))
    assert.equal(store.output, word(42n))
    assert.equal(store.value, '0x0')
    assert.equal(fail.revertReason, 'callee says no')
    assert.ok(fail.output?.startsWith('0x08c379a0'), 'the revert data')
    assert.equal(view.value, undefined, 'STATICCALL carries no value')
    assert.equal(view.output, word(21n), 'stored() reads what store(21) wrote')
    // the 5000 gas it was given, all used
    assert.deepEqual([burn.gas, burn.gasUsed, burn.output], ['0x1388', '0x1388', undefined])
    // DELEGATECALL runs the callee's code on Traced's storage, whose slot 0 is the callee
    assert.equal(delegate.output, bytesToHex(setLengthLeft(hexToBytes(CALLEE as `0x${string}`), 32)))
    assert.deepEqual([refused.gasUsed, refused.value, refused.input], ['0x0', '0xde0b6b3a7640000', '0x'])
    assert.equal(create.output, compileContract('Traced.sol', 'TracedCallee').deployedBytecode)
    assert.deepEqual(destroy.calls, [{ from: create.to, gas: '0x0', gasUsed: '0x0', to: SIGNER, input: '0x', value: '0x0', type: 'SELFDESTRUCT' }])
  })

  it('places logs in their frames, with block-wide indexes, and drops the logs of failed frames', async () => {
    const first = (await trace(1, callTracer({ withLog: true }))) as unknown as CallFrame
    const calledTopic = bytesToHex(keccak_256(new TextEncoder().encode('Called(uint256,address)')))
    const miner = bytesToHex(setLengthLeft(hexToBytes(SIGNER as `0x${string}`), 32))
    // the second log comes after all eight calls; the reverted call's log was index 2 until it was dropped
    assert.deepEqual(first.logs, [
      { address: TRACED, topics: [calledTopic], data: `${word(42n)}${miner.slice(2)}`, index: '0x1', position: '0x1' },
      { address: TRACED, topics: [calledTopic], data: `${word(43n)}${miner.slice(2)}`, index: '0x2', position: '0x8' },
    ])
    assert.deepEqual(first.calls![0].logs?.map((l) => [l.data, l.index]), [[word(21n), '0x0']])
    assert.equal(first.calls![1].logs, undefined)
    // the next transaction's logs count on from the three before it
    const second = (await trace(2, callTracer({ withLog: true }))) as unknown as CallFrame
    assert.deepEqual([second.calls![0].logs![0].index, ...second.logs!.map((l) => l.index)], ['0x3', '0x4', '0x5'])
  })

  it('reports only the top call with onlyTopCall', async () => {
    const top = (await trace(1, callTracer({ onlyTopCall: true, withLog: true }))) as unknown as CallFrame
    assert.equal(top.calls, undefined)
    assert.deepEqual(top.logs?.map((l) => l.position), ['0x0', '0x0'])
    assert.equal(BigInt(top.gasUsed), receiptGas[1])
  })

  it('reports a reverted transaction with its reason', async () => {
    const failed = (await trace(3, callTracer({ withLog: true }))) as unknown as CallFrame
    assert.deepEqual([failed.error, failed.revertReason, failed.logs], ['execution reverted', 'callee says no', undefined])
    const logged = (await trace(3, structLogger())) as unknown as StructTrace
    assert.equal(logged.failed, true)
    assert.equal(logged.returnValue, failed.output)
    assert.equal(BigInt(logged.gas), receiptGas[3])
    assert.equal(logged.structLogs.at(-1)!.op, 'REVERT')
  })

  it('logs every opcode with the stack, storage, return data and errors geth reports', async () => {
    const result = (await trace(1, structLogger({ enableReturnData: true }))) as unknown as StructTrace
    assert.deepEqual([result.failed, result.returnValue, BigInt(result.gas)], [false, word(42n), receiptGas[1]])
    const logs = result.structLogs
    assert.equal(logs[0].depth, 1)
    assert.deepEqual(logs[0].stack, [])
    // COINBASE on Clique is the signer
    const coinbase = logs.findIndex((l) => l.op === 'COINBASE')
    assert.equal(logs[coinbase + 1].stack!.at(-1), SIGNER)
    // the first CALL costs what it hands on; its callee starts with that gas
    const call = logs.findIndex((l) => l.op === 'CALL')
    assert.equal(logs[call + 1].depth, 2)
    assert.equal(logs[call].gasCost - 2600, logs[call + 1].gas, 'a CALL to a cold account without value costs 2600 plus the gas handed on')
    // storage: the callee's SSTORE and Traced's SLOAD of slot 0
    const sstore = logs.find((l) => l.op === 'SSTORE' && l.depth === 2)!
    assert.deepEqual(sstore.storage, { [word(0n)]: word(21n) })
    const sload = logs.find((l) => l.op === 'SLOAD' && l.depth === 1)!
    assert.deepEqual(sload.storage, { [word(0n)]: bytesToHex(setLengthLeft(hexToBytes(CALLEE as `0x${string}`), 32)) })
    // what the call returned is the caller's return data until its next call
    const back = logs.findIndex((l, i) => i > call && l.depth === 1)
    assert.equal(logs[back].returnData, word(42n))
    // the out-of-gas opcode carries the error; the others do not
    const failed = logs.filter((l) => l.error !== undefined)
    assert.equal(failed.length, 1)
    assert.deepEqual([failed[0].depth, failed[0].error], [2, 'out of gas'])
    assert.ok(failed[0].gasCost > failed[0].gas)
  })

  it('honours disableStack, disableStorage and enableMemory', async () => {
    const result = (await trace(1, structLogger({ disableStack: true, disableStorage: true, enableMemory: true }))) as unknown as StructTrace
    assert.ok(result.structLogs.every((l) => l.stack === undefined && l.storage === undefined))
    const withMemory = result.structLogs.find((l) => l.memory !== undefined)!
    assert.ok(withMemory.memory!.every((w) => /^0x[0-9a-f]{64}$/.test(w)))
    // Solidity's free memory pointer, set by the first opcodes
    assert.equal(result.structLogs.find((l) => l.memory !== undefined && l.memory.length >= 3)!.memory![2], word(0x80n))
  })

  it('traces a whole block as its transactions one by one, leaving the chain untouched', async () => {
    const parent = (await chain.getHeaderByHash(block.header.parentHash))!
    const all = await tracer.traceBlock(block, parent, { tracer: callTracer(), timeoutMs: 30_000 })
    assert.equal(all.length, 4)
    for (let i = 0; i < 4; i++) assert.deepEqual(all[i], await trace(i, callTracer()))
    assert.deepEqual(all[0], { from: SIGNER, gas: '0x2dc6c0', gasUsed: '0x5208', to: SIGNER, input: '0x', value: '0x0', type: 'CALL' })
    const state = await chain.stateAt(chain.heads().latest)
    assert.equal(bytesToHex(await state.getStorage(createAddressFromString(CALLEE), uint(0n))), '0x16', 'run(22) stored 22')
  })

  it('traces a call on the head state as eth_call makes it, with the Clique signer as COINBASE', async () => {
    const execution = chain.callExecution()
    const args = { from: hexToBytes(SIGNER as `0x${string}`), to: hexToBytes(TRACED as `0x${string}`), data: run(5n) }
    const options = { tracer: callTracer({ withLog: true }), timeoutMs: 30_000 }
    const top = (await traceCall(() => options, (attach) => execution.traceCall(chain.heads().latest, args, {}, attach))) as unknown as CallFrame
    assert.deepEqual(top.calls?.map((c) => c.type), ['CALL', 'CALL', 'STATICCALL', 'CALL', 'DELEGATECALL', 'CALL', 'CREATE', 'CALL'])
    // the RPC gas cap, and logs counted from the call's own first
    assert.equal(top.gas, '0x2faf080')
    const miner = setLengthLeft(hexToBytes(SIGNER as `0x${string}`), 32)
    assert.deepEqual(top.logs?.map((l) => [l.index, l.data]), [
      ['0x1', bytesToHex(concatBytes(uint(10n), miner))],
      ['0x2', bytesToHex(concatBytes(uint(11n), miner))],
    ])
  })
})
