/**
 * geth's transaction tracers for the debug namespace: the struct logger (eth/tracers/logger, the default) and the call
 * tracer (eth/tracers/native/call.go). A block's transactions are replayed on its parent's state in a state manager of
 * their own (never the importer's; nothing is written). The ethereumjs EVM's events are translated into geth's
 * tracing hooks (OnOpcode, OnEnter, OnExit, OnLog) by `EvmHooks`, and the tracers consume those as geth's do, so
 * each tracer reads like its geth original. Results are geth's JSON.
 */
import { cliqueSigner } from '@ethereumjs/block'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { EVMError, getOpcodesForHF, paramsEVM } from '@ethereumjs/evm'
import type { EVM, EVMResult, InterpreterStep, Message } from '@ethereumjs/evm'
import { Address, bigIntToAddressBytes, bigIntToBytes, bigIntToHex, bytesToBigInt, bytesToHex, setLengthLeft, setLengthRight } from '@ethereumjs/util'
import { createVM, runTx } from '@ethereumjs/vm'
import type { RunTxOpts, RunTxResult, VM } from '@ethereumjs/vm'

import type { ChainDB } from '../db/chaindb.ts'
import { unpackRevert } from './call.ts'
import { installCodeAnalysisCache } from './codeAnalysis.ts'
import { newStateManager } from './stateManager.ts'
import type { AncestorHashes } from './executor.ts'

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
type JsonObject = { [key: string]: Json }

/** geth's logger.Config */
export interface StructLoggerConfig {
  readonly enableMemory: boolean
  readonly disableStack: boolean
  readonly disableStorage: boolean
  readonly enableReturnData: boolean
  /** stop logging once the logs' JSON is longer than this; 0: no limit */
  readonly limit: number
}

/** The callTracer's tracerConfig */
export interface CallTracerConfig {
  /** the transaction's own call only, without sub-calls */
  readonly onlyTopCall: boolean
  /** event logs in the frames that emitted them */
  readonly withLog: boolean
}

export type TracerChoice =
  | { readonly name: 'structLogger'; readonly config: StructLoggerConfig }
  | { readonly name: 'callTracer'; readonly config: CallTracerConfig }

export interface TraceOptions {
  readonly tracer: TracerChoice
  /** a transaction still running after this long fails the trace with "execution timeout" (geth: 5 s) */
  readonly timeoutMs: number
}

/** A trace that fails as geth's does: "execution timeout", "tracing failed: ...". */
export class TraceError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'TraceError'
  }
}

/** What tracing reads from the chain: its fork rules, its database (for state) and BLOCKHASH's ancestors. */
export interface TraceSource {
  readonly common: Common
  readonly db: ChainDB
  ancestorsOf(parent: BlockHeader): AncestorHashes
}

/** Re-executes canonical transactions with a tracer attached. */
export class ChainTracer {
  private readonly source: TraceSource

  constructor(source: TraceSource) {
    this.source = source
  }

  /**
   * geth's traceBlock and traceTransaction: runs `block`'s transactions on the state of `parent` and returns one
   * trace per transaction; with `txIndex`, only the transactions before it run (untraced) and its trace alone is
   * returned.
   */
  async traceBlock(block: Block, parent: BlockHeader, options: TraceOptions, txIndex?: number): Promise<Json[]> {
    const vm = await this.vmAt(block.header, parent)
    await applyPreTransactionWrites(vm, block.header)
    const traces: Json[] = []
    let blockGasUsed = 0n
    let logIndex = 0
    const last = txIndex ?? block.transactions.length - 1
    for (let i = 0; i <= last; i++) {
      const tx = block.transactions[i]
      const opts: RunTxOpts = { tx, block, blockGasUsed, skipHardForkValidation: true }
      let result: RunTxResult
      if (txIndex === undefined || txIndex === i) {
        const traced = await runTraced(vm, opts, options, logIndex)
        traces.push(traced.trace)
        result = traced.result
      } else {
        result = await runTx(vm, opts).catch((err: Error) => {
          throw new TraceError(`transaction ${bytesToHex(tx.hash())} failed: ${err.message}`)
        })
      }
      blockGasUsed += result.totalGasSpent
      logIndex += result.receipt.logs.length
    }
    return traces
  }

