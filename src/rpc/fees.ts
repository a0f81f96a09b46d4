/**
 * Fee suggestions and history, as geth's eth/gasprice: the tip oracle behind eth_gasPrice and
 * eth_maxPriorityFeePerGas (geth 1.13's defaults: the cheapest 3 tips of each of the last 20 blocks, 60th
 * percentile, tips under 2 wei ignored, capped at 500 gwei), eth_feeHistory and eth_blobBaseFee.
 *
 * On an idle chain geth 1.13 has nothing to sample and answers the price it started with, `--miner.gasprice`
 * (1 gwei); after it has seen transactions it keeps answering the last price it computed while blocks are empty.
 * cairn does the same, starting from 1 gwei, so eth_gasPrice on a fresh private chain is base fee + 1 gwei.
 *
 * On a free-gas chain (genesis `config.zeroBaseFee`, Besu's option) the base fee is 0 by rule and the oracle starts at
 * 0, as geth's does with `--miner.gasprice 0`: eth_gasPrice and eth_maxPriorityFeePerGas answer 0 until someone
 * pays a tip, so wallets and libraries send transactions that cost nothing (ethers falls back to legacy gasPrice
 * 0 when the base fee is 0; viem and Hardhat Ignition send maxFeePerGas 0).
 */
import type { Block, BlockHeader } from '@ethereumjs/block'
import { TransactionType } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'

import type { ChainReader } from '../chain/types.ts'
import { childBaseFee, isZeroBaseFee } from '../config/genesis.ts'
import { serverError } from './errors.ts'
import { toQuantity } from './format.ts'
import type { Json, JsonObject } from './format.ts'
import type { BlockNumberParam } from './params.ts'

/** geth 1.13's FullNodeGPO and miner defaults */
const CHECK_BLOCKS = 20
const PERCENTILE = 60
/** transactions sampled per block */
const SAMPLE_NUMBER = 3
const MAX_PRICE = 500n * 10n ** 9n
const IGNORE_PRICE = 2n
const MAX_HISTORY = 1024n
/** reward percentiles per eth_feeHistory request */
const MAX_QUERY_LIMIT = 100
/** the oracle's price before it has sampled anything: geth's --miner.gasprice default */
export const DEFAULT_TIP = 10n ** 9n
/** EIP-1559's base fee of the first London block */
const INITIAL_BASE_FEE = 10n ** 9n

/** Transaction.EffectiveGasTip: what the block's producer earned per gas (negative when the cap is under the base fee). */
export function effectiveTip(tx: TypedTransaction, baseFee: bigint | undefined): bigint {
  const legacy = tx.type === TransactionType.Legacy || tx.type === TransactionType.AccessListEIP2930
  const feeCap = legacy ? tx.gasPrice : tx.maxFeePerGas
  const tipCap = legacy ? tx.gasPrice : tx.maxPriorityFeePerGas
  if (baseFee === undefined) return tipCap
  return tipCap < feeCap - baseFee ? tipCap : feeCap - baseFee
}

/** gasprice.Oracle.SuggestTipCap, with its cache of the last head's answer. */
export class GasPriceOracle {
  private readonly chain: ChainReader
  private lastHead: string | undefined
  private lastPrice: bigint
  /** one computation at a time, as geth's fetchLock: a second caller gets the first one's answer */
  private running: Promise<bigint> | undefined

  constructor(chain: ChainReader, startPrice = DEFAULT_TIP) {
    this.chain = chain
    this.lastPrice = startPrice
  }

  async suggestTipCap(): Promise<bigint> {
    const head = this.chain.heads().latest
    if (bytesToHex(head.hash()) === this.lastHead) return this.lastPrice
    this.running ??= this.compute(head).finally(() => (this.running = undefined))
    return this.running
  }

  private async compute(head: BlockHeader): Promise<bigint> {
    const results: bigint[] = []
    const queue: bigint[] = []
    let number = head.number
    while (queue.length < CHECK_BLOCKS && number > 0n) queue.push(number--)
    while (queue.length > 0) {
      let values = await this.blockValues(queue.shift()!)
      // an empty block, or one with only the producer's own transactions, counts as the last price
      if (values.length === 0) values = [this.lastPrice]
      // and then another block is sampled, up to twice as many in all
      if (values.length === 1 && results.length + 1 + queue.length < CHECK_BLOCKS * 2 && number > 0n) queue.push(number--)
      results.push(...values)
    }
    let price = this.lastPrice
    if (results.length > 0) {
      results.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      price = results[Math.floor(((results.length - 1) * PERCENTILE) / 100)]
    }
    if (price > MAX_PRICE) price = MAX_PRICE
    this.lastHead = bytesToHex(head.hash())
    this.lastPrice = price
    return price
  }

