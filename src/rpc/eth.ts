/**
 * The eth namespace's chain-reading methods, answering as geth's internal/ethapi and eth/api_backend.go do:
 * lookups by block that find nothing return null, state lookups at an unknown block fail with "header not found".
 */
import { createBlock } from '@ethereumjs/block'
import type { Block, BlockHeader } from '@ethereumjs/block'
import { createBlob4844TxFromSerializedNetworkWrapper } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Common } from '@ethereumjs/common'
import { Address, bytesToBigInt, bytesToHex, equalsBytes, setLengthLeft } from '@ethereumjs/util'

import { decodeTx } from '../chain/decode.ts'
import type { ChainReader, StateView } from '../chain/types.ts'
import { Lru } from '../db/lru.ts'
import { forkConfigs } from '../config/forkConfig.ts'
import { ForkCommons } from '../config/forkCommons.ts'
import type { ForkConfig } from '../config/forkConfig.ts'
import type { RpcContext } from './context.ts'
import { CallError, RevertError } from '../execution/call.ts'
import type { CallExecution } from '../execution/call.ts'
import { RpcError, RpcErrorKind, executionReverted, hashNotCanonical, headerForHashNotFound, headerNotFound, invalidParams, methodNotFound, serverError } from './errors.ts'
import { baseFee, blobBaseFee, feeHistory, gasPriceOracle } from './fees.ts'
import { logCriteria, queryLogs } from './filters.ts'
import type { LogCriteria } from './filters.ts'
import { formatBlock, formatBlockReceipts, formatHeader, formatReceiptAt, formatTransaction, inclusionIn, toData, toQuantity } from './format.ts'
import type { BlockAuthor, JsonObject } from './format.ts'
import { keptResult, keptSize } from './jsonrpc.ts'
import {
  address,
  blockNumber,
  blockOverrides,
  blockRef,
  boolean,
  bytes,
  float64List,
  goList,
  hash,
  hexOrDecimal64,
  optional,
  stateOverride,
  storageRequests,
  string,
  transactionArgs,
  uintQuantity,
  toBlockOverrides,
} from './params.ts'
import type { BlockNumberParam, BlockRef, Param } from './params.ts'
import { methodsOver, namespace } from './registry.ts'
import { formatSimulatedBlock, simulateOptions, simulateRequest, simulating } from './simulate.ts'

const method = methodsOver<RpcContext>()

/** geth's GetUncleBy*AndIndex: the uncle as a block of its own header (no transactions); null past the end. */
function uncleAt(block: Block | undefined, index: bigint): JsonObject | null {
  const uncle = block?.uncleHeaders[Number(index)]
  if (uncle === undefined || index >= BigInt(block!.uncleHeaders.length)) return null
  return formatBlock(createBlock({ header: uncle.toJSON() }, { common: uncle.common, skipConsensusFormatValidation: true }), false)
}

/**
 * Blocks as answered, kept with the decoded block (which the chain caches by hash): a block always formats the same,
 * and formatting and encoding cost more than the rest of the request. Per author view, with and without full txs.
 */
const formattedBlocks = new WeakMap<object, WeakMap<Block, [hashes?: JsonObject, full?: JsonObject]>>()
const COINBASE_AUTHOR = {}

function formattedBlock(block: Block, fullTx: boolean, author: BlockAuthor | undefined): JsonObject {
  const view = author ?? COINBASE_AUTHOR
  let byBlock = formattedBlocks.get(view)
  if (byBlock === undefined) formattedBlocks.set(view, (byBlock = new WeakMap()))
  let formatted = byBlock.get(block)
  if (formatted === undefined) byBlock.set(block, (formatted = []))
  const at = fullTx ? 1 : 0
  return (formatted[at] ??= keptResult(formatBlock(block, fullTx, author)))
}