  /** A VM over a fresh, read-only view of `parent`'s state, with `header`'s fork rules and Clique fee recipient. */
  private async vmAt(header: BlockHeader, parent: BlockHeader): Promise<VM> {
    const common = this.source.common.copy()
    common.setHardforkBy({ blockNumber: header.number, timestamp: header.timestamp })
    const stateManager = newStateManager(this.source.db.trieStore(), common)
    await stateManager.setStateRoot(parent.stateRoot)
    const ancestors = this.source.ancestorsOf(parent)
    await installCodeAnalysisCache()
    return createVM({
      common,
      stateManager,
      blockchain: {
        getBlock: async (n: number) => {
          const hash = await ancestors(BigInt(n))
          if (hash === undefined) throw new Error(`block ${n} is not an ancestor of the traced block`)
          return { hash: () => hash }
        },
        putBlock: async () => {},
        shallowCopy() {
          return this
        },
      },
      evmOpts: { cliqueSigner: (h) => cliqueSigner(h as BlockHeader) },
    })
  }
}

/**
 * The state changes a block makes before its first transaction, as ethereumjs's runBlock makes them (it does not
 * export them): EIP-4788 stores the parent beacon root, EIP-2935 the parent hash, each when its system contract has
 * code. geth's tracers do the same (core.PreExecution) and, like them, skip the DAO fork's irregular state change.
 */
async function applyPreTransactionWrites(vm: VM, header: BlockHeader): Promise<void> {
  const common = vm.common
  const sm = vm.stateManager
  if (common.isActivatedEIP(4788) && header.parentBeaconBlockRoot !== undefined) {
    const contract = new Address(bigIntToAddressBytes(BEACON_ROOTS_ADDRESS))
    if ((await sm.getCode(contract)).length > 0) {
      const ring = BigInt(common.param('historicalRootsLength'))
      const slot = header.timestamp % ring
      await sm.putStorage(contract, setLengthLeft(bigIntToBytes(slot), 32), bigIntToBytes(header.timestamp))
      await sm.putStorage(contract, setLengthLeft(bigIntToBytes(slot + ring), 32), header.parentBeaconBlockRoot)
    }
  }
  if (common.isActivatedEIP(2935)) {
    const contract = new Address(bigIntToAddressBytes(common.param('historyStorageAddress')))
    if ((await sm.getCode(contract)).length > 0) {
      const slot = (header.number - 1n) % common.param('historyServeWindow')
      await sm.putStorage(contract, setLengthLeft(bigIntToBytes(slot), 32), header.parentHash)
    }
  }
}

/** EIP-4788's system contract */
const BEACON_ROOTS_ADDRESS = 0x000f3df6d732807ef1319fb7b8bb8522d0beac02n

const newTracer = (choice: TracerChoice): TxTracer => (choice.name === 'callTracer' ? new CallTracer(choice.config) : new StructLogger(choice.config))

/** Runs one transaction with the chosen tracer attached; its trace and the VM's result. */
async function runTraced(vm: VM, opts: RunTxOpts, options: TraceOptions, logIndex: number): Promise<{ trace: Json; result: RunTxResult }> {
  const tracer = newTracer(options.tracer)
  const hooks = new EvmHooks(vm.evm as EVM, tracer, logIndex, performance.now() + options.timeoutMs)
  let result: RunTxResult
  try {
    result = await runTx(vm, opts)
  } catch (err) {
    if (err instanceof TraceError) throw err
    throw new TraceError(`tracing failed: ${(err as Error).message}`)
  } finally {
    hooks.detach()
  }
  hooks.rethrow()
  return { trace: tracer.result({ gasLimit: opts.tx.gasLimit, gasUsed: result.totalGasSpent }), result }
}

/**
 * geth's traceCall: `run` makes the call with the tracer attached to its EVM (through `attach`, which returns the
 * detach) and reports the gas as a receipt would. The tracer is made, from `options`, only when the call is ready to
 * run (after its overrides and defaults), as geth makes it; the call's logs count from 0.
 */
export async function traceCall(options: () => TraceOptions, run: (attach: (evm: EVM) => () => void) => Promise<TxOutcome>): Promise<Json> {
  let attached: { tracer: TxTracer; hooks: EvmHooks } | undefined
  const outcome = await run((evm) => {
    const { tracer: choice, timeoutMs } = options()
    const tracer = newTracer(choice)
    attached = { tracer, hooks: new EvmHooks(evm, tracer, 0, performance.now() + timeoutMs) }
    return () => attached!.hooks.detach()
  })
  if (attached === undefined) throw new Error('the call ran without its tracer')
  attached.hooks.rethrow()
  return attached.tracer.result(outcome)
}

// ---------------------------------------------------------------- geth's tracing hooks over ethereumjs events

