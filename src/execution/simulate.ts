/**
 * eth_simulateV1 as geth's internal/ethapi/simulate.go runs it: a chain of blocks on top of a stored block, each with
 * its block overrides (number, time, fee recipient, base fee...), state overrides (balance, nonce, code, storage,
 * moved precompiles) and calls. Blocks are assembled as geth assembles them (system calls, requests, withdrawals,
 * the roots and the hash of the header), calls are executed as unsigned transactions from the sender they name, and
 * the logs (with ERC-7528 ETH transfers as logs when traceTransfers is set) are collected the way geth's tracer does.
 *
 * The simulation runs on a state manager of its own over the trie store, opened at the base block's state root; its
 * writes stay in memory and are dropped with it.
 */
import { createBlockHeader } from '@ethereumjs/block'
import type { BlockHeader, HeaderData } from '@ethereumjs/block'
import { ConsensusType, Hardfork } from '@ethereumjs/common'
import type { Common } from '@ethereumjs/common'
import { createEVM, getActivePrecompiles, getOpcodesForHF, paramsEVM } from '@ethereumjs/evm'
import type { EVM, EVMOpts, EVMResult, Log, Message as EVMMessage } from '@ethereumjs/evm'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import {
  Account,
  Address,
  KECCAK256_RLP,
  KECCAK256_RLP_ARRAY,
  bigIntToBytes,
  bigIntToUnpaddedBytes,
  concatBytes,
  createAddressFromBigInt,
  setLengthLeft,
} from '@ethereumjs/util'
import { Bloom, encodeReceipt } from '@ethereumjs/vm'
import { sha256 } from '@noble/hashes/sha2.js'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { childBaseFee } from '../config/genesis.ts'
import type { ChainDB } from '../db/chaindb.ts'
import { installCodeAnalysisCache } from './codeAnalysis.ts'
import type { AccessListEntry, Authorization, BlockContext, BlockOverrides, CallArgs, CallEnv, EVMBlock, ExecutionResult, Message, StateOverrides } from './call.ts'
import {
  CallError,
  DEFAULT_EVM_TIMEOUT_MS,
  DEFAULT_GAS_CAP,
  ExecutionAborted,
  TransitionError,
  TransitionErrorKind,
  applyStateOverrides,
  goDuration,
  jumpdestWithDeadline,
  rulesOf,
  toMessage,
  transition,
  unpackRevert,
} from './call.ts'
import type { AncestorHashes } from './executor.ts'
import { newStateManager } from './stateManager.ts'

// ---------------------------------------------------------------- requests and results

/** types.Withdrawal, as a block override */
export interface Withdrawal {
  index: bigint
  validatorIndex: bigint
  address: Uint8Array
  /** in gwei */
  amount: bigint
}

/** One simulated block as requested: geth's simBlock. */
export interface SimBlock {
  /** `extraData` is set by block builds only; simulated blocks have none */
  block?: Omit<BlockOverrides, 'withdrawals'> & { withdrawals?: Withdrawal[]; extraData?: Uint8Array }
  state?: StateOverrides
  calls: CallArgs[]
}

export interface SimulateRequest {
  blocks: SimBlock[]
  /** ETH transfers reported as ERC-7528 Transfer logs */
  traceTransfers: boolean
  /** transactions checked as a block would check them: nonces, base fee, no free gas */
  validation: boolean
}

/** A log as geth's simulation tracer records it, with its place in the block. */
export interface SimulatedLog {
  address: Uint8Array
  topics: Uint8Array[]
  data: Uint8Array
  txHash: Uint8Array
  txIndex: number
  logIndex: number
}

export interface SimulatedCall {
  returnData: Uint8Array
  logs: SimulatedLog[]
  gasUsed: bigint
  maxUsedGas: bigint
  status: 0 | 1
  /** a failed call: reverted with its data, or halted with geth's vm error message */
  error?: { reverted: true; data: Uint8Array; reason: string | undefined } | { reverted: false; message: string }
}

/** A call as the unsigned transaction geth puts in the simulated block (all signature values zero). */
export interface SimulatedTransaction {
  type: 0 | 1 | 2 | 3 | 4
  chainId: bigint
  nonce: bigint
  gasLimit: bigint
  /** legacy transactions */
  gasPrice: bigint
  maxPriorityFeePerGas: bigint
  maxFeePerGas: bigint
  to: Uint8Array | undefined
  value: bigint
  data: Uint8Array
  accessList: AccessListEntry[]
  maxFeePerBlobGas: bigint
  blobVersionedHashes: Uint8Array[]
  authorizationList: Authorization[]
  from: Uint8Array
  hash: Uint8Array
  /** a built block's signed transaction: its canonical encoding, which the block carries instead of the fields */
  signed?: Uint8Array
}

/** A signed transaction for a built block: the call it makes and the encoding that goes into the block. */
export interface SignedCall extends CallArgs {
  from: Uint8Array
  nonce: bigint
  gas: bigint
  type: SimulatedTransaction['type']
  signed: Uint8Array
}

