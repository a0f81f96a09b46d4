/**
 * Calls against the state of a stored block, as geth's internal/ethapi answers eth_call, eth_estimateGas and
 * eth_createAccessList: the request's defaults (CallDefaults, ToMessage), state and block overrides, the state
 * transition with the checks an unsigned simulated message gets (core.ApplyMessage with SkipNonceChecks and
 * SkipTransactionChecks, vm.Config.NoBaseFee), the gas estimator's binary search, and geth's error strings.
 *
 * Every request runs on a state manager of its own over the trie store, opened at the block's state root; its writes
 * stay in its caches and are dropped with it, so the state the importer and the sealer use is never touched.
 */
import type { BlockHeader } from '@ethereumjs/block'
import { ConsensusAlgorithm } from '@ethereumjs/common'
import type { Common } from '@ethereumjs/common'
import { createEVM, getActivePrecompiles } from '@ethereumjs/evm'
import type { CustomPrecompile, EVM, EVMOpts, Log, PrecompileFunc } from '@ethereumjs/evm'
import type { MerkleStateManager } from '@ethereumjs/statemanager'
import {
  Account,
  Address,
  SECP256K1_ORDER,
  SECP256K1_ORDER_DIV_2,
  bigIntToUnpaddedBytes,
  bytesToHex,
  bytesToUnprefixedHex,
  concatBytes,
  createContractAddress,
  createZeroAddress,
  eoaCode7702RecoverAuthority,
  equalsBytes,
  setLengthLeft,
  toChecksumAddress,
} from '@ethereumjs/util'

import { ForkCommons } from '../config/forkCommons.ts'
import { SignerCache, recoverSigner } from '../consensus/clique/seal.ts'
import type { ChainDB } from '../db/chaindb.ts'
import { Lru } from '../db/lru.ts'
import { installCodeAnalysisCache } from './codeAnalysis.ts'
import type { AncestorHashes } from './executor.ts'
import { MemoStateManager, StateMemo } from './stateMemo.ts'

// ---------------------------------------------------------------- requests

/** geth's TransactionArgs, decoded: every field optional, as the caller sent it. */
export interface CallArgs {
  from?: Uint8Array
  to?: Uint8Array
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  nonce?: bigint
  data?: Uint8Array
  input?: Uint8Array
  accessList?: AccessListEntry[]
  chainId?: bigint
  maxFeePerBlobGas?: bigint
  blobVersionedHashes?: Uint8Array[]
  authorizationList?: Authorization[]
}

export interface AccessListEntry {
  address: Uint8Array
  storageKeys: Uint8Array[]
}

/** An EIP-7702 authorization tuple. */
export interface Authorization {
  chainId: bigint
  address: Uint8Array
  nonce: bigint
  yParity: bigint
  r: bigint
  s: bigint
}

/** geth's override.OverrideAccount. */
export interface AccountOverride {
  nonce?: bigint
  code?: Uint8Array
  balance?: bigint
  /** replaces the whole storage; slots as 0x hex */
  state?: Map<string, Uint8Array>
  /** changes single slots */
  stateDiff?: Map<string, Uint8Array>
  movePrecompileToAddress?: Uint8Array
}

/** geth's override.StateOverride, keyed by 0x-prefixed lower-case address. */
export type StateOverrides = Map<string, AccountOverride>

/** geth's override.BlockOverrides. */
export interface BlockOverrides {
  number?: bigint
  difficulty?: bigint
  time?: bigint
  gasLimit?: bigint
  feeRecipient?: Uint8Array
  prevRandao?: Uint8Array
  baseFeePerGas?: bigint
  blobBaseFee?: bigint
  beaconRoot?: Uint8Array
  withdrawals?: unknown[]
}

export interface CallOverrides {
  state?: StateOverrides
  block?: BlockOverrides
}

export interface AccessListResult {
  accessList: AccessListEntry[]
  gasUsed: bigint
  /** the EVM error of the last run (a revert, out of gas...), as geth words it */
  error?: string
}

/** What the RPC layer runs calls through; the chain provides it. */
export interface CallExecution {
  /** eth_call: the return data, or a RevertError / CallError. */
  call(header: BlockHeader, args: CallArgs, overrides?: CallOverrides): Promise<Uint8Array>
  /** eth_estimateGas: the lowest gas limit that lets the call succeed (geth's binary search). */
  estimateGas(header: BlockHeader, args: CallArgs, overrides?: CallOverrides): Promise<bigint>
  /** eth_createAccessList; `suggestTip` is the fee oracle's tip, for requests that set no fees. */
  createAccessList(header: BlockHeader, args: CallArgs, state: StateOverrides | undefined, suggestTip: () => Promise<bigint>): Promise<AccessListResult>
  /**
   * debug_traceCall: the call as eth_call makes it, with `attach` hooking a tracer onto its EVM (it returns the
   * detach); the tracer keeps its own timeout. Reports the gas limit and the gas used, as a receipt would.
   */
  traceCall(header: BlockHeader, args: CallArgs, overrides: CallOverrides, attach: (evm: EVM) => () => void): Promise<{ gasLimit: bigint; gasUsed: bigint }>
}

// ---------------------------------------------------------------- errors

/** A call geth refuses or cannot run; the message is geth's (JSON-RPC code -32000). */
export class CallError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CallError'
  }
}

/** The call reverted: geth answers code 3 with the revert data, and the decoded reason in the message. */
export class RevertError extends Error {
  readonly data: Uint8Array
  readonly reason: string | undefined