/** One opcode about to run, as geth's OnOpcode sees it. */
interface OpcodeEvent {
  pc: number
  op: number
  gas: bigint
  cost: bigint
  /** geth's: 1 for the transaction's own code */
  depth: number
  stack: bigint[]
  memory: Uint8Array
  /** what the frame's last call returned */
  returnData: Uint8Array
  refund: bigint
  /** whose storage the code works on */
  address: Address
  readStorage(slot: Uint8Array): Promise<Uint8Array>
}

/** A call frame starting (OnEnter); depth 0 is the transaction's. */
interface EnterEvent {
  depth: number
  type: string
  from: Address
  /** absent for creations until they end */
  to?: Address
  input: Uint8Array
  gas: bigint
  /** absent for STATICCALL */
  value?: bigint
}

/** A call frame ending (OnExit); a creation reports the address it created. */
interface ExitEvent {
  depth: number
  output: Uint8Array
  gasUsed: bigint
  /** geth's VM error message */
  error?: string
  created?: Address
}

/** An event log (OnLog); `index` counts the block's logs. */
interface LogEvent {
  address: Address
  topics: Uint8Array[]
  data: Uint8Array
  index: number
}

interface TracingHooks {
  onOpcode?(e: OpcodeEvent): void | Promise<void>
  /** the last opcode logged at `depth` failed before running (out of gas, stack): geth logs it with the error */
  onOpcodeFault?(depth: number, error: string): void
  onEnter?(e: EnterEvent): void
  onExit?(e: ExitEvent): void
  onLog?(e: LogEvent): void
}

/** How the transaction ended, as its receipt (or a call's result) tells. */
export interface TxOutcome {
  gasLimit: bigint
  gasUsed: bigint
}

interface TxTracer extends TracingHooks {
  /** geth's GetResult */
  result(outcome: TxOutcome): Json
}

interface Frame {
  readonly message: Message
  readonly creates: boolean
  readonly logIndexAtEntry: number
  /** what the frame's last call returned (geth's evm.returnData) */
  returnData: Uint8Array
  last?: { op: number; gas: bigint; cost: bigint; stackLength: number; address: Address }
  /** a CALL or CREATE that has not entered its frame yet: if the caller runs on, it failed before entering */
  pendingCall?: EnterEvent
  /** a SELFDESTRUCT, reported when the frame ends well */
  pendingSelfdestruct?: EnterEvent
}

const OP = {
  STOP: 0x00,
  SLOAD: 0x54,
  SSTORE: 0x55,
  DIFFICULTY: 0x44,
  RETURNDATACOPY: 0x3e,
  LOG0: 0xa0,
  LOG4: 0xa4,
  CREATE: 0xf0,
  CALL: 0xf1,
  CALLCODE: 0xf2,
  RETURN: 0xf3,
  DELEGATECALL: 0xf4,
  CREATE2: 0xf5,
  STATICCALL: 0xfa,
  INVALID: 0xfe,
  SELFDESTRUCT: 0xff,
} as const

/** Opcodes that end a frame well; any other last opcode means the code ran off its end (an implicit STOP). */
const HALTS = new Set<number>([OP.STOP, OP.RETURN, OP.SELFDESTRUCT])
const CALLS = new Set<number>([OP.CALL, OP.CALLCODE, OP.DELEGATECALL, OP.STATICCALL])
const CALL_STIPEND = 2300n
const STACK_LIMIT = 1024
/** how long tracing runs before it lets the event loop serve others */
const YIELD_EVERY_MS = 20

/**
 * Subscribes to the EVM's step/beforeMessage/afterMessage events for one transaction and calls the hooks as geth's
 * interpreter would. Where ethereumjs and geth differ, geth's view wins: CALL's cost includes the gas handed to the
 * callee; an opcode failing before it runs carries the error; code running off its end logs geth's implicit STOP;
 * calls refused before entering (depth, balance) and SELFDESTRUCT are frames of their own.
 */
class EvmHooks {
  private readonly evm: EVM
  private readonly hooks: TracingHooks
  private readonly eip150: boolean
  private readonly deadline: number
  private readonly frames: Frame[] = []
  private logIndex: number
  private failure: unknown
  private lastYield = performance.now()
  private readonly listeners: {
    step: (step: InterpreterStep, done?: () => void) => void
    beforeMessage: (message: Message) => void
    afterMessage: (result: EVMResult, done?: () => void) => void
  }