/** testing_buildBlockV1's block on its parent: the engine API's payload attributes, the gas limit and extra data. */
export interface BlockBuild {
  time: bigint
  feeRecipient: Uint8Array
  prevRandao: Uint8Array
  withdrawals: Withdrawal[]
  beaconRoot: Uint8Array | undefined
  gasLimit: bigint
  extraData: Uint8Array
  transactions: Iterable<SignedCall>
  /**
   * what a transaction the block cannot take does: given transactions fail the build with geth's bare error, the
   * pool's are left out, as geth's miner leaves them
   */
  onRefused: 'fail' | 'skip'
}

export interface SimulatedBlock {
  header: BlockHeader
  /** the RLP size of the whole block */
  size: number
  transactions: SimulatedTransaction[]
  /** present from Shanghai */
  withdrawals: Withdrawal[] | undefined
  calls: SimulatedCall[]
  /** EIP-7685 requests (type-prefixed, empty ones left out); present from Prague */
  requests: Uint8Array[] | undefined
}

/** Why geth refuses a simulation: a refused transaction, or the blocks asked for; the RPC layer gives each its code. */
export const SimulationErrorKind = {
  ...TransitionErrorKind,
  BlockGasLimitReached: 'blockGasLimitReached',
  BlockNumberInvalid: 'blockNumberInvalid',
  BlockTimestampInvalid: 'blockTimestampInvalid',
  ClientLimitExceeded: 'clientLimitExceeded',
  /** a plain error: bad overrides or call arguments, the gas cap exhausted */
  Other: 'other',
} as const
export type SimulationErrorKind = (typeof SimulationErrorKind)[keyof typeof SimulationErrorKind]

export class SimulationError extends Error {
  readonly kind: SimulationErrorKind
  constructor(kind: SimulationErrorKind, message: string) {
    super(message)
    this.name = 'SimulationError'
    this.kind = kind
  }
}

/** What the RPC layer runs simulations through; the chain provides it. */
export interface Simulation {
  simulate(base: BlockHeader, request: SimulateRequest): Promise<SimulatedBlock[]>
  /** A block on `parent` with signed transactions, checked as a block's (testing_buildBlockV1); nothing is stored. */
  build(parent: BlockHeader, build: BlockBuild): Promise<SimulatedBlock>
}

// ---------------------------------------------------------------- geth's limits and protocol constants

export const MAX_SIMULATE_BLOCKS = 256
export const MAX_CALLS_PER_BLOCK = 5000
export const MAX_TOTAL_CALLS = 10000
const TIMESTAMP_INCREMENT = 12n
const MAX_UINT64 = (1n << 64n) - 1n

const BLOB_GAS_PER_BLOB = 131_072n
/** the gas system calls get (EIP-4788, EIP-7002, EIP-7251) */
const SYSTEM_CALL_GAS = 30_000_000n
const SYSTEM_ADDRESS = new Address(Uint8Array.from(Buffer.from('fffffffffffffffffffffffffffffffffffffffe', 'hex')))
const BEACON_ROOTS_ADDRESS = new Address(Uint8Array.from(Buffer.from('000f3df6d732807ef1319fb7b8bb8522d0beac02', 'hex')))
const HISTORY_STORAGE_ADDRESS = new Address(Uint8Array.from(Buffer.from('0000f90827f1c53a10cb7a02335b175320002935', 'hex')))
const WITHDRAWAL_QUEUE_ADDRESS = new Address(Uint8Array.from(Buffer.from('00000961ef480eb55e80d19ad83579a64c007002', 'hex')))
const CONSOLIDATION_QUEUE_ADDRESS = new Address(Uint8Array.from(Buffer.from('0000bbddc7ce488642fb579f8b00f3a590007251', 'hex')))
const HISTORY_SERVE_WINDOW = 8191n
const HISTORICAL_ROOTS_LENGTH = 8191n
const GWEI = 1_000_000_000n
const INITIAL_BASE_FEE = 1_000_000_000n

/** ERC-7528: the address ETH transfers are logged under, and the ERC-20 Transfer event they are logged as */
const TRANSFER_ADDRESS = Uint8Array.from(Buffer.from('eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee', 'hex'))
const TRANSFER_TOPIC = Uint8Array.from(Buffer.from('ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', 'hex'))

const u64 = (n: bigint) => n & MAX_UINT64

// ---------------------------------------------------------------- the simulator

export interface SimulatorOptions {
  common: Common
  db: ChainDB
  /** BLOCKHASH below the simulated blocks: the base block and its ancestors */
  ancestors: (base: BlockHeader) => AncestorHashes
  /** geth's --rpc.gascap: the gas all calls of one simulation may use together (0: no cap) */
  gasCap?: bigint
  /** geth's --rpc.evmtimeout: how long one simulation may execute */
  evmTimeoutMs?: number
}

/** A block to run, after geth's sanitizeChain: number and time are known. */
interface PlannedBlock {
  number: bigint
  time: bigint
  overrides: NonNullable<SimBlock['block']>
  state: StateOverrides | undefined
  calls: Iterable<CallArgs | SignedCall>
  /** builds only (see BlockBuild) */
  onRefused?: BlockBuild['onRefused']
}