  constructor(data: Uint8Array) {
    const reason = unpackRevert(data)
    super(reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`)
    this.name = 'RevertError'
    this.data = data
    this.reason = reason
  }
}

/** The request ran past its time (geth's --rpc.evmtimeout). */
export class ExecutionAborted extends Error {}

/** Which of geth's core errors a refused message is, as geth's txValidationError tells them apart. */
export const TransitionErrorKind = {
  NonceTooHigh: 'nonceTooHigh',
  NonceTooLow: 'nonceTooLow',
  /** max fee per gas under the base fee */
  BaseFeeTooLow: 'baseFeeTooLow',
  IntrinsicGas: 'intrinsicGas',
  /** for gas * price + value, or for the value alone */
  InsufficientFunds: 'insufficientFunds',
  MaxInitCodeSizeExceeded: 'maxInitCodeSizeExceeded',
  /** max priority fee above max fee */
  InvalidParams: 'invalidParams',
  /** the rest: blob and EIP-7702 shapes, the calldata floor, the nonce at its maximum */
  Internal: 'internal',
} as const
export type TransitionErrorKind = (typeof TransitionErrorKind)[keyof typeof TransitionErrorKind]

/** A message the state transition refuses before running it (geth's consensus errors: core.ErrIntrinsicGas ...). */
export class TransitionError extends Error {
  readonly kind: TransitionErrorKind
  constructor(kind: TransitionErrorKind, message: string) {
    super(message)
    this.kind = kind
  }
}

const ERROR_SELECTOR = Uint8Array.of(0x08, 0xc3, 0x79, 0xa0) // Error(string)
const PANIC_SELECTOR = Uint8Array.of(0x4e, 0x48, 0x7b, 0x71) // Panic(uint256)

/** Solidity's panic codes, as geth's abi.panicReasons names them. */
const PANIC_REASONS = new Map<bigint, string>([
  [0x00n, 'generic panic'],
  [0x01n, 'assert(false)'],
  [0x11n, 'arithmetic underflow or overflow'],
  [0x12n, 'division or modulo by zero'],
  [0x21n, 'enum overflow'],
  [0x22n, 'invalid encoded storage byte array accessed'],
  [0x31n, 'out-of-bounds array access; popping on an empty array'],
  [0x32n, 'out-of-bounds access of an array or bytesN'],
  [0x41n, 'out of memory'],
  [0x51n, 'uninitialized function'],
])

const readWord = (data: Uint8Array, at: number): bigint | undefined =>
  at + 32 <= data.length ? BigInt(bytesToHex(data.subarray(at, at + 32))) : undefined

/**
 * geth's abi.UnpackRevert: the reason of an Error(string) or a Panic(uint256), undefined for anything else (custom
 * errors, empty or malformed data).
 */
export function unpackRevert(data: Uint8Array): string | undefined {
  if (data.length < 4) return undefined
  const selector = data.subarray(0, 4)
  const body = data.subarray(4)
  if (equalsBytes(selector, PANIC_SELECTOR)) {
    const code = readWord(body, 0)
    if (code === undefined) return undefined
    return PANIC_REASONS.get(code) ?? `unknown panic code: ${toHexQuantity(code)}`
  }
  if (!equalsBytes(selector, ERROR_SELECTOR)) return undefined
  const offset = readWord(body, 0)
  if (offset === undefined || offset > BigInt(body.length)) return undefined
  const length = readWord(body, Number(offset))
  const start = Number(offset) + 32
  if (length === undefined || BigInt(start) + length > BigInt(body.length)) return undefined
  return new TextDecoder().decode(body.subarray(start, start + Number(length)))
}

// ---------------------------------------------------------------- geth's protocol parameters

const TX_GAS = 21_000n
const TX_GAS_CONTRACT_CREATION = 53_000n
const TX_DATA_ZERO_GAS = 4n
const TX_DATA_NON_ZERO_GAS_FRONTIER = 68n
const TX_DATA_NON_ZERO_GAS_EIP2028 = 16n
const INIT_CODE_WORD_GAS = 2n
const TX_ACCESS_LIST_ADDRESS_GAS = 2_400n
const TX_ACCESS_LIST_STORAGE_KEY_GAS = 1_900n
const CALL_NEW_ACCOUNT_GAS = 25_000n
const TX_AUTH_TUPLE_GAS = 12_500n
const TX_COST_FLOOR_PER_TOKEN = 10n
const TX_TOKEN_PER_NON_ZERO_BYTE = 4n
const MAX_INIT_CODE_SIZE = 49_152
const CALL_STIPEND = 2_300n
/** EIP-7825's per-transaction cap (Osaka) */
const MAX_TX_GAS = 1n << 24n
const BLOB_GAS_PER_BLOB = 131_072n
/** EIP-7594's per-transaction blob limit (Osaka) */
const BLOB_TX_MAX_BLOBS = 6
const MAX_UINT64 = (1n << 64n) - 1n
const MAX_UINT256 = (1n << 256n) - 1n
/** geth's default --rpc.gascap */
export const DEFAULT_GAS_CAP = 50_000_000n
/** geth's --rpc.evmtimeout default */
export const DEFAULT_EVM_TIMEOUT_MS = 5_000
/** how long an execution runs before it lets the event loop serve others */
const YIELD_EVERY_MS = 20
/** geth's estimateGasErrorRatio: estimates may be up to 1.5% high, to save binary search rounds */
const ESTIMATE_ERROR_RATIO = 0.015

const DELEGATION_PREFIX = Uint8Array.of(0xef, 0x01, 0x00)

function delegationTarget(code: Uint8Array): Uint8Array | undefined {
  return code.length === 23 && equalsBytes(code.subarray(0, 3), DELEGATION_PREFIX) ? code.subarray(3) : undefined
}

const toHexQuantity = (n: bigint) => `0x${n.toString(16)}`
/** common.Address.Hex(): EIP-55 */
const checksummed = (a: Address | Uint8Array) => toChecksumAddress(bytesToHex(a instanceof Address ? a.bytes : a))

// ---------------------------------------------------------------- messages and block contexts

/** geth's core.Message for a simulated call. */
export interface Message {
  from: Address
  to: Address | undefined
  nonce: bigint
  /** false for calls (SkipNonceChecks); eth_simulateV1 checks nonces in validation mode */
  checkNonce: boolean
  value: bigint
  gasLimit: bigint
  gasPrice: bigint
  gasFeeCap: bigint
  gasTipCap: bigint
  data: Uint8Array
  accessList: AccessListEntry[] | undefined
  blobGasFeeCap: bigint | undefined
  blobHashes: Uint8Array[] | undefined
  authorizations: Authorization[] | undefined
}

/** geth's vm.BlockContext, with the author as coinbase (Clique: the signer). */
export interface BlockContext {
  number: bigint
  time: bigint
  coinbase: Address
  difficulty: bigint
  prevRandao: Uint8Array
  gasLimit: bigint
  baseFee: bigint | undefined
  blobBaseFee: bigint | undefined
}

/** The forks a transition asks about (geth's params.Rules). */
export interface Rules {
  homestead: boolean
  istanbul: boolean
  berlin: boolean
  london: boolean
  shanghai: boolean
  cancun: boolean
  prague: boolean
  osaka: boolean
}

export function rulesOf(common: Common): Rules {
  const is = (fork: string) => common.gteHardfork(fork)
  return {
    homestead: is('homestead'),
    istanbul: is('istanbul'),
    berlin: is('berlin'),
    london: is('london'),
    shanghai: common.isActivatedEIP(3860),
    cancun: common.isActivatedEIP(4844),
    prague: common.isActivatedEIP(7702),
    osaka: common.isActivatedEIP(7825),
  }
}

/**
 * core.NewEVMBlockContext: Clique's coinbase is the block's signer (geth's Engine().Author), recovered once per block
 * (`signers`: calls mostly run at the head, so the same header over and over).
 */
function blockContextOf(header: BlockHeader, common: Common, signers: SignerCache): BlockContext {
  let coinbase = header.coinbase
  if (common.consensusAlgorithm() === ConsensusAlgorithm.Clique) {
    try {
      coinbase = new Address(hexBytes(recoverSigner(header, signers)))
    } catch {
      // an unsealed header (the genesis): geth's Author fails and leaves the zero address
      coinbase = createZeroAddress()
    }
  }
  return {
    number: header.number,
    time: header.timestamp,
    coinbase,
    difficulty: header.difficulty,
    prevRandao: header.mixHash,
    gasLimit: header.gasLimit,
    baseFee: header.baseFeePerGas,
    blobBaseFee: header.excessBlobGas === undefined ? undefined : header.getBlobGasPrice(),
  }
}

/** BlockOverrides.Apply together with MakeHeader: the call sees the overridden values everywhere. */
function applyBlockOverrides(ctx: BlockContext, o: BlockOverrides | undefined): BlockContext {
  if (o === undefined) return ctx
  if (o.beaconRoot !== undefined) throw new CallError('block override "beaconRoot" is not supported for this RPC method')
  if (o.withdrawals !== undefined) throw new CallError('block override "withdrawals" is not supported for this RPC method')
  return {
    number: o.number ?? ctx.number,
    time: o.time ?? ctx.time,
    coinbase: o.feeRecipient !== undefined ? new Address(o.feeRecipient) : ctx.coinbase,
    difficulty: o.difficulty ?? ctx.difficulty,
    prevRandao: o.prevRandao ?? ctx.prevRandao,
    gasLimit: o.gasLimit ?? ctx.gasLimit,
    baseFee: o.baseFeePerGas ?? ctx.baseFee,
    blobBaseFee: o.blobBaseFee ?? ctx.blobBaseFee,
  }
}

/** TransactionArgs.CallDefaults then ToMessage(baseFee, skipNonceCheck=true). */
export function toMessage(args: CallArgs, gasCap: bigint, baseFee: bigint | undefined, chainId: bigint): Message {
  if (args.gasPrice !== undefined && (args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined)) {
    throw new CallError('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (args.chainId !== undefined && args.chainId !== chainId) {
    throw new CallError(`chainId does not match node's (have=${args.chainId}, want=${chainId})`)
  }
  let gasLimit = args.gas ?? (gasCap === 0n ? MAX_UINT64 / 2n : gasCap)
  if (gasCap > 0n && gasLimit > gasCap) gasLimit = gasCap

  let gasPrice: bigint
  let gasFeeCap: bigint
  let gasTipCap: bigint
  if (baseFee === undefined || args.gasPrice !== undefined) {
    gasPrice = args.gasPrice ?? 0n
    gasFeeCap = gasPrice
    gasTipCap = gasPrice
  } else {
    gasFeeCap = args.maxFeePerGas ?? 0n
    gasTipCap = args.maxPriorityFeePerGas ?? 0n
    // the legacy price the EVM sees; all zeroes stay zero so the base fee is not charged
    gasPrice = 0n
    if (gasFeeCap > 0n || gasTipCap > 0n) {
      gasPrice = gasTipCap + baseFee
      if (gasPrice > gasFeeCap) gasPrice = gasFeeCap
    }
  }
  return {
    from: new Address(args.from ?? new Uint8Array(20)),
    to: args.to === undefined ? undefined : new Address(args.to),
    nonce: args.nonce ?? 0n,
    checkNonce: false,
    value: args.value ?? 0n,
    gasLimit,
    gasPrice,
    gasFeeCap,
    gasTipCap,
    data: args.input ?? args.data ?? new Uint8Array(),
    accessList: args.accessList,
    blobGasFeeCap: args.maxFeePerBlobGas ?? (args.blobVersionedHashes !== undefined ? 0n : undefined),
    blobHashes: args.blobVersionedHashes,
    authorizations: args.authorizationList,
  }
}

// ---------------------------------------------------------------- the state transition

export interface ExecutionResult {
  /** gas used after refunds and the EIP-7623 floor */
  usedGas: bigint
  /** gas used before refunds (geth's MaxUsedGas) */
  maxUsedGas: bigint
  returnData: Uint8Array
  /** geth's vm error message; undefined when the call succeeded */
  error: string | undefined
  reverted: boolean
  /** the logs a receipt keeps: none when the call failed */
  logs: Log[]
}

/** ethereumjs EVM error names → geth's vm errors. */
const VM_ERRORS: Record<string, string> = {
  'out of gas': 'out of gas',
  'code store out of gas': 'contract creation code storage out of gas',
  'code size to deposit exceeds maximum code size': 'max code size exceeded',
  'invalid JUMP': 'invalid jump destination',
  'static state change': 'write protection',
  'create collision': 'contract address collision',
  'insufficient balance': 'insufficient balance for transfer',
  'invalid bytecode deployed': 'invalid code: must not begin with 0xef',
  'initcode exceeds max initcode size': 'max initcode size exceeded',
  'value out of range': 'return data out of bounds',
  revert: 'execution reverted',
}

/**
 * geth's words for an EVM error; an invalid opcode is named as ErrInvalidOpCode names it (the top frame's: an inner
 * frame's failure only fails its CALL).
 */
function vmErrorMessage(error: string, opCode: number | undefined): string {
  if (error === 'invalid opcode' && opCode !== undefined) return `invalid opcode: ${opCode === 0xfe ? 'INVALID' : `opcode 0x${opCode.toString(16)} not defined`}`
  return VM_ERRORS[error] ?? error
}

const dataTokens = (data: Uint8Array): { zeros: bigint; nonZeros: bigint } => {
  let zeros = 0n
  for (const b of data) if (b === 0) zeros++
  return { zeros, nonZeros: BigInt(data.length) - zeros }
}

/** core.IntrinsicGas (before Amsterdam). */
function intrinsicGas(msg: Message, rules: Rules): bigint {
  let gas = msg.to === undefined && rules.homestead ? TX_GAS_CONTRACT_CREATION : TX_GAS
  if (msg.authorizations !== undefined) gas += BigInt(msg.authorizations.length) * CALL_NEW_ACCOUNT_GAS
  if (msg.data.length > 0) {
    const { zeros, nonZeros } = dataTokens(msg.data)
    gas += nonZeros * (rules.istanbul ? TX_DATA_NON_ZERO_GAS_EIP2028 : TX_DATA_NON_ZERO_GAS_FRONTIER) + zeros * TX_DATA_ZERO_GAS
    if (msg.to === undefined && rules.shanghai) gas += BigInt(Math.ceil(msg.data.length / 32)) * INIT_CODE_WORD_GAS
  }
  for (const entry of msg.accessList ?? []) gas += TX_ACCESS_LIST_ADDRESS_GAS + BigInt(entry.storageKeys.length) * TX_ACCESS_LIST_STORAGE_KEY_GAS
  return gas
}

/** core.FloorDataGas (EIP-7623). */
function floorDataGas(msg: Message): bigint {
  const { zeros, nonZeros } = dataTokens(msg.data)
  return TX_GAS + (zeros + nonZeros * TX_TOKEN_PER_NON_ZERO_BYTE) * TX_COST_FLOOR_PER_TOKEN
}

/** Everything one request's executions share: its own EVM and state manager, at the block (and overrides) asked for. */
export interface CallEnv {
  evm: EVM
  state: MerkleStateManager
  common: Common
  rules: Rules
  ctx: BlockContext
  /** the precompile addresses warm in every transaction (geth: vm.ActivePrecompiles(rules), overrides aside) */
  precompiles: string[]
  /** geth's vm.Config.NoBaseFee: messages without fees skip the fee checks and pay nothing (calls; simulations without validation) */
  noBaseFee: boolean
}

/** The block as the EVM reads it. */
export type EVMBlock = ReturnType<typeof evmBlock>

/** The EVM's block: the overridden context, with the base fees a zero-priced message sees. */
function evmBlock(ctx: BlockContext, msg: Message) {
  const baseFee = msg.gasPrice === 0n ? 0n : ctx.baseFee
  const blobBaseFee = msg.blobGasFeeCap === 0n ? 0n : ctx.blobBaseFee
  return {
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
}

/**
 * core.ApplyMessage for a simulated message, on a checkpoint that is reverted afterwards: the state is the same for
 * the next run. `tracer` sees every EVM step (eth_createAccessList). Throws TransitionError for messages geth refuses.
 */
async function applyMessage(env: CallEnv, msg: Message, tracer?: StepTracer): Promise<ExecutionResult> {
  const { evm, state } = env
  evm.journal.cleanJournal()
  await evm.journal.checkpoint()
  if (tracer !== undefined) evm.events.on('step', tracer.step)
  try {
    return await transition(env, msg)
  } finally {
    if (tracer !== undefined) evm.events.off('step', tracer.step)
    await evm.journal.revert()
    state.originalStorageCache.clear()
  }
}

/**
 * core.ApplyMessage on the env's state, without a checkpoint of its own: geth's preCheck (never the EOA check, the
 * nonce only when the message asks), gas bought and refunded, the fee paid to the coinbase, self-destructed and touched
 * empty accounts removed. `block` is what the EVM reads: calls see zero base fees when they pay none, as geth's
 * doCall arranges. Throws TransitionError for messages geth refuses.
 */
export async function transition(env: CallEnv, msg: Message, block: EVMBlock = evmBlock(env.ctx, msg)): Promise<ExecutionResult> {
  const { evm, state, rules } = env
  const baseFee = block.header.baseFeePerGas
  const blobBaseFee = block.header.getBlobGasPrice()
  // only refusals print the sender, and its EIP-55 form costs a (pure-JS) keccak: made when a message is built
  const from = { toString: () => checksummed(msg.from) }
  const refuse = (kind: TransitionErrorKind, message: string) => new TransitionError(kind, message)
  const { Internal, InsufficientFunds } = TransitionErrorKind

  const sender = (await state.getAccount(msg.from)) ?? new Account()
  if (msg.checkNonce) {
    if (sender.nonce < msg.nonce) throw refuse(TransitionErrorKind.NonceTooHigh, `nonce too high: address ${from}, tx: ${msg.nonce} state: ${sender.nonce}`)
    if (sender.nonce > msg.nonce) throw refuse(TransitionErrorKind.NonceTooLow, `nonce too low: address ${from}, tx: ${msg.nonce} state: ${sender.nonce}`)
    if (sender.nonce === MAX_UINT64) throw refuse(Internal, `nonce has max value: address ${from}, nonce: ${sender.nonce}`)
  }
  // NoBaseFee: zero fees skip the fee checks
  const feeless = env.noBaseFee && msg.gasFeeCap === 0n && msg.gasTipCap === 0n
  if (rules.london && !feeless) {
    if (msg.gasFeeCap < msg.gasTipCap) {
      throw refuse(TransitionErrorKind.InvalidParams, `max priority fee per gas higher than max fee per gas: address ${from}, maxPriorityFeePerGas: ${msg.gasTipCap}, maxFeePerGas: ${msg.gasFeeCap}`)
    }
    if (msg.gasFeeCap < (baseFee ?? 0n)) {
      throw refuse(TransitionErrorKind.BaseFeeTooLow, `max fee per gas less than block base fee: address ${from}, maxFeePerGas: ${msg.gasFeeCap}, baseFee: ${baseFee}`)
    }
  }
  if (msg.blobHashes !== undefined) {
    if (msg.to === undefined) throw refuse(Internal, 'blob transaction of type create')
    if (msg.blobHashes.length === 0) throw refuse(Internal, 'blob transaction missing blob hashes')
    if (rules.osaka && msg.blobHashes.length > BLOB_TX_MAX_BLOBS) throw refuse(Internal, 'blob transaction has too many blobs')
    msg.blobHashes.forEach((h, i) => {
      if (h.length !== 32 || h[0] !== 0x01) throw refuse(Internal, `blob ${i} has invalid hash version`)
    })
  }
  const blobGas = rules.cancun ? BigInt(msg.blobHashes?.length ?? 0) * BLOB_GAS_PER_BLOB : 0n
  if (blobGas > 0n && !(env.noBaseFee && msg.blobGasFeeCap === 0n) && msg.blobGasFeeCap! < (blobBaseFee ?? 0n)) {
    throw refuse(Internal, `max fee per blob gas less than block blob gas fee: address ${from} blobGasFeeCap: ${msg.blobGasFeeCap}, blobBaseFee: ${blobBaseFee}`)
  }
  if (msg.authorizations !== undefined) {
    if (msg.to === undefined) throw refuse(Internal, `EIP-7702 transaction cannot be used to create contract (sender ${from})`)
    if (msg.authorizations.length === 0) throw refuse(Internal, `EIP-7702 transaction with empty auth list (sender ${from})`)
  }
  if (msg.to === undefined && rules.shanghai && msg.data.length > MAX_INIT_CODE_SIZE) {
    throw refuse(TransitionErrorKind.MaxInitCodeSizeExceeded, `max initcode size exceeded: code size ${msg.data.length} limit ${MAX_INIT_CODE_SIZE}`)
  }

  // buyGas: the sender must afford gas * feeCap + value (+ blob gas), and pays gas * price up front
  const blobCap = blobGas * (msg.blobGasFeeCap ?? 0n)
  const required = msg.gasLimit * msg.gasFeeCap + msg.value + blobCap
  if (msg.gasLimit * msg.gasPrice > MAX_UINT256 || required > MAX_UINT256) {
    throw refuse(InsufficientFunds, `insufficient funds for gas * price + value: address ${from} required balance exceeds 256 bits`)
  }
  if (sender.balance < required) {
    throw refuse(InsufficientFunds, `insufficient funds for gas * price + value: address ${from} have ${sender.balance} want ${required}`)
  }
  sender.balance -= msg.gasLimit * msg.gasPrice + blobGas * (blobBaseFee ?? 0n)

  const intrinsic = intrinsicGas(msg, rules)
  if (msg.gasLimit < intrinsic) throw refuse(TransitionErrorKind.IntrinsicGas, `intrinsic gas too low: have ${msg.gasLimit}, want ${intrinsic}`)
  const floor = rules.prague ? floorDataGas(msg) : 0n
  if (msg.gasLimit < floor) throw refuse(Internal, `insufficient gas for floor data gas cost: have ${msg.gasLimit}, want ${floor}`)
  if (msg.value > 0n && sender.balance < msg.value) throw refuse(InsufficientFunds, `insufficient funds for transfer: address ${from}`)

  // Prepare: the warm set of EIP-2929/3651 and the access list
  if (rules.berlin) {
    const warm = (a: Uint8Array) => evm.journal.addAlwaysWarmAddress(bytesToUnprefixedHex(a), true)
    warm(msg.from.bytes)
    if (rules.shanghai) warm(block.header.coinbase.bytes)
    if (msg.to !== undefined) warm(msg.to.bytes)
    for (const p of env.precompiles) evm.journal.addAlwaysWarmAddress(p)
    for (const { address, storageKeys } of msg.accessList ?? []) {
      warm(address)
      for (const key of storageKeys) evm.journal.addAlwaysWarmSlot(bytesToUnprefixedHex(address), bytesToUnprefixedHex(key), true)
    }
  }

  // the nonce goes up before the top frame (a creation's address is derived from the nonce before it); a uint64 wraps
  sender.nonce = (sender.nonce + 1n) & MAX_UINT64
  await evm.journal.putAccount(msg.from, sender)
  let authRefund = 0n
  if (msg.to !== undefined && rules.prague) {
    authRefund = await applyAuthorizations(env, msg.authorizations ?? [])
    const target = delegationTarget(await state.getCode(msg.to))
    if (target !== undefined) evm.journal.addAlwaysWarmAddress(bytesToUnprefixedHex(target))
  }

  const { execResult } = await evm.runCall({
    block,
    gasPrice: msg.gasPrice,
    caller: msg.from,
    origin: msg.from,
    to: msg.to,
    value: msg.value,
    data: msg.data,
    gasLimit: msg.gasLimit - intrinsic,
    blobVersionedHashes: msg.blobHashes?.map((h) => bytesToHex(h)),
    skipNonceIncrement: true,
  })

  // settle: EIP-3529 caps the refund, EIP-7623 puts a floor under the result
  const usedBeforeRefund = intrinsic + execResult.executionGasUsed
  const quotient = rules.london ? 5n : 2n
  let refund = authRefund + (execResult.gasRefund ?? 0n)
  if (refund > usedBeforeRefund / quotient) refund = usedBeforeRefund / quotient
  let usedGas = usedBeforeRefund - refund
  let maxUsedGas = usedBeforeRefund
  if (rules.prague && usedGas < floor) {
    usedGas = floor
    if (maxUsedGas < floor) maxUsedGas = floor
  }
  const payer = (await state.getAccount(msg.from)) ?? new Account()
  payer.balance += (msg.gasLimit - usedGas) * msg.gasPrice
  await evm.journal.putAccount(msg.from, payer)
  // with NoBaseFee and no fees nothing is paid, and the coinbase is not even touched
  if (!feeless) {
    const coinbase = (await state.getAccount(block.header.coinbase)) ?? new Account()
    coinbase.balance += usedGas * (rules.london ? msg.gasPrice - (baseFee ?? 0n) : msg.gasPrice)
    await evm.journal.putAccount(block.header.coinbase, coinbase)
  }
  for (const address of execResult.selfdestruct?.keys() ?? []) {
    // EIP-6780: only a contract created in the same transaction goes
    if (env.common.isActivatedEIP(6780) && !(execResult.createdAddresses?.has(address) ?? false)) continue
    await evm.journal.deleteAccount(new Address(hexBytes(address)))
  }
  // touched accounts left empty go (EIP-158)
  await evm.journal.cleanup()
  const vmError = execResult.exceptionError?.error
  return {
    usedGas,
    maxUsedGas,
    returnData: execResult.returnValue,
    error: vmError === undefined ? undefined : vmErrorMessage(vmError, execResult.runState?.opCode),
    reverted: vmError === 'revert',
    logs: execResult.logs ?? [],
  }
}

/** stateTransition.applyAuthorizations before Amsterdam: invalid tuples are skipped; returns the refund earned. */
async function applyAuthorizations(env: CallEnv, authorizations: Authorization[]): Promise<bigint> {
  const { evm, state, common } = env
  let refund = 0n
  for (const auth of authorizations) {
    if (auth.chainId !== 0n && auth.chainId !== common.chainId()) continue
    if (auth.nonce >= MAX_UINT64) continue
    const authority = recoverAuthority(auth)
    if (authority === undefined) continue
    evm.journal.addAlwaysWarmAddress(bytesToUnprefixedHex(authority.bytes))
    const code = await state.getCode(authority)
    const current = delegationTarget(code)
    if (code.length > 0 && current === undefined) continue
    const existing = await state.getAccount(authority)
    if ((existing?.nonce ?? 0n) !== auth.nonce) continue
    if (existing !== undefined) refund += CALL_NEW_ACCOUNT_GAS - TX_AUTH_TUPLE_GAS
    const account = existing ?? new Account()
    account.nonce = auth.nonce + 1n
    await evm.journal.putAccount(authority, account)
    if (auth.address.every((b) => b === 0)) {
      if (current !== undefined) await state.putCode(authority, new Uint8Array())
    } else if (current === undefined || !equalsBytes(current, auth.address)) {
      await state.putCode(authority, concatBytes(DELEGATION_PREFIX, auth.address))
    }
  }
  return refund
}

/** SetCodeAuthorization.Authority: signature values as crypto.ValidateSignatureValues(homestead) wants them. */
function recoverAuthority(auth: Authorization): Address | undefined {
  if (auth.yParity > 1n || auth.r < 1n || auth.s < 1n || auth.r >= SECP256K1_ORDER || auth.s > SECP256K1_ORDER_DIV_2) return undefined
  try {
    return eoaCode7702RecoverAuthority([
      bigIntToUnpaddedBytes(auth.chainId),
      auth.address,
      bigIntToUnpaddedBytes(auth.nonce),
      bigIntToUnpaddedBytes(auth.yParity),
      bigIntToUnpaddedBytes(auth.r),
      bigIntToUnpaddedBytes(auth.s),
    ])
  } catch {
    return undefined
  }
}

// ---------------------------------------------------------------- access lists

/** logger.AccessListTracer: the addresses and slots a run touches, less the ones every transaction has warm. */
interface StepTracer {
  step: (step: { opcode: { name: string }; stack: bigint[]; address: Address }) => void
}

class AccessListTracer implements StepTracer {
  readonly list = new Map<string, Set<string>>()
  private readonly excluded: Set<string>

  constructor(initial: AccessListEntry[], excluded: Set<string>) {
    this.excluded = excluded
    for (const { address, storageKeys } of initial) {
      const hex = bytesToHex(address)
      if (excluded.has(hex)) continue
      this.addAddress(hex)
      for (const key of storageKeys) this.addSlot(hex, bytesToHex(key))
    }
  }

  private addAddress(address: string): void {
    if (!this.excluded.has(address) && !this.list.has(address)) this.list.set(address, new Set())
  }

  private addSlot(address: string, slot: string): void {
    if (!this.list.has(address)) this.list.set(address, new Set())
    this.list.get(address)!.add(slot)
  }

  readonly step = (step: { opcode: { name: string }; stack: bigint[]; address: Address }): void => {
    const { stack } = step
    const top = (n: number) => stack[stack.length - 1 - n]
    const addressAt = (n: number) => bytesToHex(setLengthLeft(bigIntToUnpaddedBytes(top(n) & ((1n << 160n) - 1n)), 20))
    switch (step.opcode.name) {
      case 'SLOAD':
      case 'SSTORE':
        if (stack.length >= 1) this.addSlot(step.address.toString(), bytesToHex(setLengthLeft(bigIntToUnpaddedBytes(top(0)), 32)))
        break
      case 'EXTCODECOPY':
      case 'EXTCODEHASH':
      case 'EXTCODESIZE':
      case 'BALANCE':
      case 'SELFDESTRUCT':
        if (stack.length >= 1) this.addAddress(addressAt(0))
        break
      case 'DELEGATECALL':
      case 'CALL':
      case 'STATICCALL':
      case 'CALLCODE':
        if (stack.length >= 5) this.addAddress(addressAt(1))
        break
    }
  }

  /** addresses and slots in order, as geth sorts them */
  entries(): AccessListEntry[] {
    return [...this.list.keys()].sort().map((address) => ({
      address: hexBytes(address),
      storageKeys: [...this.list.get(address)!].sort().map(hexBytes),
    }))
  }

  equals(other: AccessListTracer): boolean {
    if (this.list.size !== other.list.size) return false
    for (const [address, slots] of this.list) {
      const theirs = other.list.get(address)
      if (theirs === undefined || theirs.size !== slots.size) return false
      for (const slot of slots) if (!theirs.has(slot)) return false
    }
    return true
  }
}

const hexBytes = (hex: string) => Uint8Array.from(Buffer.from(hex.slice(2), 'hex'))

// ---------------------------------------------------------------- the executor

type CustomOpcode = NonNullable<EVMOpts['customOpcodes']>[number]

/**
 * JUMPDEST as usual (1 gas, no effect), plus the clock: every loop passes a JUMPDEST, so this is where a request
 * past its deadline is aborted, as geth cancels its EVM, and where a long run lets the event loop serve others.
 */
export function jumpdestWithDeadline(deadline: number): CustomOpcode {
  return jumpdestWithClock({ deadline, lastYield: Date.now() })
}

/** A request's clock; an EVM kept between requests gets its clock reset for each. */
interface RequestClock {
  deadline: number
  lastYield: number
}

function jumpdestWithClock(clock: RequestClock): CustomOpcode {
  return {
    opcode: 0x5b,
    opcodeName: 'JUMPDEST',
    baseFee: 1,
    logicFunction: async () => {
      const now = Date.now()
      if (now > clock.deadline) throw new ExecutionAborted()
      if (now - clock.lastYield > YIELD_EVERY_MS) {
        await new Promise((resolve) => setImmediate(resolve))
        clock.lastYield = Date.now()
      }
    },
  }
}

/** An env kept for later requests at the same block (see CallExecutor.lease). */
interface IdleEnv {
  env: CallEnv
  clock: RequestClock
  uses: number
}

/**
 * Bounds of the kept envs: the blocks they are at (calls go to the head, which moves each period), envs per block
 * (concurrent requests each need their own), and the requests one env serves before it is dropped: its state caches
 * keep what earlier requests read, which bounds their growth.
 */
/** call arguments as a cache key: bytes as hex, numbers as decimal text */
const jsonKey = (_key: string, value: unknown) => (value instanceof Uint8Array ? bytesToHex(value) : typeof value === 'bigint' ? value.toString() : value)
const MAX_KEPT_ANSWER_BYTES = 16 * 1024

const IDLE_ENV_BLOCKS = 4
const IDLE_ENVS_PER_BLOCK = 8
const ENV_MAX_USES = 1_000

/** Go's time.Duration, as geth prints the timeout */
export const goDuration = (ms: number) => (ms < 1000 ? `${ms}ms` : `${ms / 1000}s`)

export interface CallExecutorOptions {
  common: Common
  db: ChainDB
  /** BLOCKHASH for a call at `header`: the hashes of its ancestors */
  ancestors: (header: BlockHeader) => AncestorHashes
  /** geth's --rpc.gascap: the most gas a call may use (0: no cap) */
  gasCap?: bigint
  /** geth's --rpc.evmtimeout: how long one request may execute */
  evmTimeoutMs?: number
  /** committed state shared with the chain's other readers; default: one of the executor's own */
  memo?: StateMemo
}

export class CallExecutor implements CallExecution {
  private readonly common: Common
  private readonly db: ChainDB
  private readonly ancestors: (header: BlockHeader) => AncestorHashes
  private readonly forks: ForkCommons
  private readonly memo: StateMemo
  /** Clique signers of the blocks calls ran at, by block hash (256: the head and what callers pin) */
  private readonly signers = new SignerCache(256)
  /**
   * eth_call answers by block hash and arguments, running or done: clients that poll the same view function (a balance,
   * a price) at the head share one execution per block. 1,024 answers of at most 16 KB each.
   */
  private readonly answers = new Lru<string, Promise<Uint8Array>>({ maxEntries: 1024 })
  /** by block hash; envs without overrides, idle between requests */
  private readonly idle = new Lru<string, IdleEnv[]>({ maxEntries: IDLE_ENV_BLOCKS })
  readonly gasCap: bigint
  readonly evmTimeoutMs: number

  constructor(opts: CallExecutorOptions) {
    this.common = opts.common
    this.forks = new ForkCommons(opts.common)
    this.memo = opts.memo ?? new StateMemo()
    this.db = opts.db
    this.ancestors = opts.ancestors
    this.gasCap = opts.gasCap ?? DEFAULT_GAS_CAP
    this.evmTimeoutMs = opts.evmTimeoutMs ?? DEFAULT_EVM_TIMEOUT_MS
  }

  /** Runs one request; past its deadline it fails as geth's: "execution aborted (timeout = 5s)". */
  private async timed<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run()
    } catch (err) {
      if (err instanceof ExecutionAborted) throw new CallError(`execution aborted (timeout = ${goDuration(this.evmTimeoutMs)})`)
      throw err
    }
  }

