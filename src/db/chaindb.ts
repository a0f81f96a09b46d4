import { Level } from 'level'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, hexToBytes, utf8ToBytes } from '@ethereumjs/util'
import type { DB, BatchDBOp, EncodingOpts } from '@ethereumjs/util'

import type { TxLocation } from '../chain/types.ts'
import { GenerationalCache } from './lru.ts'

/**
 * The only place that knows cairn's key layout. Everything a block brings (header, body, receipts, tx lookups,
 * total difficulty, trie nodes, head pointers) is written through one WriteBatch, so a crash leaves either all of
 * a block or none of it.
 *
 * Batches are written behind: WriteBatch.write() returns once its batch is handed to LevelDB, and reads see it at
 * once, while LevelDB applies it in the background (an import waited for LevelDB a fifth of its time). Batches land
 * one after another, in order, so a crash leaves a prefix of them: the database restarts at the last block that
 * landed whole. A batch that fails makes every later write fail (see DatabaseWriteError).
 */
export const SCHEMA_VERSION = 1

const enc = (s: string) => utf8ToBytes(s)
const P = {
  schema: enc('cairn-schema'),
  genesisSpec: enc('cairn-genesis'),
  header: enc('h'), // h + num(8) + hash -> header rlp
  body: enc('b'), // b + num(8) + hash -> body rlp
  receipts: enc('r'), // r + num(8) + hash -> receipts rlp
  td: enc('t'), // t + num(8) + hash -> total difficulty
  hashToNumber: enc('H'), // H + hash -> num(8)
  canonical: enc('n'), // n + num(8) -> hash
  txLookup: enc('l'), // l + txhash -> rlp([num, index])
  trieNode: enc('T'), // T + node key -> node
  snapshot: enc('s'), // s + hash -> consensus snapshot (JSON bytes)
  head: enc('LastBlock'),
  safe: enc('LastSafe'),
  finalized: enc('LastFinalized'),
} as const

const num8 = (n: bigint) => {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}
const keyNumHash = (prefix: Uint8Array, n: bigint, hash: Uint8Array) => concatBytes(prefix, num8(n), hash)

/** the most bytes of trie nodes and code the node cache holds; each entry also counts ~160 bytes for its key and slot */
const TRIE_NODE_CACHE_BYTES = 64 * 1024 * 1024

/**
 * LevelDB keeps each open table file memory-mapped, and the pages read through a map stay in the process's RSS: with
 * its default of 1,000 open files, an import of 200,000 transfers held every table of its ~580 MB database, 434 MB
 * of its 1.13 GB peak RSS. At 100 that part is ~210 MB and the peak ~865 MB, at the same import speed (two interleaved
 * runs each, 93 and 128 s at 1,000 against 95 and 134 s at 100). A node serving random eth_getBalance calls on that
 * database (latest and historical state) answered as fast at 100 (11.3-12.7k and 6.5-7.1k req/s, against 11.5-11.6k
 * and 7.0-7.4k) with 456 MB of RSS instead of 905-934 MB.
 */
const MAX_OPEN_TABLES = 100

/**
 * Most of what cairn writes is trie nodes: hashes of hashes, which Snappy cannot shrink but still tries to. A 64 MB
 * write buffer (LevelDB's default is 4 MB) makes LevelDB's level-0 files larger and fewer, so compactions rewrite
 * less. Together they halved LevelDB's own CPU in an import of 200,000 transfers (~100 s to ~45 s; the database is
 * ~20 % larger on disk).
 */
const LEVELDB_OPTIONS = { writeBufferSize: 64 * 1024 * 1024, compression: false, maxOpenFiles: MAX_OPEN_TABLES } as const

export class DatadirLockedError extends Error {
  constructor(path: string) {
    super(`database ${path} is in use by another process (is another cairn running on this datadir?)`)
    this.name = 'DatadirLockedError'
  }
}

export class SchemaMismatchError extends Error {
  constructor(found: number) {
    super(`database schema version ${found} is not supported by this cairn (expects ${SCHEMA_VERSION}); use a matching cairn version or a new datadir`)
    this.name = 'SchemaMismatchError'
  }
}

/** A batch LevelDB failed to write: the database holds every batch before it, and takes no more. */
export class DatabaseWriteError extends Error {
  constructor(path: string, cause: unknown) {
    super(`writing to the database ${path} failed: ${(cause as Error)?.message ?? cause}; restart cairn, which resumes at the last block written whole`)
    this.name = 'DatabaseWriteError'
  }
}