export class Simulator implements Simulation {
  private readonly common: Common
  private readonly db: ChainDB
  private readonly ancestors: (base: BlockHeader) => AncestorHashes
  private readonly gasCap: bigint
  private readonly evmTimeoutMs: number

  constructor(opts: SimulatorOptions) {
    this.common = opts.common
    this.db = opts.db
    this.ancestors = opts.ancestors
    this.gasCap = opts.gasCap ?? DEFAULT_GAS_CAP
    this.evmTimeoutMs = opts.evmTimeoutMs ?? DEFAULT_EVM_TIMEOUT_MS
  }

  /** Throws SimulationError where geth answers with an error. */
  simulate(base: BlockHeader, request: SimulateRequest): Promise<SimulatedBlock[]> {
    return this.refusing(() => this.run(base, request))
  }

  /** Throws SimulationError where geth's miner refuses the block. */
  build(parent: BlockHeader, build: BlockBuild): Promise<SimulatedBlock> {
    return this.refusing(async () => {
      const state = newStateManager(this.db.trieStore(), this.common)
      await state.setStateRoot(parent.stateRoot)
      const request = { blocks: [], traceTransfers: false, validation: true }
      // signed transactions carry their own gas: no RPC gas cap
      const run: SimulationRun = { state, base: parent, baseAncestors: this.ancestors(parent), headers: [], budget: MAX_UINT64, deadline: Date.now() + this.evmTimeoutMs, request }
      const number = parent.number + 1n
      const common = this.common.copy()
      common.setHardforkBy({ blockNumber: number, timestamp: build.time })
      const overrides = { prevRandao: build.prevRandao, withdrawals: build.withdrawals, beaconRoot: build.beaconRoot, extraData: build.extraData }
      const block: PlannedBlock = { number, time: build.time, overrides, state: undefined, calls: build.transactions, onRefused: build.onRefused }
      return processBlock(run, common, block, parent, { coinbase: build.feeRecipient, difficulty: 0n, gasLimit: build.gasLimit })
    })
  }

  private async refusing<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (err) {
      // a call's arguments or the overrides refused
      if (err instanceof CallError) throw new SimulationError(SimulationErrorKind.Other, err.message)
      if (err instanceof ExecutionAborted) throw new SimulationError(SimulationErrorKind.Internal, `execution aborted (timeout = ${goDuration(this.evmTimeoutMs)})`)
      throw err
    }
  }

  private async run(base: BlockHeader, request: SimulateRequest): Promise<SimulatedBlock[]> {
    const planned = sanitizeChain(base, request.blocks)
    const state = newStateManager(this.db.trieStore(), this.common)
    await state.setStateRoot(base.stateRoot)
    const run: SimulationRun = {
      state,
      base,
      baseAncestors: this.ancestors(base),
      headers: [],
      budget: this.gasCap === 0n ? MAX_UINT64 : this.gasCap,
      deadline: Date.now() + this.evmTimeoutMs,
      request,
    }
    const out: SimulatedBlock[] = []
    // geth's makeHeaders: coinbase, difficulty and gas limit carry over from the block before
    let previous = { coinbase: base.coinbase.bytes, difficulty: base.difficulty, gasLimit: base.gasLimit }
    for (const block of planned) {
      const common = this.common.copy()
      common.setHardforkBy({ blockNumber: block.number, timestamp: block.time })
      const carried = {
        coinbase: block.overrides.feeRecipient ?? previous.coinbase,
        difficulty: block.overrides.difficulty ?? (common.gteHardfork(Hardfork.Paris) ? 0n : previous.difficulty),
        gasLimit: block.overrides.gasLimit ?? previous.gasLimit,
      }
      previous = carried
      const parent = run.headers[run.headers.length - 1] ?? base
      const simulated = await processBlock(run, common, block, parent, carried)
      run.headers.push(simulated.header)
      out.push(simulated)
    }
    return out
  }
}

/** What the blocks of one simulation share. */
interface SimulationRun {
  state: MerkleStateManager
  base: BlockHeader
  baseAncestors: AncestorHashes
  /** the blocks simulated so far */
  headers: BlockHeader[]
  /** gas the remaining calls may still use (geth's gasBudget) */
  budget: bigint
  /** when the simulation is aborted, in ms since the epoch */
  deadline: number
  request: SimulateRequest
}

/**
 * geth's sanitizeChain: numbers and timestamps strictly increasing, defaults of parent + 1 and parent + 12 s, gaps in
 * the numbers filled with empty blocks.
 */