  call(header: BlockHeader, args: CallArgs, overrides: CallOverrides = {}): Promise<Uint8Array> {
    if (overrides.state !== undefined || overrides.block !== undefined) return this.timed(() => this.runCall(header, args, overrides))
    // a call without overrides is a function of the block (its hash fixes state, context and ancestors) and the args
    const key = `${bytesToHex(header.hash())}:${JSON.stringify(args, jsonKey)}`
    let answer = this.answers.get(key)
    if (answer === undefined) {
      const running = this.timed(() => this.runCall(header, args, overrides))
      this.answers.set(key, running)
      // failures are not kept (a timeout depends on the machine's load); nor are large results
      running.then(
        (data) => data.length > MAX_KEPT_ANSWER_BYTES && this.answers.delete(key),
        () => this.answers.delete(key),
      )
      answer = running
    }
    return answer.then((data) => data.slice())
  }

  /** geth's DoEstimateGas and gasestimator.Estimate. */
  estimateGas(header: BlockHeader, args: CallArgs, overrides: CallOverrides = {}): Promise<bigint> {
    return this.timed(() => this.estimate(header, args, overrides))
  }

  /** geth's AccessList: runs until the list the run touches is the list it ran with. */
  createAccessList(header: BlockHeader, args: CallArgs, stateOverrides: StateOverrides | undefined, suggestTip: () => Promise<bigint>): Promise<AccessListResult> {
    return this.timed(() => this.accessList(header, args, stateOverrides, suggestTip))
  }