/**
 * The same answers by block hash, looked up before the block is read: a block of thousands of transactions does not
 * stay in the chain's decoded-block cache (10,000 transactions in all), and decoding it again for each request costs
 * far more than the answer. Bounded by the answers' encoded size.
 */
const answersByHash = new WeakMap<object, Lru<string, JsonObject>>()
const BLOCK_ANSWER_BYTES = 64 * 1024 * 1024

async function blockAnswer(ctx: RpcContext, hash: Uint8Array | undefined, fullTx: boolean, load: () => Promise<Block | undefined>): Promise<JsonObject | null> {
  const view = ctx.author ?? COINBASE_AUTHOR
  let answers = answersByHash.get(view)
  if (answers === undefined) answersByHash.set(view, (answers = new Lru<string, JsonObject>({ maxEntries: 1024, maxWeight: BLOCK_ANSWER_BYTES, weigh: keptSize })))
  const key = (h: Uint8Array) => `${bytesToHex(h)}:${fullTx ? 'full' : 'hashes'}`
  const hit = hash === undefined ? undefined : answers.get(key(hash))
  if (hit !== undefined) return hit
  const block = await load()
  if (block === undefined) return null
  const answer = formattedBlock(block, fullTx, ctx.author)
  answers.set(key(block.hash()), answer)
  return answer
}

/** geth's --rpc.txfeecap default: 1 ether */
const DEFAULT_TX_FEE_CAP = 10n ** 18n

/**
 * One Common per fork for decoding submitted transactions: a fresh copy set to the fork per request rebuilt Common's
 * parameter tables every time (~0.2 ms of each eth_sendRawTransaction).
 */
const forksByChain = new WeakMap<Common, ForkCommons>()
function nextBlockForks(common: Common): ForkCommons {
  let forks = forksByChain.get(common)
  if (forks === undefined) forksByChain.set(common, (forks = new ForkCommons(common)))
  return forks
}

/**
 * A raw transaction as the next block will see it (its fork decides the types allowed). Blob transactions arrive in
 * their network form, with the sidecar.
 */