  /** getBlockValues: the lowest tips of a block, from senders other than its coinbase. */
  private async blockValues(number: bigint): Promise<bigint[]> {
    const block = await this.chain.getBlockByNumber(number)
    if (block === undefined) return []
    const baseFee = block.header.baseFeePerGas
    const coinbase = block.header.coinbase.toString()
    const sorted = block.transactions.map((tx) => ({ tx, tip: effectiveTip(tx, baseFee) })).sort((a, b) => (a.tip < b.tip ? -1 : a.tip > b.tip ? 1 : 0))
    const prices: bigint[] = []
    for (const { tx, tip } of sorted) {
      if (tip < IGNORE_PRICE) continue
      if (tx.getSenderAddress().toString() === coinbase) continue
      prices.push(tip)
      if (prices.length >= SAMPLE_NUMBER) break
    }
    return prices
  }
}

/** The base fee of the block after `header`, undefined when that block is not London. */
function nextBaseFeeOf(chain: ChainReader, header: BlockHeader): bigint | undefined {
  // a London block's child is London; the block before the fork has a London child too
  const londonBlock = chain.common.hardforkBlock('london')
  if (header.baseFeePerGas === undefined && (londonBlock === null || header.number + 1n < londonBlock)) return undefined
  if (header.baseFeePerGas === undefined) return INITIAL_BASE_FEE
  return childBaseFee(header)
}

/** eth_baseFee: the base fee of the block after the head, null before London. */
export function baseFee(chain: ChainReader): string | null {
  const next = nextBaseFeeOf(chain, chain.heads().latest)
  return next === undefined ? null : toQuantity(next)
}

/** eth_blobBaseFee: the blob base fee of the head, null before Cancun. */
export function blobBaseFee(chain: ChainReader): string | null {
  const head = chain.heads().latest
  return head.excessBlobGas === undefined ? null : toQuantity(head.getBlobGasPrice())
}

/** Go's %f */
const goFloat = (p: number) => p.toFixed(6)

interface ProcessedFees {
  reward: bigint[] | undefined
  baseFee: bigint
  nextBaseFee: bigint
  gasUsedRatio: number
  blobGasUsedRatio: number
  blobBaseFee: bigint
  nextBlobBaseFee: bigint
}

/** Oracle.processBlock */
function processBlock(chain: ChainReader, header: BlockHeader, block: Block | undefined, receiptGas: bigint[], percentiles: number[]): ProcessedFees {
  const nextBaseFee = nextBaseFeeOf(chain, header) ?? 0n
  const withBlobs = header.excessBlobGas !== undefined
  const maxBlobGas = header.blobGasUsed === undefined ? 0n : header.common.getBlobGasSchedule().maxBlobGasPerBlock
  const fees: ProcessedFees = {
    reward: undefined,
    baseFee: header.baseFeePerGas ?? 0n,
    nextBaseFee,
    gasUsedRatio: Number(header.gasUsed) / Number(header.gasLimit),
    blobGasUsedRatio: maxBlobGas === 0n ? 0 : Number(header.blobGasUsed) / Number(maxBlobGas),
    blobBaseFee: withBlobs ? header.getBlobGasPrice() : 0n,
    nextBlobBaseFee: withBlobs ? header.calcNextBlobGasPrice(header.common) : 0n,
  }
  if (percentiles.length === 0 || block === undefined) return fees
  if (block.transactions.length === 0) {
    fees.reward = percentiles.map(() => 0n)
    return fees
  }
  // each transaction's tip, weighted by the gas it used, cheapest first (a stable sort, as geth's)
  const sorted = block.transactions
    .map((tx, i) => ({ gasUsed: receiptGas[i], reward: effectiveTip(tx, header.baseFeePerGas) }))
    .sort((a, b) => (a.reward < b.reward ? -1 : a.reward > b.reward ? 1 : 0))
  let txIndex = 0
  let sumGasUsed = sorted[0].gasUsed
  fees.reward = percentiles.map((p) => {
    const threshold = BigInt(Math.floor((Number(header.gasUsed) * p) / 100))
    while (sumGasUsed < threshold && txIndex < sorted.length - 1) sumGasUsed += sorted[++txIndex].gasUsed
    return sorted[txIndex].reward
  })
  return fees
}

