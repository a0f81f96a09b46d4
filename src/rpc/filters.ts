/**
 * geth's eth/filters (api.go, filter.go, filter_system.go) for 1.13: the log filter criteria with geth's decoding and
 * messages, the log matcher (shared with eth_getLogs), the polling filters (eth_newFilter, eth_getFilterChanges, ...)
 * served on every transport, and the eth subscriptions (newHeads, logs, newPendingTransactions, syncing).
 */
import type { BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { addressKey, topicKey } from '../chain/blockLogs.ts'
import type { BlockLogs, ChainReader } from '../chain/types.ts'
import { keccak256 } from '../crypto/keccak.ts'
import { Lru } from '../db/lru.ts'
import { serverError } from './errors.ts'
import { formatLog, formatTransaction, toData } from './format.ts'
import type { JsonObject } from './format.ts'
import { keptResult, keptSize } from './jsonrpc.ts'
import { ParamError, blockNumber, boolean, hash, optional } from './params.ts'
import type { BlockNumberParam, Param } from './params.ts'
import { methodsOver, namespace, subscriptionsOver } from './registry.ts'
import { newId } from './subscriptions.ts'
import type { ChainEvents, LogEvent } from './subscriptions.ts'

/** geth's FilterCriteria, decoded. */
export interface LogCriteria {
  blockHash?: Uint8Array
  /** absent: latest */
  fromBlock?: BlockNumberParam
  toBlock?: BlockNumberParam
  /** lowercase 0x hex; empty matches every address */
  addresses: string[]
  /** per position, the topics accepted there (lowercase 0x hex); an empty list (null in the request) accepts any */
  topics: string[][]
}

// geth's limits: LOG0..LOG4, and topics per position
const MAX_TOPICS = 4
const MAX_SUB_TOPICS = 1000
/** geth's filter timeout: a filter not polled for this long is removed */
export const FILTER_TIMEOUT_MS = 5 * 60 * 1000

const exceedMaxTopics = () => new ParamError('exceed max topics')
const invalidTopic = () => new ParamError('invalid topic(s)')
const invalidBlockRange = () => serverError('invalid block range params')
const filterNotFound = () => serverError('filter not found')

function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'boolean') return 'bool'
  return typeof value
}

/** hexutil.Decode and its messages, then the length check of decodeAddress/decodeTopic */
function decodeFixedHex(s: string, size: number, what: string): string {
  if (s === '') throw new ParamError('empty hex string')
  if (!/^0[xX]/.test(s)) throw new ParamError('hex string without 0x prefix')
  const digits = s.slice(2)
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new ParamError('invalid hex string')
  if (digits.length % 2 !== 0) throw new ParamError('hex string of odd length')
  if (digits.length !== size * 2) throw new ParamError(`hex has invalid length ${digits.length / 2} after decoding; expected ${size} for ${what}`)
  return `0x${digits.toLowerCase()}`
}

const decodeAddress = (s: string) => decodeFixedHex(s, 20, 'address')
const decodeTopic = (s: string) => decodeFixedHex(s, 32, 'topic')

function decodeAddresses(raw: unknown): string[] {
  if (raw === undefined || raw === null) return []
  const wrap = (prefix: string, f: () => string) => {
    try {
      return f()
    } catch (err) {
      throw new ParamError(`${prefix}: ${(err as Error).message}`)
    }
  }
  if (typeof raw === 'string') return [wrap('invalid address', () => decodeAddress(raw))]
  if (!Array.isArray(raw)) throw new ParamError('invalid addresses in query')
  return raw.map((a, i) => {
    if (typeof a !== 'string') throw new ParamError(`non-string address at index ${i}`)
    return wrap(`invalid address at index ${i}`, () => decodeAddress(a))
  })
}