type BatchOp = { type: 'put' | 'del'; key: Uint8Array; value?: Uint8Array }

export class ChainDB {
  readonly level: Level<Uint8Array, Uint8Array>
  readonly path: string
  /** what the batch being written puts and deletes (undefined), by key as latin1: reads see it before it lands */
  private landing = new Map<string, Uint8Array | undefined>()
  /** settles when every batch handed over so far has landed or failed (never rejects: see writeFailure) */
  private writes: Promise<void> = Promise.resolve()
  private writeFailure: DatabaseWriteError | undefined
  private closing = false
  /**
   * Trie nodes and code by key: a key is the hash of its value, so an entry is never stale (reorgs included). Every
   * state read walks the trie from its root, so the upper nodes are read for each account asked for.
   */
  private readonly trieNodes = new GenerationalCache<string, Uint8Array>({ maxWeight: TRIE_NODE_CACHE_BYTES, weigh: (v) => v.length + 160 })

  private constructor(level: Level<Uint8Array, Uint8Array>, path: string) {
    this.level = level
    this.path = path
  }

  static async open(path: string): Promise<ChainDB> {
    const level = new Level<Uint8Array, Uint8Array>(path, { keyEncoding: 'view', valueEncoding: 'view', ...LEVELDB_OPTIONS })
    try {
      await level.open()
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause
      if (cause?.code === 'LEVEL_LOCKED') throw new DatadirLockedError(path)
      throw err
    }
    const db = new ChainDB(level, path)
    const v = await db.get(P.schema)
    if (v === undefined) await level.put(P.schema, enc(String(SCHEMA_VERSION)))
    else if (Number(new TextDecoder().decode(v)) !== SCHEMA_VERSION) {
      await level.close()
      throw new SchemaMismatchError(Number(new TextDecoder().decode(v)))
    }
    return db
  }

  /** Refuses further writes, waits for the batches handed over to land, then closes; throws if one failed. */
  async close(): Promise<void> {
    this.closing = true
    await this.writes
    await this.level.close()
    if (this.writeFailure !== undefined) throw this.writeFailure
  }

  /**
   * Writes `ops` atomically, after every batch before them. Resolves once LevelDB has them, when the batch before
   * has landed (LevelDB orders concurrent writes by whichever thread takes its lock first); reads see them from then.
   */
  writeBatch(ops: BatchOp[]): Promise<void> {
    // a write racing shutdown is refused here, not failed by LevelDB (which would stop every later write)
    if (this.closing) return Promise.reject(new Error(`the database ${this.path} is closed`))
    const started = this.writes.then(() => this.startBatch(ops))
    this.writes = started.then(
      ({ landed }) => landed,
      () => {},
    )
    return started.then(() => {})
  }

  /** LevelDB's write of `ops`, wrapped so that awaiting the wrapper does not wait for the write */
  private startBatch(ops: BatchOp[]): { landed: Promise<void> } {
    if (this.writeFailure !== undefined) throw this.writeFailure
    const landing = new Map<string, Uint8Array | undefined>()
    for (const op of ops) landing.set(latin1(op.key), op.type === 'put' ? op.value : undefined)
    this.landing = landing
    const landed = this.level.batch(ops as never).then(
      () => {
        this.landing = new Map()
      },
      (err: unknown) => {
        // what the batch holds stays readable, as this process already acted on it; nothing more is written
        this.writeFailure = new DatabaseWriteError(this.path, err)
      },
    )
    return { landed }
  }