/** rpc.BlockNumber as geth compares it: tags are negative */
const TAG_NUMBERS: Record<string, bigint> = { pending: -1n, latest: -2n, finalized: -3n, safe: -4n, earliest: -5n }

/** Oracle.FeeHistory and the result's JSON (feeHistoryResult, with its omitempty members). */
export async function feeHistory(chain: ChainReader, requested: bigint, newest: BlockNumberParam, percentiles: number[]): Promise<JsonObject> {
  const empty: JsonObject = { oldestBlock: '0x0', gasUsedRatio: null }
  if (requested < 1n) return empty
  if (percentiles.length > MAX_QUERY_LIMIT) throw serverError(`invalid reward percentile: over the query limit ${MAX_QUERY_LIMIT}`)
  let blocks = requested > MAX_HISTORY ? MAX_HISTORY : requested
  percentiles.forEach((p, i) => {
    if (p < 0 || p > 100) throw serverError(`invalid reward percentile: ${goFloat(p)}`)
    if (i > 0 && p <= percentiles[i - 1]) throw serverError(`invalid reward percentile: #${i - 1}:${goFloat(percentiles[i - 1])} >= #${i}:${goFloat(p)}`)
  })

  // resolveBlockRange
  const heads = chain.heads()
  const requestedEnd = typeof newest === 'bigint' ? newest : TAG_NUMBERS[newest]
  if (heads.latest.number < requestedEnd) throw serverError(`request beyond head block: requested ${requestedEnd}, head ${heads.latest.number}`)
  let last: bigint
  switch (newest) {
    case 'pending':
      // no pending block: the range ends at the head and is one block shorter
      last = heads.latest.number
      blocks--
      break
    case 'latest':
      last = heads.latest.number
      break
    case 'safe':
      last = heads.safe.number
      break
    case 'finalized':
      last = heads.finalized.number
      break
    case 'earliest':
      last = 0n
      break
    default:
      last = newest
  }
  if (blocks === 0n) return empty
  if (last + 1n < blocks) blocks = last + 1n
  const oldest = last + 1n - blocks

  const processed: ProcessedFees[] = []
  for (let n = oldest; n <= last; n++) {
    const block = percentiles.length > 0 ? await chain.getBlockByNumber(n) : undefined
    const header = block?.header ?? (await headerByNumber(chain, n))
    // a block gone in a reorg while reading: the answer stops before it
    if (header === undefined) break
    let receiptGas: bigint[] = []
    if (block !== undefined && block.transactions.length > 0) {
      const receipts = (await chain.getReceipts(block.hash())) ?? []
      receiptGas = receipts.map((r, i) => r.cumulativeGasUsed - (i === 0 ? 0n : receipts[i - 1].cumulativeGasUsed))
    }
    processed.push(processBlock(chain, header, block, receiptGas, percentiles))
  }
  if (processed.length === 0) return empty

  const result: JsonObject = { oldestBlock: toQuantity(oldest) }
  if (percentiles.length > 0) result.reward = processed.map((f) => (f.reward ?? []).map(toQuantity))
  result.baseFeePerGas = [...processed.map((f) => toQuantity(f.baseFee)), toQuantity(processed[processed.length - 1].nextBaseFee)]
  result.gasUsedRatio = processed.map((f) => f.gasUsedRatio) as Json[]
  result.baseFeePerBlobGas = [...processed.map((f) => toQuantity(f.blobBaseFee)), toQuantity(processed[processed.length - 1].nextBlobBaseFee)]
  result.blobGasUsedRatio = processed.map((f) => f.blobGasUsedRatio) as Json[]
  return result
}

async function headerByNumber(chain: ChainReader, number: bigint): Promise<BlockHeader | undefined> {
  const hash = await chain.getCanonicalHash(number)
  return hash === undefined ? undefined : chain.getHeaderByHash(hash)
}

const oracles = new WeakMap<ChainReader, GasPriceOracle>()

/** The tip oracle of a chain: one per chain, as geth has one per backend, so its cache lives as long as the node. */
export function gasPriceOracle(chain: ChainReader): GasPriceOracle {
  let oracle = oracles.get(chain)
  if (oracle === undefined) {
    // a free-gas chain starts from no tip at all, as geth with --miner.gasprice 0
    oracle = new GasPriceOracle(chain, isZeroBaseFee(chain.common) ? 0n : DEFAULT_TIP)
    oracles.set(chain, oracle)
  }
  return oracle
}