function decodeTopics(raw: unknown): string[][] {
  if (raw === undefined || raw === null) return []
  if (!Array.isArray(raw)) throw new ParamError(`json: cannot unmarshal ${jsonKind(raw)} into Go struct field input.topics of type []interface {}`)
  if (raw.length > MAX_TOPICS) throw exceedMaxTopics()
  return raw.map((position) => {
    if (position === null) return []
    if (typeof position === 'string') return [decodeTopic(position)]
    if (!Array.isArray(position)) throw invalidTopic()
    if (position.length > MAX_SUB_TOPICS) throw exceedMaxTopics()
    const accepted: string[] = []
    for (const topic of position) {
      // a null among the alternatives makes the position a wildcard; geth stops looking there
      if (topic === null) return []
      if (typeof topic !== 'string') throw invalidTopic()
      accepted.push(decodeTopic(topic))
    }
    return accepted
  })
}

/** FilterCriteria.UnmarshalJSON: members matched case-insensitively as encoding/json does, null meaning absent. */
export const logCriteria: Param<LogCriteria> = {
  optional: false,
  parse(value) {
    const obj = value ?? {}
    if (typeof obj !== 'object' || Array.isArray(obj)) throw new ParamError(`json: cannot unmarshal ${jsonKind(obj)} into Go value of type filters.input`)
    const raw: Record<string, unknown> = {}
    for (const [key, v] of Object.entries(obj)) raw[key.toLowerCase()] = v
    const present = (key: string) => raw[key] !== undefined && raw[key] !== null
    const criteria: LogCriteria = { addresses: [], topics: [] }
    if (present('blockhash')) criteria.blockHash = hash.parse(raw.blockhash)
    if (present('fromblock')) criteria.fromBlock = blockNumber.parse(raw.fromblock)
    if (present('toblock')) criteria.toBlock = blockNumber.parse(raw.toblock)
    if (criteria.blockHash !== undefined && (criteria.fromBlock !== undefined || criteria.toBlock !== undefined)) {
      throw new ParamError('cannot specify both BlockHash and FromBlock/ToBlock, choose one or the other')
    }
    criteria.addresses = decodeAddresses(raw.address)
    criteria.topics = decodeTopics(raw.topics)
    return criteria
  },
}

/**
 * Whether a log passes the address and topic rules of `criteria`, as geth's filterLogs: any listed address (none
 * listed: any); topics by position, each position any of its list (an empty list: anything), and a log with fewer
 * topics than positions never matches. Arguments are lowercase 0x hex.
 */
export function logMatches(criteria: Pick<LogCriteria, 'addresses' | 'topics'>, address: string, topics: readonly string[]): boolean {
  if (criteria.addresses.length > 0 && !criteria.addresses.includes(address)) return false
  if (criteria.topics.length > topics.length) return false
  return criteria.topics.every((accepted, i) => accepted.length === 0 || accepted.includes(topics[i]))
}

/** geth's rpc.BlockNumber as int64: what its range rules compare */
const LATEST = -2n
const PENDING = -1n
const TAG_NUMBERS = { safe: -4n, finalized: -3n, latest: LATEST, pending: PENDING, earliest: 0n } as const
const gethNumber = (n: BlockNumberParam | undefined): bigint => (n === undefined ? LATEST : typeof n === 'bigint' ? n : TAG_NUMBERS[n])

/** filterLogs' block range: only explicit numbers restrict, tags do not. */
function inBlockRange(criteria: LogCriteria, blockNumber: bigint): boolean {
  const from = gethNumber(criteria.fromBlock)
  const to = gethNumber(criteria.toBlock)
  return !(from >= 0n && from > blockNumber) && !(to >= 0n && to < blockNumber)
}

/**
 * EventSystem.SubscribeLogs' range rules for new logs. Returns whether the filter wants mined logs at all: from and
 * to both pending asks for pending logs only, which cairn does not produce (it builds no pending block).
 */
function wantsMinedLogs(criteria: LogCriteria): boolean {
  const from = gethNumber(criteria.fromBlock)
  const to = gethNumber(criteria.toBlock)
  if (from === PENDING && to === PENDING) return false
  if (from === LATEST && to === LATEST) return true
  if (from >= 0n && to >= 0n && to >= from) return true
  if (from >= LATEST && to === PENDING) return true
  if (from >= 0n && to === LATEST) return true
  throw invalidBlockRange()
}