function decodeRawTransaction(chain: ChainReader, raw: Uint8Array, common = nextBlockCommon(chain)): TypedTransaction {
  if (raw.length === 0) throw invalidParams('typed transaction too short')
  const type = raw[0] <= 0x7f ? raw[0] : 0
  if (type > 4) throw serverError('transaction type not supported')
  try {
    return type === 3 ? createBlob4844TxFromSerializedNetworkWrapper(raw, { common }) : decodeTx(raw, common)
  } catch (err) {
    const message = (err as Error).message.replace(/ \(tx type=.*$/s, '')
    if (/not activated|EIP-\d+ not enabled|is not supported/i.test(message)) throw serverError('transaction type not supported')
    throw serverError(`rlp: ${message}`)
  }
}

function nextBlockCommon(chain: ChainReader): Common {
  const head = chain.heads().latest
  return nextBlockForks(chain.common).at(head.number + 1n, BigInt(Math.max(Number(head.timestamp) + 1, Math.floor(Date.now() / 1000))))
}

/**
 * The raw transactions of the batches being answered, decoded and with their senders recovered together before the
 * batch's calls run (in order, as geth runs them); by context, each keyed by its bytes as hex.
 */
const preparedByContext = new WeakMap<RpcContext, Map<string, { tx: TypedTransaction; common: Common }>>()

/**
 * Decodes a batch's raw transactions and recovers their senders on the recovery thread in one trip: on the main
 * thread, recovery is the largest part of admitting a transfer. Lone calls do not wait for the thread: sending the
 * lone calls of one event-loop turn there together gave 2-8 % more single transfers, but each then waited a turn
 * more, behind a block being built, and the submit p99 while sealing went from 62-72 to 94-119 ms.
 */
async function prepareRawTransactions(ctx: RpcContext, calls: unknown[]): Promise<() => void> {
  const recover = ctx.recoverSenders
  if (recover === undefined || ctx.txpool === undefined || calls.length < 2) return () => {}
  const common = nextBlockCommon(ctx.chain)
  const decoded = new Map<string, { tx: TypedTransaction; common: Common }>()
  for (const params of calls) {
    try {
      const raw = bytes.parse((params as unknown[])[0])
      decoded.set(bytesToHex(raw), { tx: decodeRawTransaction(ctx.chain, raw, common), common })
    } catch {
      // not a transaction: its call says why
    }
  }
  if (decoded.size === 0) return () => {}
  await recover([...decoded.values()].map((d) => d.tx))
  let prepared = preparedByContext.get(ctx)
  if (prepared === undefined) preparedByContext.set(ctx, (prepared = new Map()))
  for (const [key, entry] of decoded) prepared.set(key, entry)
  const own = prepared
  return () => {
    for (const [key, entry] of decoded) if (own.get(key) === entry) own.delete(key)
  }
}

/** `raw` decoded: as its batch prepared it, when it was decoded under the fork that applies now */
function rawTransaction(ctx: RpcContext, raw: Uint8Array): TypedTransaction {
  const common = nextBlockCommon(ctx.chain)
  const batches = preparedByContext.get(ctx)
  // with no batch being answered (the usual case for a lone call), nothing to look up
  const prepared = batches !== undefined && batches.size > 0 ? batches.get(bytesToHex(raw)) : undefined
  return prepared !== undefined && prepared.common === common ? prepared.tx : decodeRawTransaction(ctx.chain, raw, common)
}

/** geth's checkTxFee: a transaction may not pay more than the cap in fees (cap 0 = no check). */
function checkTxFee(tx: TypedTransaction, cap: bigint): void {
  if (cap === 0n) return
  const price = 'maxFeePerGas' in tx ? (tx as { maxFeePerGas: bigint }).maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
  const fee = price * tx.gasLimit
  if (fee > cap) throw serverError(`tx fee (${ether(fee)} ether) exceeds the configured cap (${ether(cap)} ether)`)
}

const ether = (wei: bigint) => (Number(wei) / 1e18).toFixed(2)

/**
 * The header a block number names. 'pending' is the latest block until cairn builds pending blocks; safe and
 * finalized are what the chain reports (the head, on Clique).
 */
export async function headerByNumber(chain: ChainReader, number: BlockNumberParam): Promise<BlockHeader | undefined> {
  switch (number) {
    case 'latest':
    case 'pending':
      return chain.heads().latest
    case 'safe':
      return chain.heads().safe
    case 'finalized':
      return chain.heads().finalized
  }
  const canonical = await chain.getCanonicalHash(number === 'earliest' ? 0n : number)
  return canonical === undefined ? undefined : chain.getHeaderByHash(canonical)
}

async function blockByNumber(chain: ChainReader, number: BlockNumberParam): Promise<Block | undefined> {
  if (typeof number === 'bigint') return chain.getBlockByNumber(number)
  if (number === 'earliest') return chain.getBlockByNumber(0n)
  const header = await headerByNumber(chain, number)
  return header === undefined ? undefined : chain.getBlockByHash(header.hash())
}

async function requireCanonical(chain: ChainReader, header: BlockHeader): Promise<void> {
  const canonical = await chain.getCanonicalHash(header.number)
  if (canonical === undefined || !equalsBytes(canonical, header.hash())) throw hashNotCanonical()
}

/** geth's BlockByNumberOrHash: null for an unknown block, an error for a known one that is not canonical when asked. */
async function blockByRef(chain: ChainReader, ref: BlockRef): Promise<Block | undefined> {
  if ('number' in ref) return blockByNumber(chain, ref.number)
  const header = await chain.getHeaderByHash(ref.hash)
  if (header === undefined) return undefined
  if (ref.requireCanonical) await requireCanonical(chain, header)
  const block = await chain.getBlockByHash(ref.hash)
  if (block === undefined) throw serverError('header found, but block body is missing')
  return block
}

/** The header of geth's StateAndHeaderByNumberOrHash; an omitted block means latest. */
async function headerAt(chain: ChainReader, ref: BlockRef | undefined): Promise<BlockHeader> {
  const at = ref ?? { number: 'latest' }
  let header: BlockHeader | undefined
  if ('number' in at) {
    header = await headerByNumber(chain, at.number)
    if (header === undefined) throw headerNotFound()
  } else {
    header = await chain.getHeaderByHash(at.hash)
    if (header === undefined) throw headerForHashNotFound()
    if (at.requireCanonical) await requireCanonical(chain, header)
  }
  return header
}

/** geth's StateAndHeaderByNumberOrHash; an omitted block means latest. */
async function stateAt(chain: ChainReader, ref: BlockRef | undefined): Promise<StateView> {
  return chain.stateAt(await headerAt(chain, ref))
}

/** geth's decodeStorageKey: 0x optional, odd lengths padded, at most 32 bytes, left-padded to a slot. */
function decodeStorageKey(key: string): Uint8Array {
  let digits = /^0[xX]/.test(key) ? key.slice(2) : key
  if (digits.length % 2 !== 0) digits = `0${digits}`
  if (digits.length > 64) throw invalidParams(`storage key too long (want at most 32 bytes): ${JSON.stringify(key)}`)
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw invalidParams(`invalid hex in storage key: ${JSON.stringify(key)}`)
  return setLengthLeft(Buffer.from(digits, 'hex'), 32)
}

function transactionAt(block: Block | undefined, index: bigint) {
  if (block === undefined || index >= BigInt(block.transactions.length)) return null
  const i = Number(index)
  return formatTransaction(block.transactions[i], inclusionIn(block, i))
}

async function receiptsOf(chain: ChainReader, block: Block) {
  const receipts = (await chain.getReceipts(block.hash())) ?? []
  if (receipts.length !== block.transactions.length) {
    throw serverError(`receipts length mismatch: ${block.transactions.length} vs ${receipts.length}`)
  }
  return receipts
}

/** The node's call runner; a context without one (a bare reader) does not offer the methods that execute. */
function executionOf(ctx: RpcContext, method: string): CallExecution {
  if (ctx.execution === undefined) throw methodNotFound(method)
  return ctx.execution
}

/** Runs an execution, answering its failures as geth: reverts with code 3 and their data, the rest as plain errors. */
async function executing<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof RevertError) throw executionReverted(toData(err.data), err.reason)
    if (err instanceof CallError) throw serverError(err.message)
    throw err
  }
}