  async traceCall(header: BlockHeader, args: CallArgs, overrides: CallOverrides, attach: (evm: EVM) => () => void): Promise<{ gasLimit: bigint; gasUsed: bigint }> {
    const env = await this.prepare(header, overrides, Infinity)
    const msg = toMessage(args, this.gasCap, env.ctx.baseFee, this.common.chainId())
    const detach = attach(env.evm)
    try {
      return { gasLimit: msg.gasLimit, gasUsed: (await applyMessage(env, msg)).usedGas }
    } catch (err) {
      if (err instanceof TransitionError) throw new CallError(`tracing failed: ${err.message}`)
      throw err
    } finally {
      detach()
    }
  }

  private async runCall(header: BlockHeader, args: CallArgs, overrides: CallOverrides): Promise<Uint8Array> {
    const lease = await this.lease(header, overrides)
    const msg = toMessage(args, this.gasCap, lease.env.ctx.baseFee, this.common.chainId())
    let result: ExecutionResult
    try {
      result = await applyMessage(lease.env, msg)
    } catch (err) {
      if (err instanceof TransitionError) throw new CallError(`err: ${err.message} (supplied gas ${msg.gasLimit})`)
      throw err
    }
    lease.release()
    if (result.reverted) throw new RevertError(result.returnData)
    if (result.error !== undefined) throw new CallError(result.error)
    return result.returnData
  }