function sanitizeChain(base: BlockHeader, blocks: SimBlock[]): PlannedBlock[] {
  const out: PlannedBlock[] = []
  let prevNumber = base.number
  let prevTime = base.timestamp
  for (const block of blocks) {
    const overrides = { ...block.block }
    const number = overrides.number ?? prevNumber + 1n
    if (number <= prevNumber) {
      throw new SimulationError(SimulationErrorKind.BlockNumberInvalid, `block numbers must be in order: ${u64(number)} <= ${prevNumber}`)
    }
    if (number - base.number > BigInt(MAX_SIMULATE_BLOCKS)) throw new SimulationError(SimulationErrorKind.ClientLimitExceeded, 'too many blocks')
    for (let n = prevNumber + 1n; n < number; n++) {
      prevTime += TIMESTAMP_INCREMENT
      out.push({ number: n, time: prevTime, overrides: {}, state: undefined, calls: [] })
    }
    prevNumber = number
    const time = overrides.time ?? prevTime + TIMESTAMP_INCREMENT
    if (time <= prevTime) throw new SimulationError(SimulationErrorKind.BlockTimestampInvalid, `block timestamps must be in order: ${time} <= ${prevTime}`)
    prevTime = time
    out.push({ number, time, overrides, state: block.state, calls: block.calls })
  }
  return out
}

/** EIP-1559's base fee after `parent` (the initial one on the London block). */
function nextBaseFee(parent: BlockHeader): bigint {
  return parent.baseFeePerGas === undefined ? INITIAL_BASE_FEE : childBaseFee(parent)
}