  constructor(evm: EVM, hooks: TracingHooks, logIndex: number, deadline: number) {
    this.evm = evm
    this.hooks = hooks
    this.eip150 = evm.common.gteHardfork(Hardfork.TangerineWhistle)
    this.logIndex = logIndex
    this.deadline = deadline
    // a listener with two parameters is waited for (until it calls `done`): storage reads finish before the EVM goes on
    const settle = (work: Promise<void>, done?: () => void) =>
      work.then(done, (err: unknown) => {
        this.failure ??= err
        done!()
      })
    this.listeners = {
      step: (step, done) => {
        // thrown here, synchronously, the error stops the EVM
        const now = performance.now()
        if (now > this.deadline) throw new TraceError('execution timeout')
        const yielded = now - this.lastYield > YIELD_EVERY_MS ? new Promise((resolve) => setImmediate(resolve)).then(() => (this.lastYield = performance.now())) : Promise.resolve()
        settle(yielded.then(() => this.step(step)), done)
      },
      beforeMessage: (message) => {
        try {
          this.enter(message)
        } catch (err) {
          this.failure ??= err
        }
      },
      afterMessage: (result, done) => settle(this.exit(result), done),
    }
    this.evm.events.on('step', this.listeners.step)
    this.evm.events.on('beforeMessage', this.listeners.beforeMessage)
    this.evm.events.on('afterMessage', this.listeners.afterMessage)
  }

  detach(): void {
    this.evm.events.off('step', this.listeners.step)
    this.evm.events.off('beforeMessage', this.listeners.beforeMessage)
    this.evm.events.off('afterMessage', this.listeners.afterMessage)
  }

  /** A tracer bug surfaces after the transaction instead of inside the EVM. */
  rethrow(): void {
    if (this.failure !== undefined) throw this.failure
  }

  private enter(message: Message): void {
    const parent = this.frames.at(-1)
    let type: string
    let from: Address
    if (parent === undefined) {
      type = message.to === undefined ? 'CREATE' : 'CALL'
      from = message.caller
    } else {
      type = parent.pendingCall?.type ?? 'CALL'
      from = parent.pendingCall?.from ?? message.caller
      parent.pendingCall = undefined
    }
    // ethereumjs runs CALLCODE and DELEGATECALL "to" the caller; geth reports the code's address
    const to = message.to === undefined ? undefined : type === 'CALLCODE' || type === 'DELEGATECALL' ? message.codeAddress : message.to
    this.frames.push({ message, creates: message.to === undefined, logIndexAtEntry: this.logIndex, returnData: new Uint8Array() })
    // copies: the EVM hands out views of memory that later opcodes overwrite
    this.hooks.onEnter?.({ depth: message.depth, type, from, to, input: message.data.slice(), gas: message.gasLimit, value: type === 'STATICCALL' ? undefined : message.value })
  }

  private async step(step: InterpreterStep): Promise<void> {
    const frame = this.frames.at(-1)!
    this.settlePendingCall(frame)
    const code = frame.message.code as Uint8Array
    // ethereumjs reports every undefined opcode as INVALID (0xfe); geth names the byte
    const op = step.opcode.code === OP.INVALID ? code[step.pc] : step.opcode.code
    const gas = step.gasLeft
    const stack = step.stack
    let cost = step.opcode.dynamicFee ?? BigInt(step.opcode.fee)
    const runs = cost <= gas
    if (runs && CALLS.has(op)) {
      const callGas = this.callGas(stack.at(-1)!, gas - cost)
      cost += callGas
      const withValue = op === OP.CALL || op === OP.CALLCODE
      const value = withValue ? stack.at(-3)! : op === OP.DELEGATECALL ? frame.message.value : undefined
      const [offset, size] = withValue ? [stack.at(-4)!, stack.at(-5)!] : [stack.at(-3)!, stack.at(-4)!]
      frame.pendingCall = {
        depth: step.depth + 1,
        type: opName(op),
        from: step.address,
        to: addressOf(stack.at(-2)!),
        input: memorySlice(step.memory, offset, size),
        gas: callGas + (withValue && value! > 0n ? CALL_STIPEND : 0n),
        value,
      }
      frame.returnData = new Uint8Array()
    } else if (runs && (op === OP.CREATE || op === OP.CREATE2)) {
      const available = gas - cost
      frame.pendingCall = {
        depth: step.depth + 1,
        type: opName(op),
        from: step.address,
        input: memorySlice(step.memory, stack.at(-2)!, stack.at(-3)!),
        gas: this.eip150 ? available - available / 64n : available,
        value: stack.at(-1)!,
      }
      frame.returnData = new Uint8Array()
    } else if (runs && op === OP.SELFDESTRUCT) {
      // the balance the EVM moves: the executing account's as the frame holds it
      frame.pendingSelfdestruct = { depth: step.depth + 1, type: 'SELFDESTRUCT', from: step.address, to: addressOf(stack.at(-1)!), input: new Uint8Array(), gas: 0n, value: step.account.balance }
    }
    frame.last = { op, gas, cost, stackLength: stack.length, address: step.address }
    await this.hooks.onOpcode?.({
      pc: step.pc,
      op,
      gas,
      cost,
      depth: step.depth + 1,
      stack,
      memory: step.memory,
      returnData: frame.returnData,
      refund: step.gasRefund,
      address: step.address,
      readStorage: storageReader(step.stateManager, step.address),
    })
    if (runs && op >= OP.LOG0 && op <= OP.LOG4) {
      const topics = stack.slice(stack.length - 2 - (op - OP.LOG0), stack.length - 2).reverse()
      const data = memorySlice(step.memory, stack.at(-1)!, stack.at(-2)!)
      this.hooks.onLog?.({ address: step.address, topics: topics.map((t) => setLengthLeft(bigIntToBytes(t), 32)), data, index: this.logIndex++ })
    }
  }