  private async estimate(header: BlockHeader, args: CallArgs, overrides: CallOverrides): Promise<bigint> {
    const lease = await this.lease(header, overrides)
    const hi = await this.search(lease.env, args)
    lease.release()
    return hi
  }

  /** The estimator's search on `env`. */
  private async search(env: CallEnv, args: CallArgs): Promise<bigint> {
    const msg = toMessage({ ...args, gas: args.gas ?? 0n }, this.gasCap, env.ctx.baseFee, this.common.chainId())

    let hi = msg.gasLimit >= TX_GAS ? msg.gasLimit : env.ctx.gasLimit
    if (hi > MAX_TX_GAS && env.rules.osaka) hi = MAX_TX_GAS
    const feeCap = msg.gasFeeCap
    if (feeCap > 0n) {
      let available = (await env.state.getAccount(msg.from))?.balance ?? 0n
      if (msg.value >= available) throw new CallError('insufficient funds for transfer')
      available -= msg.value
      if (env.rules.cancun && msg.blobHashes !== undefined && msg.blobHashes.length > 0) {
        const blobCost = BigInt(msg.blobHashes.length) * BLOB_GAS_PER_BLOB * (msg.blobGasFeeCap ?? 0n)
        if (blobCost >= available) throw new CallError('insufficient funds for gas * price + value')
        available -= blobCost
      }
      const allowance = available / feeCap
      if (allowance <= MAX_UINT64 && hi > allowance) hi = allowance
    }
    if (this.gasCap !== 0n && hi > this.gasCap) hi = this.gasCap

    /** gasestimator.execute: true when the run fails in a way more gas might fix */
    const execute = async (gasLimit: bigint): Promise<{ failed: boolean; result?: ExecutionResult }> => {
      try {
        const result = await applyMessage(env, { ...msg, gasLimit })
        return { failed: result.error !== undefined, result }
      } catch (err) {
        if (err instanceof TransitionError) {
          if (err.kind === TransitionErrorKind.IntrinsicGas) return { failed: true }
          throw new CallError(`failed with ${gasLimit} gas: ${err.message}`)
        }
        throw err
      }
    }

    // a plain transfer is tried at 21000 first, but still executed (access lists and the like can cost more)
    if (msg.data.length === 0 && msg.to !== undefined && (await env.state.getCode(msg.to)).length === 0) {
      if (!(await execute(TX_GAS)).failed) return TX_GAS
    }
    const first = await execute(hi)
    if (first.failed) {
      const result = first.result
      if (result !== undefined && result.error !== 'out of gas') {
        if (result.reverted) throw new RevertError(result.returnData)
        throw new CallError(result.error!)
      }
      throw new CallError(`gas required exceeds allowance (${hi})`)
    }
    let lo = first.result!.usedGas - 1n
    // most calls succeed with what they used plus the stipend, give or take the 63/64 rule
    const optimistic = ((first.result!.maxUsedGas + CALL_STIPEND) * 64n) / 63n
    if (optimistic < hi) {
      if ((await execute(optimistic)).failed) lo = optimistic
      else hi = optimistic
    }
    while (lo + 1n < hi) {
      if (Number(hi - lo) / Number(hi) < ESTIMATE_ERROR_RATIO) break
      let mid = lo + (hi - lo) / 2n
      // skewed low: most calls need little more than they use
      if (mid > lo * 2n) mid = lo * 2n
      if ((await execute(mid)).failed) lo = mid
      else hi = mid
    }
    return hi
  }