/** geth's simulator.processBlock: one block on the simulation's state, assembled with its roots and hash. */
async function processBlock(
  run: SimulationRun,
  common: Common,
  block: PlannedBlock,
  parent: BlockHeader,
  carried: { coinbase: Uint8Array; difficulty: bigint; gasLimit: bigint },
): Promise<SimulatedBlock> {
  const { state, request } = run
  const o = block.overrides
  const london = common.isActivatedEIP(1559)
  const cancun = common.isActivatedEIP(4844)
  const shanghai = common.isActivatedEIP(4895)
  const prague = common.isActivatedEIP(7685)
  // without validation the base fee is 0 unless overridden, so zero-priced calls stay under it
  const baseFee = london ? (o.baseFeePerGas ?? (request.validation ? nextBaseFee(parent) : 0n)) : undefined
  const excessBlobGas = cancun ? (parent.common.isActivatedEIP(4844) ? parent.calcNextExcessBlobGas(common) : 0n) : undefined
  const headerData: HeaderData = {
    parentHash: parent.hash(),
    uncleHash: KECCAK256_RLP_ARRAY,
    coinbase: carried.coinbase,
    difficulty: carried.difficulty,
    number: block.number,
    gasLimit: carried.gasLimit,
    timestamp: block.time,
    extraData: o.extraData ?? new Uint8Array(),
    mixHash: o.prevRandao ?? new Uint8Array(32),
    nonce: new Uint8Array(8),
    baseFeePerGas: baseFee,
    ...(shanghai ? { withdrawalsRoot: KECCAK256_RLP } : {}),
    ...(cancun ? { excessBlobGas, blobGasUsed: 0n, parentBeaconBlockRoot: o.beaconRoot ?? new Uint8Array(32) } : {}),
  }
  const headerOpts = { common, skipConsensusFormatValidation: true }
  const prelim = createBlockHeader(headerData, headerOpts)
  const blobBaseFee = cancun ? (o.blobBaseFee ?? prelim.getBlobGasPrice()) : undefined
  const ctx: BlockContext = {
    number: block.number,
    time: block.time,
    coinbase: new Address(carried.coinbase),
    difficulty: carried.difficulty,
    prevRandao: prelim.mixHash,
    gasLimit: carried.gasLimit,
    baseFee,
    blobBaseFee,
  }
  // unlike a call's, the block's base fees are what the EVM reads, paid or not
  const evmBlock: EVMBlock = {
    header: {
      number: ctx.number,
      coinbase: ctx.coinbase,
      timestamp: ctx.time,
      difficulty: ctx.difficulty,
      prevRandao: ctx.prevRandao,
      gasLimit: ctx.gasLimit,
      baseFeePerGas: baseFee,
      getBlobGasPrice: () => blobBaseFee,
    },
  }

  // state overrides first, against this block's precompiles (a moved precompile stays moved for this block only)
  const active = getActivePrecompiles(common)
  const customPrecompiles = await applyStateOverrides(state, block.state, active)
  const tracer = new TransferTracer(request.traceTransfers)
  await installCodeAnalysisCache()
  const evm = await createEVM({
    common,
    stateManager: state,
    customPrecompiles,
    customOpcodes: [jumpdestWithDeadline(run.deadline), ...tracedOpcodes(common, tracer)],
    blockchain: simulatedChain(run),
    // COINBASE on a Clique chain: the simulated block has no seal, so it is the fee recipient
    cliqueSigner: (h) => h.coinbase,
  })
  const env: CallEnv = { evm, state, common, rules: rulesOf(common), ctx, precompiles: [...active.keys()], noBaseFee: !request.validation }

  // geth's PreExecution: EIP-4788 and EIP-2935 system calls
  if (cancun) await storeBeaconRoot(state, headerData.parentBeaconBlockRoot as Uint8Array, block.time)
  if (common.isActivatedEIP(2935)) await storeParentHash(state, block.number, parent.hash())

  const gasPool = { remaining: carried.gasLimit, used: 0n }
  const transactions: SimulatedTransaction[] = []
  const calls: SimulatedCall[] = []
  const receipts: Uint8Array[] = []
  const bloom = new Bloom(undefined, common)
  let blobGasUsed = 0n
  for (const args of block.calls) {
    if (Date.now() > run.deadline) throw new SimulationError(SimulationErrorKind.Other, 'context deadline exceeded')
    let prepared: Awaited<ReturnType<typeof prepareCall>> | undefined
    let applied: Awaited<ReturnType<typeof applyCall>>
    try {
      prepared = await prepareCall(run, env, args, gasPool.remaining)
      tracer.reset(prepared.tx.hash, transactions.length)
      applied = await applyCall(env, prepared.msg, evmBlock, tracer)
    } catch (err) {
      if (block.onRefused === 'skip' && (err instanceof TransitionError || err instanceof SimulationError)) continue
      if (!(err instanceof TransitionError)) throw err
      // a simulation names the gas supplied; a build fails with geth's bare error
      throw new SimulationError(err.kind, block.onRefused === 'fail' ? err.message : `err: ${err.message} (supplied gas ${prepared!.msg.gasLimit})`)
    }
    const { tx, msg, gasCapped } = prepared
    const { result, stateRoot } = applied
    transactions.push(tx)
    gasPool.remaining -= result.usedGas
    gasPool.used += result.usedGas
    if (run.budget < result.usedGas) throw new SimulationError(SimulationErrorKind.Other, `RPC gas cap exhausted: need ${result.usedGas}, remaining ${run.budget}`)
    run.budget -= result.usedGas
    blobGasUsed += BigInt(msg.blobHashes?.length ?? 0) * BLOB_GAS_PER_BLOB

    const receiptBloom = logsBloom(result.logs, common)
    bloom.or(receiptBloom)
    const status = result.error === undefined ? 1 : 0
    const receipt = stateRoot === undefined
      ? { status, cumulativeBlockGasUsed: gasPool.used, bitvector: receiptBloom.bitvector, logs: result.logs }
      : { stateRoot, cumulativeBlockGasUsed: gasPool.used, bitvector: receiptBloom.bitvector, logs: result.logs }
    receipts.push(encodeReceipt(receipt as Parameters<typeof encodeReceipt>[0], tx.type))

    // geth's result.Return(): a failed call returns nothing (a revert's data goes with the error)
    const call: SimulatedCall = { returnData: status === 1 ? result.returnData : new Uint8Array(), logs: tracer.logs(), gasUsed: result.usedGas, maxUsedGas: result.maxUsedGas, status }
    if (result.reverted) call.error = { reverted: true, data: result.returnData, reason: unpackRevert(result.returnData) }
    else if (result.error !== undefined) {
      call.error = { reverted: false, message: gasCapped ? `${result.error} (gas limit was capped by the RPC server's global gas cap)` : result.error }
    }
    calls.push(call)
  }

  // geth's PostExecution: the EIP-7002 and EIP-7251 queues (cairn chains have no deposit contract)
  let requestsHash: Uint8Array | undefined
  let requests: Uint8Array[] | undefined
  if (prague) {
    requests = []
    for (const [type, queue] of [[0x01, WITHDRAWAL_QUEUE_ADDRESS], [0x02, CONSOLIDATION_QUEUE_ADDRESS]] as const) {
      const data = await systemCall(env, evmBlock, queue)
      if (data.length > 0) requests.push(concatBytes(Uint8Array.of(type), data))
    }
    requestsHash = sha256(concatBytes(...requests.map(sha256)))
  }
  // consensus finalisation: withdrawals from Shanghai, the miner's reward before the merge
  const withdrawals = shanghai ? (o.withdrawals ?? []) : undefined
  for (const w of withdrawals ?? []) await credit(env, new Address(w.address), w.amount * GWEI)
  if (common.consensusType() === ConsensusType.ProofOfWork) await credit(env, new Address(carried.coinbase), common.param('minerReward'))

  const header = createBlockHeader(
    {
      ...headerData,
      stateRoot: await state.getStateRoot(),
      transactionsTrie: await orderedTrieRoot(transactions.map(encodeTransaction)),
      receiptTrie: await orderedTrieRoot(receipts),
      logsBloom: bloom.bitvector,
      gasUsed: gasPool.used,
      ...(shanghai ? { withdrawalsRoot: await orderedTrieRoot(withdrawals!.map((w) => RLP.encode(withdrawalFields(w) as never))) } : {}),
      ...(cancun ? { blobGasUsed } : {}),
      ...(requestsHash !== undefined ? { requestsHash } : {}),
    },
    headerOpts,
  )
  const body = [header.raw(), transactions.map(blockTransaction), [], ...(withdrawals !== undefined ? [withdrawals.map(withdrawalFields)] : [])]
  return { header, size: RLP.encode(body as never).length, transactions, withdrawals, calls, requests }
}

// ---------------------------------------------------------------- the block's environment