/** Calls `deliver` with the new logs matching `criteria` (removed ones again, flagged, after a reorg). */
function watchLogs(events: ChainEvents, criteria: LogCriteria, deliver: (logs: LogEvent[]) => void): () => void {
  if (!wantsMinedLogs(criteria)) return () => {}
  return events.onLogs((logs) => {
    const matched = logs.filter((l) => inBlockRange(criteria, l.blockNumber) && logMatches(criteria, l.address, l.topics))
    if (matched.length > 0) deliver(matched)
  })
}

/** The three bits a value sets in a 2048-bit log bloom (geth's bloomValues), as [byte index, mask] pairs. */
type BloomBits = [number, number][]

function bloomBits(value: string): BloomBits {
  const h = keccak256(hexToBytes(value as `0x${string}`))
  const bits: BloomBits = []
  for (let i = 0; i < 6; i += 2) {
    const bit = ((h[i] << 8) | h[i + 1]) & 2047
    bits.push([BLOOM_BYTES - 1 - (bit >> 3), 1 << (bit & 7)])
  }
  return bits
}

const BLOOM_BYTES = 256

/**
 * A query's criteria prepared once: geth's bloomFilter per header (each criterion hashed once), and the logs of a
 * block worth comparing, from its index; logMatches decides on those.
 */
interface LogMatcher {
  mayMatch(header: BlockHeader): boolean
  candidates(block: BlockLogs): Iterable<number>
}

function logMatcher(criteria: LogCriteria): LogMatcher {
  const addressBits = criteria.addresses.map(bloomBits)
  const topicBits = criteria.topics.filter((accepted) => accepted.length > 0).map((accepted) => accepted.map(bloomBits))
  const has = (bloom: Uint8Array, bits: BloomBits) => bits.every(([at, mask]) => (bloom[at] & mask) !== 0)
  // each restricted dimension (the address, a topic position) as the index keys of the values it accepts
  const dimensions = [criteria.addresses.map(addressKey), ...criteria.topics.map((accepted, i) => accepted.map((t) => topicKey(i, t)))].filter((keys) => keys.length > 0)
  return {
    mayMatch: ({ logsBloom }) => {
      if (addressBits.length > 0 && !addressBits.some((bits) => has(logsBloom, bits))) return false
      return topicBits.every((accepted) => accepted.some((bits) => has(logsBloom, bits)))
    },
    candidates: ({ logs, index }) => {
      if (dimensions.length === 0) return logs.keys()
      // the logs of the most selective dimension: every match is among them
      let best: number[][] | undefined
      let bestSize = Infinity
      for (const keys of dimensions) {
        const lists = keys.map((k) => index.get(k) ?? [])
        const size = lists.reduce((n, l) => n + l.length, 0)
        if (size < bestSize) [best, bestSize] = [lists, size]
      }
      const lists = best!.filter((l) => l.length > 0)
      return lists.length <= 1 ? (lists[0] ?? []) : [...new Set(lists.flat())].sort((a, b) => a - b)
    },
  }
}

/** The logs of one block that match, formatted (logIndex counts every log of the block). */
async function matchingBlockLogs(chain: ChainReader, header: BlockHeader, criteria: LogCriteria, matcher = logMatcher(criteria)): Promise<JsonObject[]> {
  if (!matcher.mayMatch(header)) return []
  const block = await chain.getBlockLogs(header)
  if (block === undefined) return []
  const found: JsonObject[] = []
  const formatted = formattedLogsOf(chain)
  const blockKey = bytesToHex(block.blockHash)
  for (const logIndex of matcher.candidates(block)) {
    const key = `${blockKey}:${logIndex}`
    const kept = formatted.get(key)
    // a log answered before is matched on its kept hex, not encoded again
    if (kept !== undefined) {
      if (logMatches(criteria, kept.address as string, kept.topics as string[])) found.push(kept)
      continue
    }
    const { log, txIndex } = block.logs[logIndex]
    if (logMatches(criteria, bytesToHex(log[0]), log[1].map((t) => bytesToHex(t)))) {
      const answer = keptResult(formatLog(log, block.header, block.blockHash, block.txHashes[txIndex], txIndex, logIndex))
      formatted.set(key, answer)
      found.push(answer)
    }
  }
  return found
}