  // Reads are synchronous: a key's blocks are in LevelDB's cache or the page cache almost always, and an async get
  // costs a round trip through libuv's thread pool (a wake-up each way) that dwarfs the lookup. State reads walk the
  // trie one node after another, so those round trips added up to a fifth of an import's time.
  private async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.landing.size > 0) {
      const k = latin1(key)
      if (this.landing.has(k)) return this.landing.get(k)
    }
    return this.level.getSync(key) ?? undefined
  }

  batch(): WriteBatch {
    return new WriteBatch(this)
  }

  // ---- reads

  async getGenesisSpec(): Promise<string | undefined> {
    const v = await this.get(P.genesisSpec)
    return v === undefined ? undefined : new TextDecoder().decode(v)
  }

  async getHeaderRlp(number: bigint, hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.get(keyNumHash(P.header, number, hash))
  }

  async getBodyRlp(number: bigint, hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.get(keyNumHash(P.body, number, hash))
  }

  async getReceiptsRlp(number: bigint, hash: Uint8Array): Promise<Uint8Array | undefined> {
    return this.get(keyNumHash(P.receipts, number, hash))
  }

  async getTotalDifficulty(number: bigint, hash: Uint8Array): Promise<bigint | undefined> {
    const v = await this.get(keyNumHash(P.td, number, hash))
    return v === undefined ? undefined : bytesToBigInt(v)
  }

  async getNumber(hash: Uint8Array): Promise<bigint | undefined> {
    const v = await this.get(concatBytes(P.hashToNumber, hash))
    return v === undefined ? undefined : new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0)
  }

  async getCanonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    return this.get(concatBytes(P.canonical, num8(number)))
  }

  async getTxLookup(txHash: Uint8Array): Promise<{ blockNumber: bigint; index: number } | undefined> {
    const v = await this.get(concatBytes(P.txLookup, txHash))
    if (v === undefined) return undefined
    const [n, i] = RLP.decode(v) as Uint8Array[]
    return { blockNumber: bytesToBigInt(n), index: Number(bytesToBigInt(i)) }
  }

  async getHeadHash(which: 'latest' | 'safe' | 'finalized'): Promise<Uint8Array | undefined> {
    return this.get(which === 'latest' ? P.head : which === 'safe' ? P.safe : P.finalized)
  }

  async getSnapshot(hash: Uint8Array): Promise<string | undefined> {
    const v = await this.get(concatBytes(P.snapshot, hash))
    return v === undefined ? undefined : new TextDecoder().decode(v)
  }

  async getTrieNode(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.get(concatBytes(P.trieNode, key))
  }

  /** A trie node or code by its key in hex (as the trie names it), through the node cache. */
  async getTrieNodeByHex(key: string): Promise<Uint8Array | undefined> {
    const cached = this.trieNodes.get(key)
    if (cached !== undefined) return cached
    const node = await this.getTrieNode(hexToBytes(`0x${key}`))
    if (node !== undefined) this.trieNodes.set(key, node)
    return node
  }

  /** Trie nodes just written: into the node cache, as a read would have put them. */
  cacheTrieNodes(nodes: Iterable<[key: Uint8Array, value: Uint8Array]>): void {
    for (const [k, v] of nodes) this.trieNodes.set(bytesToHex(k).slice(2), v)
  }

  /** Trie nodes by their keys in hex: out of the node cache (they stay stored). */
  forgetTrieNodes(keys: Iterable<string>): void {
    for (const key of keys) this.trieNodes.delete(key)
  }

  /** A state-trie node store for the execution layer: reads through, buffers writes for the next block batch. */
  trieStore(): TrieNodeStore {
    return new TrieNodeStore(this)
  }
}

/** Collects one block's (or one head change's) writes; `write()` applies them atomically. */
export class WriteBatch {
  private readonly ops: BatchOp[] = []
  private readonly trieNodes: [Uint8Array, Uint8Array][] = []
  private readonly replacedTrieNodes: string[] = []
  private readonly db: ChainDB

  constructor(db: ChainDB) {
    this.db = db
  }

  get size(): number {
    return this.ops.length
  }

  private put(key: Uint8Array, value: Uint8Array): this {
    this.ops.push({ type: 'put', key, value })
    return this
  }

  private del(key: Uint8Array): this {
    this.ops.push({ type: 'del', key })
    return this
  }

  putGenesisSpec(json: string): this {
    return this.put(P.genesisSpec, enc(json))
  }

  putHeader(number: bigint, hash: Uint8Array, headerRlp: Uint8Array): this {
    this.put(keyNumHash(P.header, number, hash), headerRlp)
    return this.put(concatBytes(P.hashToNumber, hash), num8(number))
  }

  putBody(number: bigint, hash: Uint8Array, bodyRlp: Uint8Array): this {
    return this.put(keyNumHash(P.body, number, hash), bodyRlp)
  }

  /** receipts as geth stores them: an RLP list of each receipt's consensus encoding */
  putReceiptsRlp(number: bigint, hash: Uint8Array, receiptsRlp: Uint8Array): this {
    return this.put(keyNumHash(P.receipts, number, hash), receiptsRlp)
  }

  putTotalDifficulty(number: bigint, hash: Uint8Array, td: bigint): this {
    return this.put(keyNumHash(P.td, number, hash), bigIntToBytes(td))
  }