  private async exit(result: EVMResult): Promise<void> {
    const frame = this.frames.pop()!
    const parent = this.frames.at(-1)
    const { exceptionError, returnValue, executionGasUsed, runState } = result.execResult
    const depth = frame.message.depth
    const error = exceptionError === undefined ? undefined : gethError(exceptionError, frame.last)
    const output = returnValue.slice()
    if (exceptionError === undefined) {
      this.settlePendingCall(frame)
      if (frame.last !== undefined && !HALTS.has(frame.last.op) && runState !== undefined) {
        // geth reads past the code's end as STOP and logs it
        await this.hooks.onOpcode?.({
          pc: runState.programCounter,
          op: OP.STOP,
          gas: runState.gasLeft,
          cost: 0n,
          depth: depth + 1,
          stack: runState.stack.getStack(),
          memory: runState.memory.read(0, Number(runState.memoryWordCount) * 32),
          returnData: frame.returnData,
          refund: runState.gasRefund,
          address: frame.last.address,
          readStorage: storageReader(runState.stateManager, frame.last.address),
        })
      }
      if (frame.pendingSelfdestruct !== undefined) {
        this.hooks.onEnter?.(frame.pendingSelfdestruct)
        this.hooks.onExit?.({ depth: depth + 1, output: new Uint8Array(), gasUsed: 0n })
      }
    } else {
      if (frame.last !== undefined && failsBeforeRunning(exceptionError, frame.last)) this.hooks.onOpcodeFault?.(depth + 1, error!)
      // logs of a failed frame are reverted, and so is the block's log count
      this.logIndex = frame.logIndexAtEntry
    }
    if (parent !== undefined) {
      const reverted = exceptionError?.error === EVMError.errorMessages.REVERT
      // geth keeps a call's output (a failed call's is empty) and only a reverted creation's
      parent.returnData = frame.creates ? (reverted ? output : new Uint8Array()) : exceptionError === undefined || reverted ? output : new Uint8Array()
    }
    this.hooks.onExit?.({ depth, output, gasUsed: executionGasUsed, error, created: result.createdAddress })
  }

  /** A CALL/CREATE whose frame never started, because the call depth or the caller's balance refused it. */
  private settlePendingCall(frame: Frame): void {
    const call = frame.pendingCall
    if (call === undefined) return
    frame.pendingCall = undefined
    this.hooks.onEnter?.(call)
    const error = call.depth > STACK_LIMIT ? 'max call depth exceeded' : 'insufficient balance for transfer'
    this.hooks.onExit?.({ depth: call.depth, output: new Uint8Array(), gasUsed: 0n, error })
  }

  /** geth's callGas: what a CALL hands on, all but one 64th of what is left since EIP-150, else what it asks for. */
  private callGas(requested: bigint, available: bigint): bigint {
    if (!this.eip150) return requested
    const cap = available - available / 64n
    return requested < cap ? requested : cap
  }
}

const addressOf = (word: bigint) => new Address(setLengthLeft(bigIntToBytes(word & ADDRESS_MASK), 20))
const ADDRESS_MASK = (1n << 160n) - 1n

const storageReader = (sm: InterpreterStep['stateManager'], address: Address) => async (slot: Uint8Array) => setLengthLeft(await sm.getStorage(address, slot), 32)

/** Memory as an opcode reads it: past the end are zeros (the opcode expands memory after geth's hook ran). */
function memorySlice(memory: Uint8Array, offset: bigint, size: bigint): Uint8Array {
  if (size === 0n) return new Uint8Array()
  const out = new Uint8Array(Number(size))
  const start = Number(offset)
  if (start < memory.length) out.set(memory.subarray(start, Math.min(memory.length, start + out.length)))
  return out
}