/**
 * Logs as answered, kept with their encoding (keptResult), by block hash and log index: a dapp asks for the same
 * history again and again, and formatting and encoding its logs cost more than finding them. A stored block's logs
 * always format the same. Bounded by the answers' encoded size.
 */
const formattedLogsByChain = new WeakMap<ChainReader, Lru<string, JsonObject>>()
const FORMATTED_LOG_BYTES = 16 * 1024 * 1024

function formattedLogsOf(chain: ChainReader): Lru<string, JsonObject> {
  let formatted = formattedLogsByChain.get(chain)
  if (formatted === undefined) formattedLogsByChain.set(chain, (formatted = new Lru<string, JsonObject>({ maxEntries: 65536, maxWeight: FORMATTED_LOG_BYTES, weigh: keptSize })))
  return formatted
}

/**
 * geth's Filter.Logs: the stored logs matching `criteria`, in one block (blockHash) or over a range of canonical
 * blocks (tags resolved at the current heads; the range stops at the head). cairn has no pending block, so pending
 * adds nothing. eth_getLogs runs on this too, after its own from > to check.
 */
export async function queryLogs(chain: ChainReader, criteria: LogCriteria): Promise<JsonObject[]> {
  if (criteria.blockHash !== undefined) {
    const header = await chain.getHeaderByHash(criteria.blockHash)
    if (header === undefined) throw serverError('unknown block')
    return matchingBlockLogs(chain, header, criteria)
  }
  const begin = gethNumber(criteria.fromBlock)
  const end = gethNumber(criteria.toBlock)
  if (begin === PENDING && end !== PENDING) throw invalidBlockRange()
  if (begin === PENDING) return []
  const heads = chain.heads()
  const resolve = (n: bigint) => {
    if (n === LATEST || n === PENDING) return heads.latest.number
    if (n === TAG_NUMBERS.finalized) return heads.finalized.number
    if (n === TAG_NUMBERS.safe) return heads.safe.number
    return n
  }
  const logs: JsonObject[] = []
  const matcher = logMatcher(criteria)
  for (let n = resolve(begin); n <= resolve(end); n++) {
    const canonical = await chain.getCanonicalHash(n)
    const header = canonical && (await chain.getHeaderByHash(canonical))
    if (!header) break
    logs.push(...(await matchingBlockLogs(chain, header, criteria, matcher)))
  }
  return logs
}

type Filter = { lastPolled: number; stop: () => void } & (
  | { type: 'blocks'; hashes: string[] }
  | { type: 'pendingTxs'; fullTx: boolean; txs: TypedTransaction[] }
  | { type: 'logs'; criteria: LogCriteria; logs: JsonObject[] }
)

export interface FilterSystemOptions {
  /** ms clock, for tests */
  now?: () => number
  /** idle time before a filter is removed; geth's 5 minutes */
  timeoutMs?: number
}

/**
 * The polling filters of the node, shared by every transport and connection (a filter made over HTTP can be polled
 * over WebSocket), and the context of the eth subscriptions. A filter collects what arrives after it is made;
 * eth_getFilterChanges hands that over and restarts its idle clock; one idle for the timeout is removed.
 */
export class FilterSystem {
  readonly events: ChainEvents
  private readonly filters = new Map<string, Filter>()
  private readonly now: () => number
  private readonly timeoutMs: number

  constructor(events: ChainEvents, opts: FilterSystemOptions = {}) {
    this.events = events
    this.now = opts.now ?? Date.now
    this.timeoutMs = opts.timeoutMs ?? FILTER_TIMEOUT_MS
    // expired filters also stop listening when nobody calls; unref: it never keeps the process up
    setInterval(() => this.expire(), this.timeoutMs).unref()
  }

  newLogFilter(criteria: LogCriteria): string {
    const filter: Filter = { type: 'logs', criteria, logs: [], lastPolled: this.now(), stop: () => {} }
    filter.stop = watchLogs(this.events, criteria, (logs) => filter.logs.push(...logs.map((l) => l.json)))
    return this.install(filter)
  }