/** BLOCKHASH: the simulated blocks before this one, then the base block and its ancestors. */
function simulatedChain(run: SimulationRun) {
  return {
    getBlock: async (n: number) => {
      const number = BigInt(n)
      const hash = number <= run.base.number ? await run.baseAncestors(number) : run.headers.find((h) => h.number === number)?.hash()
      return { hash: () => hash ?? new Uint8Array(32) }
    },
    putBlock: async () => {},
    shallowCopy() {
      return this
    },
  }
}

/** EIP-4788: the beacon roots contract keeps the root and its timestamp in two ring buffers (as cairn's blocks do). */
async function storeBeaconRoot(state: MerkleStateManager, root: Uint8Array, timestamp: bigint): Promise<void> {
  if ((await state.getCode(BEACON_ROOTS_ADDRESS)).length === 0) return
  const index = timestamp % HISTORICAL_ROOTS_LENGTH
  await state.putStorage(BEACON_ROOTS_ADDRESS, setLengthLeft(bigIntToBytes(index), 32), bigIntToBytes(timestamp))
  await state.putStorage(BEACON_ROOTS_ADDRESS, setLengthLeft(bigIntToBytes(index + HISTORICAL_ROOTS_LENGTH), 32), root)
}

/** EIP-2935: the history contract keeps the parent's hash in a ring buffer. */
async function storeParentHash(state: MerkleStateManager, number: bigint, parentHash: Uint8Array): Promise<void> {
  if ((await state.getCode(HISTORY_STORAGE_ADDRESS)).length === 0) return
  await state.putStorage(HISTORY_STORAGE_ADDRESS, setLengthLeft(bigIntToBytes((number - 1n) % HISTORY_SERVE_WINDOW), 32), parentHash)
}

/** An EIP-7002/7251 system call: the queue contract run by the system address; returns its output (the requests). */
async function systemCall(env: CallEnv, block: EVMBlock, to: Address): Promise<Uint8Array> {
  const { evm, state } = env
  if ((await state.getAccount(to)) === undefined) return new Uint8Array()
  const system = await state.getAccount(SYSTEM_ADDRESS)
  evm.journal.cleanJournal()
  const { execResult } = await evm.runCall({ block, caller: SYSTEM_ADDRESS, to, gasLimit: SYSTEM_CALL_GAS, skipNonceIncrement: true })
  // the system address is no account of its own: geth's call leaves it as it was
  if (system === undefined) await state.deleteAccount(SYSTEM_ADDRESS)
  else await state.putAccount(SYSTEM_ADDRESS, system)
  await evm.journal.cleanup()
  state.originalStorageCache.clear()
  return execResult.returnValue
}

/** A balance credit outside transactions (withdrawals, rewards); an account left empty goes (EIP-158). */
async function credit(env: CallEnv, address: Address, amount: bigint): Promise<void> {
  const account = (await env.state.getAccount(address)) ?? new Account()
  account.balance += amount
  await env.evm.journal.putAccount(address, account)
  await env.evm.journal.cleanup()
}

// ---------------------------------------------------------------- calls as transactions

/**
 * geth's sanitizeCall, CallDefaults, ToTransaction and ToMessage: a call's nonce defaults to the sender's, its gas to
 * what is left in the block (capped by what is left of the RPC gas cap), its fees to zero; it goes into the block as a
 * dynamic-fee transaction unless it names a gas price (or the block has no base fee), blobs or authorizations.
 */
async function prepareCall(run: SimulationRun, env: CallEnv, args: CallArgs, remaining: bigint): Promise<{ tx: SimulatedTransaction; msg: Message; gasCapped: boolean }> {
  const from = args.from ?? new Uint8Array(20)
  const nonce = args.nonce ?? (await env.state.getAccount(new Address(from)))?.nonce ?? 0n
  const requested = args.gas ?? remaining
  if (remaining < requested) {
    throw new SimulationError(SimulationErrorKind.BlockGasLimitReached, `block gas limit reached: remaining: ${remaining}, required: ${requested}`)
  }
  const gas = requested < run.budget ? requested : run.budget
  const msg = toMessage({ ...args, nonce, gas }, 0n, env.ctx.baseFee, env.common.chainId())
  msg.checkNonce = run.request.validation
  const legacy = args.gasPrice !== undefined || env.ctx.baseFee === undefined
  const signed = (args as Partial<SignedCall>).signed !== undefined ? (args as SignedCall) : undefined
  const tx: SimulatedTransaction = {
    type: signed?.type ?? (legacy ? 0 : args.authorizationList !== undefined ? 4 : args.blobVersionedHashes !== undefined ? 3 : 2),
    chainId: env.common.chainId(),
    nonce,
    gasLimit: gas,
    gasPrice: msg.gasPrice,
    maxPriorityFeePerGas: msg.gasTipCap,
    maxFeePerGas: msg.gasFeeCap,
    to: args.to,
    value: msg.value,
    data: msg.data,
    accessList: msg.accessList ?? [],
    maxFeePerBlobGas: msg.blobGasFeeCap ?? 0n,
    blobVersionedHashes: msg.blobHashes ?? [],
    authorizationList: msg.authorizations ?? [],
    from,
    hash: new Uint8Array(),
    ...(signed !== undefined ? { signed: signed.signed } : {}),
  }
  tx.hash = keccak_256(encodeTransaction(tx))
  return { tx, msg, gasCapped: gas < requested }
}