/** geth's --rpc.logquerylimit default: addresses, and topics per position, one eth_getLogs may ask for */
const LOG_QUERY_LIMIT = 1000

/**
 * geth's FilterAPI.GetLogs range rules: from > to refused up front, tags resolved at the current heads, a range past
 * the head refused (it would only ever be partly answered). Returns the criteria with the range in numbers.
 */
function resolveLogRange(chain: ChainReader, criteria: LogCriteria): LogCriteria {
  const from = criteria.fromBlock ?? 'latest'
  const to = criteria.toBlock ?? 'latest'
  if (typeof from === 'bigint' && typeof to === 'bigint' && from > 0n && to > 0n && from > to) throw invalidParams('invalid block range params')
  if (from === 'pending' || to === 'pending') throw invalidParams('pending logs are not supported')
  const heads = chain.heads()
  const resolve = (n: BlockNumberParam): bigint => {
    switch (n) {
      case 'latest':
      case 'pending':
        return heads.latest.number
      case 'safe':
        return heads.safe.number
      case 'finalized':
        return heads.finalized.number
      case 'earliest':
        return 0n
      default:
        return n
    }
  }
  const first = resolve(from)
  const last = resolve(to)
  if (first > last) throw invalidParams('invalid block range params')
  if (last > heads.latest.number) throw invalidParams('block range extends beyond current head block')
  return { ...criteria, fromBlock: first, toBlock: last }
}