/** Failures geth's interpreter detects before the opcode runs, so its OnOpcode carries the error. */
function failsBeforeRunning(err: EVMError, last: NonNullable<Frame['last']>): boolean {
  const { OUT_OF_GAS, STACK_UNDERFLOW, STACK_OVERFLOW } = EVMError.errorMessages
  if (err.error === OUT_OF_GAS) return !returnDataOutOfBounds(err, last)
  return err.error === STACK_UNDERFLOW || err.error === STACK_OVERFLOW
}

/** ethereumjs fails RETURNDATACOPY past the return data as out of gas; geth as the opcode's own error. */
const returnDataOutOfBounds = (err: EVMError, last: NonNullable<Frame['last']>) =>
  err.error === EVMError.errorMessages.OUT_OF_GAS && last.op === OP.RETURNDATACOPY && last.cost <= last.gas

/** geth's core/vm error messages for ethereumjs's EVM errors; `last` is the frame's last opcode. */
function gethError(err: EVMError, last: Frame['last']): string {
  const m = EVMError.errorMessages
  switch (err.error) {
    case m.OUT_OF_GAS:
      if (last !== undefined && returnDataOutOfBounds(err, last)) return 'return data out of bounds'
      // EIP-2200: SSTORE needs more than the call stipend left
      if (last?.op === OP.SSTORE && last.cost <= last.gas && last.gas <= CALL_STIPEND) return 'out of gas: not enough gas for reentrancy sentry'
      return 'out of gas'
    case m.STACK_UNDERFLOW:
      return last === undefined ? 'stack underflow' : `stack underflow (${last.stackLength} <=> ${stackInputs(last.op)})`
    case m.STACK_OVERFLOW:
      // every opcode that can overflow the stack pushes one item more than it pops
      return `stack limit reached ${STACK_LIMIT} (${STACK_LIMIT - 1})`
    case m.INVALID_OPCODE:
      return `invalid opcode: ${last === undefined ? opName(OP.INVALID) : opName(last.op)}`
    case m.INVALID_JUMP:
      return 'invalid jump destination'
    case m.REVERT:
      return 'execution reverted'
    case m.STATIC_STATE_CHANGE:
      return 'write protection'
    case m.CODESTORE_OUT_OF_GAS:
      return 'contract creation code storage out of gas'
    case m.CODESIZE_EXCEEDS_MAXIMUM:
      return 'max code size exceeded'
    case m.CREATE_COLLISION:
      return 'contract address collision'
    case m.INSUFFICIENT_BALANCE:
      return 'insufficient balance for transfer'
    case m.INITCODE_SIZE_VIOLATION:
      return 'max initcode size exceeded'
    case m.INVALID_BYTECODE_RESULT:
      return 'invalid code: must not begin with 0xef'
    default:
      return err.error
  }
}

/** Stack items an opcode takes (geth's minStack), for the stack underflow message. */
function stackInputs(op: number): number {
  if (op >= 0x60 && op <= 0x7f) return 0 // PUSHn
  if (op >= 0x80 && op <= 0x8f) return op - 0x7f // DUPn
  if (op >= 0x90 && op <= 0x9f) return op - 0x8e // SWAPn
  if (op >= 0xa0 && op <= 0xa4) return op - 0x9e // LOGn
  return STACK_INPUTS.get(op) ?? 0
}

const STACK_INPUTS = new Map<number, number>([
  ...[0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x14, 0x16, 0x17, 0x18, 0x1a, 0x1b, 0x1c, 0x1d, 0x20].map((op) => [op, 2] as const),
  ...[0x08, 0x09, 0x37, 0x39, 0x3e, 0x5e].map((op) => [op, 3] as const),
  ...[0x15, 0x19, 0x1e, 0x31, 0x35, 0x3b, 0x3f, 0x40, 0x49, 0x50, 0x51, 0x54, 0x56, 0x5c, 0xff].map((op) => [op, 1] as const),
  ...[0x52, 0x53, 0x55, 0x57, 0x5d, 0xf3, 0xfd].map((op) => [op, 2] as const),
  [0x3c, 4],
  [OP.CREATE, 3],
  [OP.CREATE2, 4],
  [OP.CALL, 7],
  [OP.CALLCODE, 7],
  [OP.DELEGATECALL, 6],
  [OP.STATICCALL, 6],
])