  private async accessList(header: BlockHeader, args: CallArgs, stateOverrides: StateOverrides | undefined, suggestTip: () => Promise<bigint>): Promise<AccessListResult> {
    const env = await this.prepare(header, { state: stateOverrides })
    const request = await this.withFeeDefaults(args, header, env, suggestTip)
    const msg = toMessage(request, this.gasCap, env.ctx.baseFee, this.common.chainId())
    const nonce = request.nonce!
    const to = msg.to?.toString() ?? createContractAddress(msg.from, nonce).toString()
    const excluded = new Set([msg.from.toString(), to, ...env.precompiles.map((p) => `0x${p}`)])
    if (msg.authorizations !== undefined && BigInt(msg.authorizations.length) > msg.gasLimit / CALL_NEW_ACCOUNT_GAS) {
      throw new CallError('insufficient gas to process all authorizations')
    }
    for (const auth of msg.authorizations ?? []) {
      if ((auth.chainId !== 0n && auth.chainId !== this.common.chainId()) || auth.nonce >= MAX_UINT64) continue
      const authority = recoverAuthority(auth)
      if (authority !== undefined) excluded.add(authority.toString())
    }
    let previous = new AccessListTracer(msg.accessList ?? [], excluded)
    for (;;) {
      const accessList = previous.entries()
      const tracer = new AccessListTracer(accessList, excluded)
      let result: ExecutionResult
      try {
        result = await applyMessage(env, { ...msg, accessList }, tracer)
      } catch (err) {
        if (err instanceof TransitionError) throw new CallError(`failed to apply transaction: ${err.message}`)
        throw err
      }
      if (tracer.equals(previous)) return { accessList, gasUsed: result.usedGas, error: result.error }
      previous = tracer
    }
  }