  newBlockFilter(): string {
    const filter: Filter = { type: 'blocks', hashes: [], lastPolled: this.now(), stop: () => {} }
    filter.stop = this.events.onHead((header) => filter.hashes.push(header.hash as string))
    return this.install(filter)
  }

  newPendingTransactionFilter(fullTx: boolean): string {
    const filter: Filter = { type: 'pendingTxs', fullTx, txs: [], lastPolled: this.now(), stop: () => {} }
    filter.stop = this.events.onPendingTxs((txs) => filter.txs.push(...txs))
    return this.install(filter)
  }

  /** What arrived since the last poll: block hashes, pending transactions (hashes or objects) or logs. */
  changes(id: string): unknown[] {
    const filter = this.get(id)
    if (filter === undefined) throw filterNotFound()
    filter.lastPolled = this.now()
    switch (filter.type) {
      case 'blocks':
        return filter.hashes.splice(0)
      case 'pendingTxs':
        return filter.txs.splice(0).map((tx) => (filter.fullTx ? formatTransaction(tx) : toData(tx.hash())))
      case 'logs':
        return filter.logs.splice(0)
    }
  }

  /** Every stored log a log filter matches (it does not count as a poll, as in geth). */
  async logs(id: string): Promise<JsonObject[]> {
    const filter = this.get(id)
    if (filter === undefined || filter.type !== 'logs') throw filterNotFound()
    return queryLogs(this.events.chain, filter.criteria)
  }

  uninstall(id: string): boolean {
    const filter = this.get(id)
    if (filter === undefined) return false
    this.filters.delete(id)
    filter.stop()
    return true
  }

  /** Removes the filters idle for the timeout. */
  expire(): void {
    const now = this.now()
    for (const [id, filter] of this.filters) {
      if (now - filter.lastPolled < this.timeoutMs) continue
      this.filters.delete(id)
      filter.stop()
    }
  }

  private install(filter: Filter): string {
    const id = newId()
    this.filters.set(id, filter)
    return id
  }

  private get(id: string): Filter | undefined {
    this.expire()
    return this.filters.get(id)
  }
}

/** rpc.ID: a JSON string, null decoding to "" */
const filterId: Param<string> = {
  optional: false,
  parse(value) {
    if (value === null) return ''
    if (typeof value !== 'string') throw new ParamError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type rpc.ID`)
    return value
  },
}

const method = methodsOver<FilterSystem>()
const subscription = subscriptionsOver<FilterSystem>()

/** The eth namespace's filters and subscriptions (geth's FilterAPI, and the downloader's syncing subscription). */
export const ethFilters = namespace<FilterSystem>(
  'eth',
  [
    method({
      name: 'eth_newFilter',
      params: [logCriteria],
      handler: (filters, criteria) => filters.newLogFilter(criteria),
    }),
    method({ name: 'eth_newBlockFilter', params: [], handler: (filters) => filters.newBlockFilter() }),
    method({
      name: 'eth_newPendingTransactionFilter',
      params: [optional(boolean)],
      handler: (filters, fullTx) => filters.newPendingTransactionFilter(fullTx ?? false),
    }),
    method({ name: 'eth_getFilterChanges', params: [filterId], handler: (filters, id) => filters.changes(id) }),
    method({ name: 'eth_getFilterLogs', params: [filterId], handler: (filters, id) => filters.logs(id) }),
    method({ name: 'eth_uninstallFilter', params: [filterId], handler: (filters, id) => filters.uninstall(id) }),
  ],
  [
    subscription({ name: 'newHeads', params: [], start: (filters, notify) => filters.events.onHead(notify) }),
    subscription({
      name: 'logs',
      params: [logCriteria],
      start: (filters, notify, criteria) => watchLogs(filters.events, criteria, (logs) => logs.forEach((l) => notify(l.json))),
    }),
    subscription({
      name: 'newPendingTransactions',
      params: [optional(boolean)],
      start: (filters, notify, fullTx) => filters.events.onPendingTxs((txs) => txs.forEach((tx) => notify(fullTx ? formatTransaction(tx) : toData(tx.hash())))),
    }),
    // accepted as geth does; cairn does not sync yet, so there is never a status change to report
    subscription({ name: 'syncing', params: [], start: () => () => {} }),
  ],
)