/** Names geth gives opcodes that no fork cairn runs defines (EOF and later). */
const FUTURE_OPCODES = new Map<number, string>([
  [0x4b, 'SLOTNUM'],
  [0xd0, 'DATALOAD'],
  [0xd1, 'DATALOADN'],
  [0xd2, 'DATASIZE'],
  [0xd3, 'DATACOPY'],
  [0xe0, 'RJUMP'],
  [0xe1, 'RJUMPI'],
  [0xe2, 'RJUMPV'],
  [0xe3, 'CALLF'],
  [0xe4, 'RETF'],
  [0xe5, 'JUMPF'],
  [0xe6, 'DUPN'],
  [0xe7, 'SWAPN'],
  [0xe8, 'EXCHANGE'],
  [0xec, 'EOFCREATE'],
  [0xee, 'RETURNCONTRACT'],
  [0xf7, 'RETURNDATALOAD'],
  [0xf8, 'EXTCALL'],
  [0xf9, 'EXTDELEGATECALL'],
  [0xfb, 'EXTSTATICCALL'],
])

let opNames: Map<number, string> | undefined

/** geth's OpCode.String(): the same name in every fork (0x44 stays DIFFICULTY), "opcode 0x.. not defined" else. */
function opName(op: number): string {
  opNames ??= new Map([...getOpcodesForHF(new Common({ chain: Mainnet, hardfork: Hardfork.Osaka, params: paramsEVM })).opcodes].map(([code, o]) => [code, o.fullName]))
  if (op === OP.DIFFICULTY) return 'DIFFICULTY'
  return opNames.get(op) ?? FUTURE_OPCODES.get(op) ?? `opcode 0x${op.toString(16)} not defined`
}

// ---------------------------------------------------------------- the struct logger (eth/tracers/logger)

const word = (n: bigint) => bytesToHex(setLengthLeft(bigIntToBytes(n), 32))

/** geth's StructLogger in its legacy JSON: one entry per opcode, and the transaction's gas, failure and output. */
class StructLogger implements TxTracer {
  private readonly config: StructLoggerConfig
  private readonly logs: JsonObject[] = []
  private size = 0
  /** per contract, the slots seen so far (geth reports the accumulated map at every SLOAD/SSTORE) */
  private readonly storage = new Map<string, Map<string, string>>()
  /** per depth, the index of the frame's latest log, to attach a fault to */
  private readonly lastLog = new Map<number, number>()
  private output: Uint8Array = new Uint8Array()
  private error: string | undefined

  constructor(config: StructLoggerConfig) {
    this.config = config
  }

  async onOpcode(e: OpcodeEvent): Promise<void> {
    if (this.config.limit !== 0 && this.size > this.config.limit) return
    const log: JsonObject = { pc: e.pc, op: opName(e.op), gas: Number(e.gas), gasCost: Number(e.cost), depth: e.depth }
    if (!this.config.disableStack) log.stack = e.stack.map((v) => bigIntToHex(v))
    if (this.config.enableReturnData && e.returnData.length > 0) log.returnData = bytesToHex(e.returnData)
    if (this.config.enableMemory && e.memory.length > 0) {
      const words: string[] = []
      for (let i = 0; i < e.memory.length; i += 32) words.push(bytesToHex(setLengthRight(e.memory.subarray(i, i + 32), 32)))
      log.memory = words
    }
    const n = e.stack.length
    if (!this.config.disableStorage && ((e.op === OP.SLOAD && n >= 1) || (e.op === OP.SSTORE && n >= 2))) {
      const contract = e.address.toString()
      const slots = this.storage.get(contract) ?? new Map<string, string>()
      this.storage.set(contract, slots)
      const slot = e.stack[n - 1]
      const value = e.op === OP.SLOAD ? bytesToBigInt(await e.readStorage(setLengthLeft(bigIntToBytes(slot), 32))) : e.stack[n - 2]
      slots.set(word(slot), word(value))
      // Go marshals maps with sorted keys
      log.storage = Object.fromEntries([...slots].sort(([a], [b]) => (a < b ? -1 : 1)))
    }
    if (e.refund > 0n) log.refund = Number(e.refund)
    this.lastLog.set(e.depth, this.logs.length)
    this.logs.push(log)
    if (this.config.limit !== 0) this.size += JSON.stringify(log).length
  }

  onEnter(e: EnterEvent): void {
    this.lastLog.delete(e.depth + 1)
  }

  onOpcodeFault(depth: number, error: string): void {
    const i = this.lastLog.get(depth)
    if (i === undefined) return
    const { pc, op, gas, gasCost, depth: d, ...rest } = this.logs[i]
    this.logs[i] = { pc, op, gas, gasCost, depth: d, error, ...rest }
    if (this.config.limit !== 0) this.size += `,"error":${JSON.stringify(error)}`.length
  }

  onExit(e: ExitEvent): void {
    if (e.depth !== 0) return
    this.output = e.output
    this.error = e.error
  }