  putCanonical(number: bigint, hash: Uint8Array): this {
    return this.put(concatBytes(P.canonical, num8(number)), hash)
  }

  deleteCanonical(number: bigint): this {
    return this.del(concatBytes(P.canonical, num8(number)))
  }

  putTxLookup(txHash: Uint8Array, loc: Pick<TxLocation, 'blockNumber' | 'index'>): this {
    return this.put(concatBytes(P.txLookup, txHash), RLP.encode([bigIntToBytes(loc.blockNumber), loc.index]))
  }

  deleteTxLookup(txHash: Uint8Array): this {
    return this.del(concatBytes(P.txLookup, txHash))
  }

  putHead(which: 'latest' | 'safe' | 'finalized', hash: Uint8Array): this {
    return this.put(which === 'latest' ? P.head : which === 'safe' ? P.safe : P.finalized, hash)
  }

  putSnapshot(hash: Uint8Array, json: string): this {
    return this.put(concatBytes(P.snapshot, hash), enc(json))
  }

  putTrieNodes(nodes: Iterable<[key: Uint8Array, value: Uint8Array]>): this {
    for (const [k, v] of nodes) {
      this.put(concatBytes(P.trieNode, k), v)
      this.trieNodes.push([k, v])
    }
    return this
  }

  /**
   * Trie nodes (keys in hex) the head's state no longer refers to once this batch lands: they leave the node cache
   * then. Left in, they would push out nodes it does: a block replaces every node on each changed account's path, so
   * the cache filled with dead versions, and the state's lower levels missed it nearly always.
   */
  forgetTrieNodes(keys: Iterable<string>): this {
    for (const key of keys) this.replacedTrieNodes.push(key)
    return this
  }

  /** Hands the batch to the database (see ChainDB.writeBatch): reads see it when this returns. */
  async write(): Promise<void> {
    if (this.ops.length === 0) return
    await this.db.writeBatch(this.ops)
    // first, as a node made again (a value written back) is among both
    this.db.forgetTrieNodes(this.replacedTrieNodes)
    // every block rewrites the root path and reads it back first in the next block: keep what was written
    this.db.cacheTrieNodes(this.trieNodes)
  }
}

/**
 * Implements ethereumjs's DB interface for the state trie. Nodes are content-addressed and never deleted (archive
 * state), so buffering writes and flushing them with the block that produced them keeps every block atomic.
 */
export class TrieNodeStore implements DB<string, string | Uint8Array> {
  private readonly chain: ChainDB
  private pending = new Map<string, Uint8Array>()
  private replaced: string[] = []

  constructor(chain: ChainDB) {
    this.chain = chain
  }

  async get(key: string, _opts?: EncodingOpts): Promise<Uint8Array | undefined> {
    const p = this.pending.get(key)
    if (p !== undefined) return p
    return this.chain.getTrieNodeByHex(key)
  }

  async put(key: string, value: string | Uint8Array, _opts?: EncodingOpts): Promise<void> {
    this.pending.set(key, typeof value === 'string' ? hexToBytes(`0x${value}`) : value)
  }

  async del(_key: string, _opts?: EncodingOpts): Promise<void> {
    // archive node: trie nodes are never pruned
  }

  /** Stored nodes the buffered writes replaced, by their keys in hex (see trieBatch's NodeSource). */
  superseded(keys: string[]): void {
    for (const key of keys) this.replaced.push(key)
  }

  async batch(ops: BatchDBOp<string, string | Uint8Array>[]): Promise<void> {
    for (const op of ops) if (op.type === 'put') await this.put(op.key, op.value)
  }

  shallowCopy(): DB<string, string | Uint8Array> {
    return this
  }

  async open(): Promise<void> {}

  /** Hands the buffered nodes, and the stored ones they replaced, to a block batch and forgets them. */
  drain(): { nodes: [Uint8Array, Uint8Array][]; replaced: string[] } {
    const nodes: [Uint8Array, Uint8Array][] = []
    for (const [k, v] of this.pending) nodes.push([hexToBytes(`0x${k}`), v])
    const replaced = this.replaced
    this.pending = new Map()
    this.replaced = []
    return { nodes, replaced }
  }

  discard(): void {
    this.pending = new Map()
    this.replaced = []
  }
}

function latin1(key: Uint8Array): string {
  return Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('latin1')
}