/** geth's maxGetProofKeys and maxGetStorageSlots */
const MAX_PROOF_KEYS = 1024
const MAX_STORAGE_SLOTS = 1024

/** eth_getProof's storage keys: a Go []string, null being none */
const storageKeyList: Param<string[]> = {
  optional: false,
  parse: (value) => (value === null ? [] : goList('[]string', string).parse(value)),
}

/**
 * eth_getProof's key as it is answered: a 32-byte key as given, any shorter one as a quantity (geth keeps the
 * spec's QUANTITY for those, for older clients).
 */
function proofKey(key: string, slot: Uint8Array): string {
  const digits = key.replace(/^0[xX]/, '')
  return Math.ceil(digits.length / 2) === 32 ? toData(slot) : toQuantity(bytesToBigInt(slot))
}

/** One of eth_config's configurations (EIP-7910), members sorted as geth's maps are. */
function formatForkConfig(config: ForkConfig | undefined): JsonObject | null {
  if (config === undefined) return null
  const sortedObject = (entries: [string, string][]) => Object.fromEntries([...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  const blobs = config.blobSchedule
  return {
    activationTime: Number(config.activationTime),
    blobSchedule: blobs === undefined ? null : { target: blobs.target, max: blobs.max, baseFeeUpdateFraction: blobs.baseFeeUpdateFraction },
    chainId: toQuantity(config.chainId),
    forkId: toData(config.forkId),
    precompiles: sortedObject(config.precompiles),
    systemContracts: sortedObject(config.systemContracts),
  }
}

export const eth = namespace<RpcContext>('eth', [
  method({ name: 'eth_chainId', params: [], handler: (ctx) => toQuantity(ctx.chain.chainId) }),
  method({ name: 'eth_blockNumber', params: [], handler: (ctx) => toQuantity(ctx.chain.heads().latest.number) }),
  method({
    name: 'eth_syncing',
    params: [],
    handler: (ctx) => {
      const p = ctx.syncProgress?.()
      return p === undefined ? false : { startingBlock: toQuantity(p.startingBlock), currentBlock: toQuantity(p.currentBlock), highestBlock: toQuantity(p.highestBlock) }
    },
  }),

  method({
    name: 'eth_getBlockByNumber',
    params: [blockNumber, boolean],
    handler: async (ctx, number, fullTx) => {
      const hash = typeof number === 'bigint' ? await ctx.chain.getCanonicalHash(number) : number === 'earliest' ? await ctx.chain.getCanonicalHash(0n) : undefined
      return blockAnswer(ctx, hash, fullTx, () => blockByNumber(ctx.chain, number))
    },
  }),
  method({
    name: 'eth_getBlockByHash',
    params: [hash, boolean],
    handler: async (ctx, blockHash, fullTx) => blockAnswer(ctx, blockHash, fullTx, () => ctx.chain.getBlockByHash(blockHash)),
  }),
  method({
    name: 'eth_getBlockTransactionCountByNumber',
    params: [blockNumber],
    handler: async (ctx, number) => {
      const block = await blockByNumber(ctx.chain, number)
      return block === undefined ? null : toQuantity(block.transactions.length)
    },
  }),
  method({
    name: 'eth_getBlockTransactionCountByHash',
    params: [hash],
    handler: async (ctx, blockHash) => {
      const block = await ctx.chain.getBlockByHash(blockHash)
      return block === undefined ? null : toQuantity(block.transactions.length)
    },
  }),
  method({
    name: 'eth_getUncleByBlockHashAndIndex',
    params: [hash, uintQuantity],
    handler: async (ctx, blockHash, index) => uncleAt(await ctx.chain.getBlockByHash(blockHash), index),
  }),
  method({
    name: 'eth_getUncleByBlockNumberAndIndex',
    params: [blockNumber, uintQuantity],
    handler: async (ctx, number, index) => uncleAt(await blockByNumber(ctx.chain, number), index),
  }),
  method({
    name: 'eth_getHeaderByNumber',
    params: [blockNumber],
    handler: async (ctx, number) => {
      const header = await headerByNumber(ctx.chain, number)
      return header === undefined ? null : formatHeader(header, ctx.author)
    },
  }),
  method({
    name: 'eth_getHeaderByHash',
    params: [hash],
    handler: async (ctx, blockHash) => {
      const header = await ctx.chain.getHeaderByHash(blockHash)
      return header === undefined ? null : formatHeader(header, ctx.author)
    },
  }),
  method({
    name: 'eth_getUncleCountByBlockNumber',
    params: [blockNumber],
    handler: async (ctx, number) => {
      const block = await blockByNumber(ctx.chain, number)
      return block === undefined ? null : toQuantity(block.uncleHeaders.length)
    },
  }),
  method({
    name: 'eth_getUncleCountByBlockHash',
    params: [hash],
    handler: async (ctx, blockHash) => {
      const block = await ctx.chain.getBlockByHash(blockHash)
      return block === undefined ? null : toQuantity(block.uncleHeaders.length)
    },
  }),

  method({
    name: 'eth_getBalance',
    params: [address, optional(blockRef)],
    handler: async (ctx, addr, ref) => {
      const account = await (await stateAt(ctx.chain, ref)).getAccount(new Address(addr))
      return toQuantity(account?.balance ?? 0n)
    },
  }),
  method({
    // the nonce in state: 'pending' does not count pool transactions until cairn has a pool
    name: 'eth_getTransactionCount',
    params: [address, optional(blockRef)],
    handler: async (ctx, addr, ref) => {
      if (ctx.txpool !== undefined && ref !== undefined && 'number' in ref && ref.number === 'pending') return toQuantity(await ctx.txpool.pendingNonce(bytesToHex(addr)))
      const account = await (await stateAt(ctx.chain, ref)).getAccount(new Address(addr))
      return toQuantity(account?.nonce ?? 0n)
    },
  }),
  method({
    name: 'eth_getCode',
    params: [address, optional(blockRef)],
    handler: async (ctx, addr, ref) => toData(await (await stateAt(ctx.chain, ref)).getCode(new Address(addr))),
  }),
  method({
    // geth decodes the key itself, after resolving the block, so an unknown block wins over a bad key
    name: 'eth_getStorageAt',
    params: [address, string, optional(blockRef)],
    handler: async (ctx, addr, key, ref) => {
      const state = await stateAt(ctx.chain, ref)
      const value = await state.getStorage(new Address(addr), decodeStorageKey(key))
      return toData(setLengthLeft(value, 32))
    },
  }),

  method({
    name: 'eth_getTransactionByHash',
    params: [hash],
    handler: async (ctx, txHash) => {
      const at = await ctx.chain.getTxLocation(txHash)
      if (at !== undefined) return transactionAt(await ctx.chain.getBlockByHash(at.blockHash), BigInt(at.index))
      // geth also answers for transactions still in the pool, without block fields
      const pooled = ctx.txpool?.get(toData(txHash))
      return pooled === undefined ? null : formatTransaction(pooled.tx)
    },
  }),
  method({
    name: 'eth_getTransactionByBlockHashAndIndex',
    params: [hash, uintQuantity],
    handler: async (ctx, blockHash, index) => transactionAt(await ctx.chain.getBlockByHash(blockHash), index),
  }),
  method({
    name: 'eth_getTransactionByBlockNumberAndIndex',
    params: [blockNumber, uintQuantity],
    handler: async (ctx, number, index) => transactionAt(await blockByNumber(ctx.chain, number), index),
  }),
  method({
    name: 'eth_getTransactionReceipt',
    params: [hash],
    handler: async (ctx, txHash) => {
      const at = await ctx.chain.getTxLocation(txHash)
      if (at === undefined) return null
      const block = await ctx.chain.getBlockByHash(at.blockHash)
      if (block === undefined) throw serverError(`block not found: ${toData(at.blockHash)}`)
      return formatReceiptAt(block, await receiptsOf(ctx.chain, block), at.index)
    },
  }),
  method({
    name: 'eth_getBlockReceipts',
    params: [blockRef],
    handler: async (ctx, ref) => {
      const block = await blockByRef(ctx.chain, ref)
      return block === undefined ? null : formatBlockReceipts(block, await receiptsOf(ctx.chain, block))
    },
  }),
  method({
    name: 'eth_sendRawTransaction',
    params: [bytes],
    prepareBatch: prepareRawTransactions,
    handler: async (ctx, raw) => {
      const pool = ctx.txpool
      if (pool === undefined) throw serverError('this node has no transaction pool')
      const tx = rawTransaction(ctx, raw)
      checkTxFee(tx, ctx.txFeeCap ?? DEFAULT_TX_FEE_CAP)
      try {
        await pool.add(tx, { local: true })
      } catch (err) {
        throw serverError((err as Error).message)
      }
      return toData(tx.hash())
    },
  }),
  method({
    name: 'eth_call',
    params: [transactionArgs, optional(blockRef), optional(stateOverride), optional(blockOverrides)],
    handler: async (ctx, args, ref, state, block) => {
      const execution = executionOf(ctx, 'eth_call')
      const header = await headerAt(ctx.chain, ref)
      return toData(await executing(() => execution.call(header, args, { state, block: toBlockOverrides(block) })))
    },
  }),
  method({
    name: 'eth_estimateGas',
    params: [transactionArgs, optional(blockRef), optional(stateOverride), optional(blockOverrides)],
    handler: async (ctx, args, ref, state, block) => {
      const execution = executionOf(ctx, 'eth_estimateGas')
      const header = await headerAt(ctx.chain, ref)
      return toQuantity(await executing(() => execution.estimateGas(header, args, { state, block: toBlockOverrides(block) })))
    },
  }),
  method({
    name: 'eth_createAccessList',
    params: [transactionArgs, optional(blockRef), optional(stateOverride)],
    handler: async (ctx, args, ref, state) => {
      const execution = executionOf(ctx, 'eth_createAccessList')
      const header = await headerAt(ctx.chain, ref)
      const result = await executing(() => execution.createAccessList(header, args, state, () => gasPriceOracle(ctx.chain).suggestTipCap()))
      return {
        accessList: result.accessList.map((e) => ({ address: toData(e.address), storageKeys: e.storageKeys.map(toData) })),
        ...(result.error !== undefined ? { error: result.error } : {}),
        gasUsed: toQuantity(result.gasUsed),
      }
    },
  }),
  method({
    // the suggested tip on top of the head's base fee: what a legacy transaction should offer
    name: 'eth_gasPrice',
    params: [],
    handler: async (ctx) => toQuantity((await gasPriceOracle(ctx.chain).suggestTipCap()) + (ctx.chain.heads().latest.baseFeePerGas ?? 0n)),
  }),
  method({ name: 'eth_maxPriorityFeePerGas', params: [], handler: async (ctx) => toQuantity(await gasPriceOracle(ctx.chain).suggestTipCap()) }),
  method({
    name: 'eth_feeHistory',
    params: [hexOrDecimal64, blockNumber, float64List],
    handler: (ctx, count, newest, percentiles) => feeHistory(ctx.chain, count, newest, percentiles),
  }),
  method({ name: 'eth_blobBaseFee', params: [], handler: (ctx) => blobBaseFee(ctx.chain) }),
  method({
    name: 'eth_getLogs',
    params: [logCriteria],
    handler: async (ctx, criteria) => {
      if (criteria.addresses.length > LOG_QUERY_LIMIT || criteria.topics.some((t) => t.length > LOG_QUERY_LIMIT)) {
        throw serverError('exceed max addresses or topics per search position')
      }
      return queryLogs(ctx.chain, criteria.blockHash !== undefined ? criteria : resolveLogRange(ctx.chain, criteria))
    },
  }),
  method({
    name: 'eth_simulateV1',
    params: [simulateOptions, optional(blockRef)],
    handler: async (ctx, opts, ref) => {
      if (ctx.simulation === undefined) throw methodNotFound('eth_simulateV1')
      const simulation = ctx.simulation
      const request = simulateRequest(opts)
      const base = await headerAt(ctx.chain, ref)
      const blocks = await simulating(() => simulation.simulate(base, request))
      return blocks.map((block) => formatSimulatedBlock(block, opts.returnFullTransactions ?? false))
    },
  }),
  method({
    // geth decodes every key before it looks for the block
    name: 'eth_getProof',
    params: [address, storageKeyList, optional(blockRef)],
    handler: async (ctx, addr, keys, ref) => {
      if (ctx.proofs === undefined) throw methodNotFound('eth_getProof')
      if (keys.length > MAX_PROOF_KEYS) throw invalidParams(`too many storage keys requested (max ${MAX_PROOF_KEYS}, got ${keys.length})`)
      const slots = keys.map(decodeStorageKey)
      const proof = await ctx.proofs.prove(await headerAt(ctx.chain, ref), addr, slots)
      return {
        address: toData(addr),
        accountProof: proof.accountProof.map(toData),
        balance: toQuantity(proof.balance),
        codeHash: toData(proof.codeHash),
        nonce: toQuantity(proof.nonce),
        storageHash: toData(proof.storageHash),
        storageProof: proof.storageProof.map((p, i) => ({ key: proofKey(keys[i], p.slot), value: toQuantity(p.value), proof: p.proof.map(toData) })),
      }
    },
  }),
  method({
    name: 'eth_getStorageValues',
    params: [storageRequests, optional(blockRef)],
    handler: async (ctx, requests, ref) => {
      let total = 0
      for (const slots of requests.values()) {
        total += slots.length
        if (total > MAX_STORAGE_SLOTS) throw new RpcError(RpcErrorKind.ClientLimitExceeded, `too many slots (max ${MAX_STORAGE_SLOTS})`)
      }
      if (total === 0) throw invalidParams('empty request')
      const state = await stateAt(ctx.chain, ref)
      const values: JsonObject = {}
      for (const [account, slots] of [...requests].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const at = new Address(Buffer.from(account.slice(2), 'hex'))
        values[account] = await Promise.all(slots.map(async (slot) => toData(setLengthLeft(await state.getStorage(at, slot), 32))))
      }
      return values
    },
  }),
  method({
    name: 'eth_config',
    params: [],
    handler: (ctx) => {
      const { current, next, last } = forkConfigs(ctx.chain.genesisSpec, ctx.chain.common, ctx.chain.genesis.hash(), ctx.chain.heads().latest.timestamp)
      return { current: formatForkConfig(current), next: formatForkConfig(next), last: formatForkConfig(last) }
    },
  }),
  method({
    // an archive node that prunes nothing: every resource from genesis, none with a deletion window
    name: 'eth_capabilities',
    params: [],
    handler: (ctx) => {
      const head = ctx.chain.heads().latest
      const all = { disabled: false, oldestBlock: toQuantity(0) }
      return { head: { number: toQuantity(head.number), hash: toData(head.hash()) }, state: all, tx: all, logs: all, receipts: all, blocks: all, stateproofs: all }
    },
  }),
  method({ name: 'eth_baseFee', params: [], handler: (ctx) => baseFee(ctx.chain) }),
])