  result({ gasUsed }: TxOutcome): Json {
    const failed = this.error !== undefined
    // the output when successful, the revert data when reverted, nothing when failed otherwise
    const returnValue = failed && this.error !== 'execution reverted' ? '0x' : bytesToHex(this.output)
    return { gas: Number(gasUsed), failed, returnValue, structLogs: this.logs }
  }
}

// ---------------------------------------------------------------- the call tracer (eth/tracers/native/call.go)

interface CallLog {
  address: Address
  topics: Uint8Array[]
  data: Uint8Array
  index: number
  /** how many sub-calls of the frame came before the log */
  position: number
}

interface CallFrame {
  type: string
  from: Address
  gas: bigint
  gasUsed: bigint
  to?: Address
  input: Uint8Array
  output?: Uint8Array
  error?: string
  revertReason?: string
  calls: CallFrame[]
  logs: CallLog[]
  value?: bigint
}

/** geth's callTracer: the tree of call frames, with their gas, output, errors and (withLog) logs. */
class CallTracer implements TxTracer {
  private readonly config: CallTracerConfig
  private readonly stack: CallFrame[] = []
  private depth = 0

  constructor(config: CallTracerConfig) {
    this.config = config
  }

  onEnter(e: EnterEvent): void {
    this.depth = e.depth
    if (this.config.onlyTopCall && e.depth > 0) return
    this.stack.push({ type: e.type, from: e.from, gas: e.gas, gasUsed: 0n, to: e.to, input: e.input, calls: [], logs: [], value: e.value })
  }

  onExit(e: ExitEvent): void {
    if (e.depth === 0) {
      if (this.stack.length === 1) finishFrame(this.stack[0], e)
      return
    }
    this.depth = e.depth - 1
    if (this.config.onlyTopCall || this.stack.length <= 1) return
    const frame = this.stack.pop()!
    frame.gasUsed = e.gasUsed
    finishFrame(frame, e)
    this.stack.at(-1)!.calls.push(frame)
  }

  onLog(e: LogEvent): void {
    if (!this.config.withLog || (this.config.onlyTopCall && this.depth > 0)) return
    const frame = this.stack.at(-1)!
    frame.logs.push({ ...e, position: frame.calls.length })
  }

  result({ gasLimit, gasUsed }: TxOutcome): Json {
    const top = this.stack[0]
    // the transaction's gas limit, not what was left after intrinsic gas, and the receipt's gas
    top.gas = gasLimit
    top.gasUsed = gasUsed
    // failed frames' logs were reverted
    if (this.config.withLog) clearFailedLogs(top, false)
    return callFrameJson(top)
  }
}

/** geth's processOutput: output when successful; error, revert data and reason when failed. */
function finishFrame(frame: CallFrame, e: ExitEvent): void {
  if (e.created !== undefined && (frame.type === 'CREATE' || frame.type === 'CREATE2')) frame.to = e.created
  if (e.error === undefined) {
    frame.output = e.output
    return
  }
  frame.error = e.error
  if (frame.type === 'CREATE' || frame.type === 'CREATE2') frame.to = undefined
  if (e.error !== 'execution reverted' || e.output.length === 0) return
  frame.output = e.output
  frame.revertReason = unpackRevert(e.output)
}

function clearFailedLogs(frame: CallFrame, parentFailed: boolean): void {
  const failed = frame.error !== undefined || parentFailed
  if (failed) frame.logs = []
  for (const call of frame.calls) clearFailedLogs(call, failed)
}

/** callFrame's JSON: struct field order, empty fields left out as Go's omitempty does. */
function callFrameJson(f: CallFrame): JsonObject {
  const out: JsonObject = { from: f.from.toString(), gas: bigIntToHex(f.gas), gasUsed: bigIntToHex(f.gasUsed) }
  if (f.to !== undefined) out.to = f.to.toString()
  out.input = bytesToHex(f.input)
  if (f.output !== undefined && f.output.length > 0) out.output = bytesToHex(f.output)
  if (f.error !== undefined) out.error = f.error
  if (f.revertReason !== undefined) out.revertReason = f.revertReason
  if (f.calls.length > 0) out.calls = f.calls.map(callFrameJson)
  if (f.logs.length > 0) {
    out.logs = f.logs.map((l) => ({
      address: l.address.toString(),
      topics: l.topics.map((t) => bytesToHex(t)),
      data: bytesToHex(l.data),
      index: bigIntToHex(BigInt(l.index)),
      position: bigIntToHex(BigInt(l.position)),
    }))
  }
  if (f.value !== undefined) out.value = bigIntToHex(f.value)
  out.type = f.type
  return out
}