  /** TransactionArgs.setFeeDefaults and the nonce from state, as geth's AccessList does before CallDefaults. */
  private async withFeeDefaults(args: CallArgs, header: BlockHeader, env: CallEnv, suggestTip: () => Promise<bigint>): Promise<CallArgs> {
    const out: CallArgs = { ...args }
    if (out.maxFeePerBlobGas === 0n) throw new CallError('maxFeePerBlobGas, if specified, must be non-zero')
    if (env.rules.cancun && out.blobVersionedHashes !== undefined && out.maxFeePerBlobGas === undefined) {
      out.maxFeePerBlobGas = (header.excessBlobGas === undefined ? 0n : header.getBlobGasPrice()) * 2n
    }
    if (out.gasPrice !== undefined && (out.maxFeePerGas !== undefined || out.maxPriorityFeePerGas !== undefined)) {
      throw new CallError('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
    }
    if (out.gasPrice !== undefined && out.authorizationList !== undefined) throw new CallError('both gasPrice and authorizationList specified')
    const london = header.baseFeePerGas !== undefined
    if (out.gasPrice === undefined && out.maxFeePerGas !== undefined && out.maxPriorityFeePerGas !== undefined) {
      if (out.maxFeePerGas === 0n) throw new CallError('maxFeePerGas must be non-zero')
      if (out.maxFeePerGas < out.maxPriorityFeePerGas) throw new CallError(`maxFeePerGas (${out.maxFeePerGas}) < maxPriorityFeePerGas (${out.maxPriorityFeePerGas})`)
    } else if (out.gasPrice !== undefined) {
      if (out.gasPrice === 0n && london) throw new CallError('gasPrice must be non-zero after london fork')
    } else if (london) {
      out.maxPriorityFeePerGas ??= await suggestTip()
      out.maxFeePerGas ??= out.maxPriorityFeePerGas + header.baseFeePerGas! * 2n
      if (out.maxFeePerGas < out.maxPriorityFeePerGas) throw new CallError(`maxFeePerGas (${out.maxFeePerGas}) < maxPriorityFeePerGas (${out.maxPriorityFeePerGas})`)
    } else {
      if (out.maxFeePerGas !== undefined || out.maxPriorityFeePerGas !== undefined) {
        throw new CallError('maxFeePerGas and maxPriorityFeePerGas are not valid before London is active')
      }
      out.gasPrice = await suggestTip()
    }
    out.nonce ??= (await env.state.getAccount(new Address(out.from ?? new Uint8Array(20))))?.nonce ?? 0n
    return out
  }

  /**
   * An env for one request at `header`. Without overrides it is one kept from an earlier request at the same block when
   * one is idle: every run reverts its changes (applyMessage), so the state is the block's again, and its caches are
   * warm. `release()` hands it back once the request's runs are done; an env whose run threw is not released (dropped).
   */
  private async lease(header: BlockHeader, overrides: CallOverrides): Promise<{ env: CallEnv; release(): void }> {
    if (overrides.state !== undefined || overrides.block !== undefined) return { env: await this.prepare(header, overrides), release: () => {} }
    const key = bytesToHex(header.hash())
    const now = Date.now()
    let kept = this.idle.get(key)?.pop()
    if (kept === undefined) {
      const clock = { deadline: 0, lastYield: now }
      kept = { env: await this.prepare(header, overrides, clock), clock, uses: 0 }
    }
    const idle = kept
    idle.clock.deadline = now + this.evmTimeoutMs
    idle.clock.lastYield = now
    idle.uses++
    return {
      env: idle.env,
      release: () => {
        if (idle.uses >= ENV_MAX_USES) return
        let list = this.idle.get(key)
        if (list === undefined) this.idle.set(key, (list = []))
        if (list.length < IDLE_ENVS_PER_BLOCK) list.push(idle)
      },
    }
  }

  /**
   * A fresh EVM and state manager at `header` with the overrides applied: block overrides first (they can move the
   * call to another fork), then state overrides against that fork's precompiles. `timing` is the request's deadline
   * in ms from now, or the clock of an env kept for several requests.
   */
  private async prepare(header: BlockHeader, overrides: CallOverrides, timing: number | RequestClock = this.evmTimeoutMs): Promise<CallEnv> {
    const ctx = applyBlockOverrides(blockContextOf(header, this.common, this.signers), overrides.block)
    // a copy of the fork's Common, not the shared one: the EVM adds its listeners and parameters to its Common
    const common = this.forks.at(ctx.number, ctx.time).copy()
    const state = new MemoStateManager(this.db.trieStore(), common, this.memo, true)
    await state.setStateRoot(header.stateRoot)
    const active = getActivePrecompiles(common)
    const customPrecompiles = await applyStateOverrides(state, overrides.state, active)
    const ancestors = this.ancestors(header)
    await installCodeAnalysisCache()
    const evm = await createEVM({
      common,
      stateManager: state,
      customPrecompiles,
      customOpcodes: [typeof timing === 'number' ? jumpdestWithDeadline(Date.now() + timing) : jumpdestWithClock(timing)],
      blockchain: {
        getBlock: async (n: number) => {
          const hash = await ancestors(BigInt(n))
          return { hash: () => hash ?? new Uint8Array(32) }
        },
        putBlock: async () => {},
        shallowCopy() {
          return this
        },
      },
      // COINBASE reads the context's coinbase, which already is the Clique signer (or the override)
      cliqueSigner: (h) => h.coinbase,
    })
    return { evm, state, common, rules: rulesOf(common), ctx, precompiles: [...active.keys()], noBaseFee: true }
  }
}

/**
 * StateOverride.Apply, in address order so errors are stable; returns the precompile changes for the EVM. Accounts
 * are written as geth writes them: only what an override sets, and an account it creates stays even when empty.
 */
export async function applyStateOverrides(state: MerkleStateManager, overrides: StateOverrides | undefined, active: Map<string, PrecompileFunc>): Promise<CustomPrecompile[]> {
  const changes: CustomPrecompile[] = []
  if (overrides === undefined) return changes
  const moved = new Set<string>()
  for (const key of [...overrides.keys()].sort()) {
    const o = overrides.get(key)!
    const address = new Address(hexBytes(key))
    if (moved.has(key)) throw new CallError(`account ${checksummed(address)} has already been overridden by a precompile`)
    const precompile = active.get(key.slice(2))
    if (o.movePrecompileToAddress !== undefined) {
      if (precompile === undefined) throw new CallError(`account ${checksummed(address)} is not a precompile`)
      const target = bytesToHex(o.movePrecompileToAddress)
      if (overrides.has(target)) throw new CallError(`account ${checksummed(o.movePrecompileToAddress)} is already overridden`)
      changes.push({ address: target, function: precompile })
      moved.add(target)
    }
    if (precompile !== undefined) changes.push({ address: address.toString() })
    if (o.nonce !== undefined || o.balance !== undefined) {
      const account = (await state.getAccount(address)) ?? new Account()
      if (o.nonce !== undefined) account.nonce = o.nonce
      if (o.balance !== undefined) account.balance = o.balance
      await state.putAccount(address, account)
    }
    if (o.code !== undefined) await state.putCode(address, o.code)
    if (o.state !== undefined && o.stateDiff !== undefined) throw new CallError(`account ${checksummed(address)} has both 'state' and 'stateDiff'`)
    const slots = o.state ?? o.stateDiff
    if (slots === undefined) continue
    if ((await state.getAccount(address)) === undefined) await state.putAccount(address, new Account())
    if (o.state !== undefined) await state.clearStorage(address)
    for (const [slot, value] of slots) await state.putStorage(address, hexBytes(slot), value)
  }
  return changes
}