/** One call as a transaction of the block: geth's transition, kept in the state, its logs traced. */
async function applyCall(env: CallEnv, msg: Message, block: EVMBlock, tracer: TransferTracer): Promise<{ result: ExecutionResult; stateRoot: Uint8Array | undefined }> {
  const { evm, state } = env
  await evm.journal.cleanup()
  await evm.journal.checkpoint()
  tracer.attach(evm)
  try {
    const result = await transition(env, msg, block)
    // before Byzantium a receipt carries the state root after its transaction
    const stateRoot = env.common.gteHardfork(Hardfork.Byzantium) ? undefined : await state.getStateRoot()
    await evm.journal.commit()
    return { result, stateRoot }
  } catch (err) {
    await evm.journal.revert()
    throw err
  } finally {
    tracer.detach(evm)
    evm.journal.cleanJournal()
    state.originalStorageCache.clear()
  }
}

/** The transaction's fields in their RLP order, signature values zero. */
function transactionFields(tx: SimulatedTransaction): unknown[] {
  const q = bigIntToUnpaddedBytes
  const to = tx.to ?? new Uint8Array()
  const accessList = tx.accessList.map((e) => [e.address, e.storageKeys])
  const signature = [q(0n), q(0n), q(0n)]
  switch (tx.type) {
    case 0:
      return [q(tx.nonce), q(tx.gasPrice), q(tx.gasLimit), to, q(tx.value), tx.data, ...signature]
    case 1:
      return [q(tx.chainId), q(tx.nonce), q(tx.gasPrice), q(tx.gasLimit), to, q(tx.value), tx.data, accessList, ...signature]
    case 2:
      return [q(tx.chainId), q(tx.nonce), q(tx.maxPriorityFeePerGas), q(tx.maxFeePerGas), q(tx.gasLimit), to, q(tx.value), tx.data, accessList, ...signature]
    case 3:
      return [
        q(tx.chainId),
        q(tx.nonce),
        q(tx.maxPriorityFeePerGas),
        q(tx.maxFeePerGas),
        q(tx.gasLimit),
        to,
        q(tx.value),
        tx.data,
        accessList,
        q(tx.maxFeePerBlobGas),
        tx.blobVersionedHashes,
        ...signature,
      ]
    case 4: {
      const authorizations = tx.authorizationList.map((a) => [q(a.chainId), a.address, q(a.nonce), q(a.yParity), q(a.r), q(a.s)])
      return [q(tx.chainId), q(tx.nonce), q(tx.maxPriorityFeePerGas), q(tx.maxFeePerGas), q(tx.gasLimit), to, q(tx.value), tx.data, accessList, authorizations, ...signature]
    }
  }
}

/** The transaction's canonical encoding (what its hash and the transactions root cover). */
function encodeTransaction(tx: SimulatedTransaction): Uint8Array {
  if (tx.signed !== undefined) return tx.signed
  const payload = RLP.encode(transactionFields(tx) as never)
  return tx.type === 0 ? payload : concatBytes(Uint8Array.of(tx.type), payload)
}

/** The transaction as the block body carries it: a legacy one as a list, a typed one as its encoding. */
function blockTransaction(tx: SimulatedTransaction): unknown {
  if (tx.type !== 0) return encodeTransaction(tx)
  return tx.signed !== undefined ? RLP.decode(tx.signed) : transactionFields(tx)
}

function withdrawalFields(w: Withdrawal): unknown[] {
  const q = bigIntToUnpaddedBytes
  return [q(w.index), q(w.validatorIndex), w.address, q(w.amount)]
}

/** DeriveSha: the trie of the values keyed by their RLP-encoded index. */
async function orderedTrieRoot(values: Uint8Array[]): Promise<Uint8Array> {
  const trie = new MerklePatriciaTrie()
  for (const [i, value] of values.entries()) await trie.put(RLP.encode(i), value)
  return trie.root()
}

function logsBloom(logs: Log[], common: Common): Bloom {
  const bloom = new Bloom(undefined, common)
  for (const [address, topics] of logs) {
    bloom.add(address)
    for (const topic of topics) bloom.add(topic)
  }
  return bloom
}

// ---------------------------------------------------------------- logs, as geth's simulation tracer keeps them

interface Frame {
  logs: SimulatedLog[]
  caller: Address
  value: bigint
  /** a creation's transfer is logged once its address is known */
  creation: boolean
}

const LOG0 = 0xa0
const SELFDESTRUCT = 0xff

/**
 * geth's simulation tracer (internal/ethapi/logtracer.go): the logs of every call frame, dropped with a frame that
 * fails, numbered across the block as they happen (dropped ones included, as geth counts them); with traceTransfers,
 * every ETH transfer of a call, a creation or a self-destruct as an ERC-7528 Transfer log. Frames come from the EVM's
 * message events; LOGs and self-destructs from the opcodes of tracedOpcodes.
 */
class TransferTracer {
  private readonly traceTransfers: boolean
  private frames: Frame[] = []
  private result: SimulatedLog[] = []
  private count = 0
  private txHash: Uint8Array = new Uint8Array()
  private txIndex = 0

  constructor(traceTransfers: boolean) {
    this.traceTransfers = traceTransfers
  }

  /** Starts the logs of the next call. */
  reset(txHash: Uint8Array, txIndex: number): void {
    this.frames = []
    this.result = []
    this.txHash = txHash
    this.txIndex = txIndex
  }

  /** The logs of the call, empty when it failed. */
  logs(): SimulatedLog[] {
    return this.result
  }

  attach(evm: EVM): void {
    evm.events.on('beforeMessage', this.enter)
    evm.events.on('newContract', this.created)
    evm.events.on('afterMessage', this.exit)
  }

  detach(evm: EVM): void {
    evm.events.off('beforeMessage', this.enter)
    evm.events.off('newContract', this.created)
    evm.events.off('afterMessage', this.exit)
  }

  /** A LOG that happened; outside a traced call (system calls) there is no frame to keep it. */
  log(address: Uint8Array, topics: Uint8Array[], data: Uint8Array): void {
    if (this.frames.length > 0) this.record(address, topics, data)
  }

  /** A self-destruct about to move the contract's balance. */
  selfDestruct(contract: Uint8Array, beneficiary: Uint8Array, balance: bigint): void {
    if (this.frames.length > 0) this.transfer(contract, beneficiary, balance)
  }

  private readonly enter = (message: EVMMessage): void => {
    this.frames.push({ logs: [], caller: message.caller, value: message.value, creation: message.to === undefined })
    // DELEGATECALL and CALLCODE move no ETH to another account
    if (message.to !== undefined && !message.delegatecall && message._codeAddress === undefined) this.transfer(message.caller.bytes, message.to.bytes, message.value)
  }

  private readonly created = (event: { address: Address }): void => {
    const frame = this.frames[this.frames.length - 1]
    if (frame?.creation === true) this.transfer(frame.caller.bytes, event.address.bytes, frame.value)
  }

  private readonly exit = (result: EVMResult): void => {
    const failed = result.execResult.exceptionError !== undefined
    const frame = this.frames.pop()!
    if (this.frames.length === 0) this.result = failed ? [] : frame.logs
    else if (!failed) this.frames[this.frames.length - 1].logs.push(...frame.logs)
  }

  private transfer(from: Uint8Array, to: Uint8Array, value: bigint): void {
    if (!this.traceTransfers || value === 0n) return
    this.record(TRANSFER_ADDRESS, [TRANSFER_TOPIC, setLengthLeft(from, 32), setLengthLeft(to, 32)], setLengthLeft(bigIntToBytes(value), 32))
  }

  private record(address: Uint8Array, topics: Uint8Array[], data: Uint8Array): void {
    this.frames[this.frames.length - 1].logs.push({ address, topics, data, txHash: this.txHash, txIndex: this.txIndex, logIndex: this.count++ })
  }
}

type CustomOpcode = Extract<NonNullable<EVMOpts['customOpcodes']>[number], { logicFunction: unknown }>
type OpHandler = CustomOpcode['logicFunction']

/**
 * LOG0-4 and SELFDESTRUCT as the fork has them, reporting to the tracer: a LOG once it has happened (its gas paid, its
 * static-call check passed), a self-destruct with the balance it is about to move.
 */
function tracedOpcodes(common: Common, tracer: TransferTracer): CustomOpcode[] {
  // the opcodes' gas comes from the EVM's parameters, which the EVM itself would only load later
  common.updateParams(paramsEVM)
  const { opcodeMap } = getOpcodesForHF(common)
  const wrap = (code: number, logic: (original: OpHandler) => OpHandler): CustomOpcode => {
    const { opcodeInfo, opHandler, gasHandler } = opcodeMap[code]
    return { opcode: code, opcodeName: opcodeInfo.name, baseFee: opcodeInfo.fee, gasFunction: gasHandler, logicFunction: logic(opHandler) }
  }
  const logs = [0, 1, 2, 3, 4].map((topicCount) =>
    wrap(LOG0 + topicCount, (original) => async (runState, c) => {
      const [offset, size, ...topics] = runState.stack.peek(2 + topicCount)
      const data = size === 0n ? new Uint8Array() : runState.memory.read(Number(offset), Number(size))
      await original(runState, c)
      tracer.log(runState.interpreter.getAddress().bytes, topics.map((t) => setLengthLeft(bigIntToBytes(t), 32)), data)
    }),
  )
  const selfDestruct = wrap(SELFDESTRUCT, (original) => async (runState, c) => {
    const [beneficiary] = runState.stack.peek(1)
    const contract = runState.interpreter.getAddress()
    const balance = (await runState.stateManager.getAccount(contract))?.balance ?? 0n
    tracer.selfDestruct(contract.bytes, createAddressFromBigInt(beneficiary & ((1n << 160n) - 1n)).bytes, balance)
    return original(runState, c)
  })
  return [...logs, selfDestruct]
}
