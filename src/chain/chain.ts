import { EventEmitter } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { setImmediate as yieldToEventLoop } from 'node:timers/promises'

import { createBlock, createBlockFromBytesArray, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { Block, BlockBytes, BlockHeader, BlockHeaderBytes, HeaderData } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import type { Common, CustomCrypto } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, SHA256_NULL, bytesToBigInt, bytesToHex, equalsBytes } from '@ethereumjs/util'

import { ForkCommons } from '../config/forkCommons.ts'
import { buildCommon, parseGenesis } from '../config/genesis.ts'
import type { Genesis } from '../config/genesis.ts'
import { ChainDB } from '../db/chaindb.ts'
import { Lru } from '../db/lru.ts'
import type { WriteBatch } from '../db/chaindb.ts'
import { CliqueEngine } from '../consensus/clique/engine.ts'
import { CallExecutor } from '../execution/call.ts'
import type { CallExecution, CallExecutorOptions } from '../execution/call.ts'
import { customCrypto } from '../execution/crypto.ts'
import { TrieProofs } from '../execution/proof.ts'
import { StateMemo, memoStateView } from '../execution/stateMemo.ts'
import type { StateProofs } from '../execution/proof.ts'
import { Simulator } from '../execution/simulate.ts'
import type { Simulation, SimulatorOptions } from '../execution/simulate.ts'
import { Executor } from '../execution/executor.ts'
import { orderedTrieRoot } from '../execution/orderedTrie.ts'
import type { AncestorHashes, ExecutedBlock, StateCacheLimits } from '../execution/executor.ts'
import { recordBlockSize } from './blockSize.ts'
import { blockLogsOf } from './blockLogs.ts'
import { encodeBody, txHashesOfBody } from './bodyRlp.ts'
import { verifyExecutionHeader } from './headerRules.ts'
import { decodeReceiptList, encodeReceiptList } from './receipts.ts'
import { rememberEncoding, txBytes } from './txBytes.ts'
import type { BlockLogs, ChainReader, ConsensusReceipt, Heads, StateView, TxLocation } from './types.ts'

/** What the chain needs from a consensus engine (Clique, or ethash/beacon for imported public-style chains). */
export interface ConsensusEngine {
  readonly name: string
  /** Checks the consensus fields of `header` on `parent` (seal, signer, difficulty...); throws with the reason. */
  verifyHeader(header: BlockHeader, parent: BlockHeader, reader: HeaderReader): Promise<void>
  /** Who receives the block's fees and is COINBASE to the EVM (geth's Engine.Author): Clique's signer. */
  author(header: BlockHeader): Uint8Array
  /** Checks body rules the engine adds (Clique: emptyBlocks=false forbids empty blocks). */
  verifyBody?(block: Block): void
  /** Fork choice between heads of equal total difficulty: negative when `a` is preferred over `b`. */
  tieBreak?(a: { header: BlockHeader; td: bigint }, b: { header: BlockHeader; td: bigint }, reader: HeaderReader): Promise<number>
  /** Adds what the engine keeps per block (Clique snapshots) to the block's own batch. */
  onBlockWritten?(header: BlockHeader, batch: WriteBatch, reader: HeaderReader): Promise<void>
}

export interface HeaderReader {
  getHeaderByHash(hash: Uint8Array): Promise<BlockHeader | undefined>
  getHeaderByNumber(number: bigint): Promise<BlockHeader | undefined>
}

export type ImportOutcome = 'imported' | 'known' | 'side'

export class BlockImportError extends Error {
  readonly blockNumber: bigint
  readonly blockHash: Uint8Array
  readonly reason: string
  constructor(header: BlockHeader, reason: string) {
    super(`invalid block ${header.number} (${bytesToHex(header.hash())}): ${reason}`)
    this.name = 'BlockImportError'
    this.blockNumber = header.number
    this.blockHash = header.hash()
    this.reason = reason
  }
}

export class GenesisMismatchError extends Error {
  constructor(have: Uint8Array, want: Uint8Array) {
    super(
      `database contains incompatible genesis (have ${bytesToHex(have)}, new ${bytesToHex(want)}): ` +
        'this datadir belongs to another chain; use a new --datadir or the genesis it was created with',
    )
    this.name = 'GenesisMismatchError'
  }
}

export interface ChainEvents {
  /** the canonical head moved; `removed` lists blocks that left the canonical chain in a reorg (newest first) */
  head: [head: Block, removed: Block[]]
  block: [block: Block, outcome: ImportOutcome]
}

export interface ChainOptions {
  customCrypto?: CustomCrypto
  networkId?: bigint
  /** bounds of the block executor's state caches (tests use tiny ones) */
  stateCacheLimits?: StateCacheLimits
}

/** transactions above which a block's write lets the event loop in (see Chain.write) */
const LARGE_BLOCK_TXS = 500

/**
 * The canonical chain over LevelDB: genesis, validated and atomic block import, fork choice and reorgs, and the
 * read surface (ChainReader) everything else uses. Imports are serialised; reads are concurrent.
 */
export class Chain extends EventEmitter<ChainEvents> implements ChainReader, HeaderReader {
  readonly db: ChainDB
  readonly common: Common
  readonly genesisSpec: Genesis
  readonly genesis: Block
  readonly chainId: bigint
  readonly networkId: bigint
  readonly engine: ConsensusEngine
  /** Clique has no finality gadget: its head is also what cairn reports as safe and finalized. */
  readonly isClique: boolean
  private readonly executor: Executor
  private current: Heads
  private importQueue: Promise<unknown> = Promise.resolve()
  /** imports queued or running: a block being built stops taking transactions when one waits (see buildBlock) */
  private importsWaiting = 0
  /** total difficulties of the blocks written last, by hash (a block's never changes) */
  private readonly recentTds = new Lru<string, bigint>({ maxEntries: 256 })
  private readCaches: ReadCaches | undefined
  /**
   * The head block as it was written. Clients ask for the latest block after each one, and reading a block of
   * thousands of transactions back from the database and decoding it was ~2 % of a loaded devnet worker's CPU.
   */
  private headBlock: Block | undefined
  /** the last state view handed out, reused while readers ask for the same root */
  private lastStateView: { root: Uint8Array; view: StateView } | undefined

  private constructor(db: ChainDB, spec: Genesis, common: Common, genesis: Block, heads: Heads, opts: ChainOptions) {
    super()
    this.db = db
    this.genesisSpec = spec
    this.common = common
    this.genesis = genesis
    this.chainId = common.chainId()
    this.networkId = opts.networkId ?? this.chainId
    this.executor = new Executor(common, db, opts.stateCacheLimits)
    const clique = spec.config.clique
    this.isClique = clique !== undefined
    this.engine = clique !== undefined ? new CliqueEngine(clique, { loadSnapshot: (hash) => db.getSnapshot(hash) }) : passThroughEngine
    this.current = heads
  }

  /**
   * Writes the genesis block and state into a new datadir, as `geth init`. The same genesis again is a no-op;
   * another one is refused.
   */
  static async init(datadir: string, genesisJson: string, opts: ChainOptions = {}): Promise<{ hash: Uint8Array; created: boolean }> {
    const spec = parseGenesis(genesisJson)
    const db = await openDb(datadir)
    try {
      const common = buildCommon(spec, opts.customCrypto)
      const executor = new Executor(common, db)
      const { stateRoot, trieNodes } = await executor.genesisState(spec.alloc)
      const block = genesisBlock(spec, common, stateRoot)
      const existing = await db.getCanonicalHash(0n)
      if (existing !== undefined) {
        if (!equalsBytes(existing, block.hash())) throw new GenesisMismatchError(existing, block.hash())
        return { hash: existing, created: false }
      }
      const batch = db.batch().putGenesisSpec(genesisJson).putTrieNodes(trieNodes)
      writeBlockData(batch, block, [], spec.difficulty)
      batch.putCanonical(0n, block.hash())
      for (const which of ['latest', 'safe', 'finalized'] as const) batch.putHead(which, block.hash())
      await batch.write()
      return { hash: block.hash(), created: true }
    } finally {
      await db.close()
    }
  }

  /** Opens an initialised datadir at its last committed head. */
  static async open(datadir: string, opts: ChainOptions = {}): Promise<Chain> {
    const db = await openDb(datadir)
    try {
      const specJson = await db.getGenesisSpec()
      if (specJson === undefined) throw new Error(`datadir ${datadir} is not initialised: run \`cairn init --datadir ${datadir} genesis.json\` first`)
      const spec = parseGenesis(specJson)
      const common = buildCommon(spec, opts.customCrypto ?? customCrypto)
      const genesisHash = await db.getCanonicalHash(0n)
      const genesisRlp = genesisHash && (await db.getHeaderRlp(0n, genesisHash))
      if (genesisHash === undefined || genesisRlp === undefined) throw new Error(`datadir ${datadir} has no genesis block`)
      const genesisBody = await db.getBodyRlp(0n, genesisHash)
      if (genesisBody === undefined) throw new Error(`datadir ${datadir} has no genesis body`)
      const genesis = decodeStoredBlock(genesisRlp, genesisBody, common)
      const load = async (which: 'latest' | 'safe' | 'finalized') => {
        const hash = (await db.getHeadHash(which)) ?? genesisHash
        const number = await db.getNumber(hash)
        const rlp = number !== undefined ? await db.getHeaderRlp(number, hash) : undefined
        if (rlp === undefined) throw new Error(`database is corrupt: ${which} head ${bytesToHex(hash)} has no header`)
        return decodeHeader(rlp, common)
      }
      const heads = { latest: await load('latest'), safe: await load('safe'), finalized: await load('finalized') }
      return new Chain(db, spec, common, genesis, heads, opts)
    } catch (err) {
      await db.close()
      throw err
    }
  }

  async close(): Promise<void> {
    await this.importQueue.catch(() => {})
    await this.db.close()
  }

  // ---------------------------------------------------------------- ChainReader

  /** decoded headers, blocks and receipts by hash, canonical lookups until the next reorg (see ReadCaches) */
  private get reads(): ReadCaches {
    if (this.readCaches === undefined) {
      const reads = (this.readCaches = new ReadCaches(this.common))
      // first of the head listeners, so none of them reads a canonical entry the reorg replaced
      this.prependListener('head', (_head, removed) => {
        reads.forgetAbsentTxs()
        if (removed.length > 0) reads.forgetCanonical()
      })
    }
    return this.readCaches
  }

  heads(): Heads {
    return this.current
  }

  async getCanonicalHash(number: bigint): Promise<Uint8Array | undefined> {
    const reads = this.reads
    const cached = reads.canonical.get(number)
    if (cached !== undefined) return cached
    const generation = reads.generation
    const hash = await this.db.getCanonicalHash(number)
    // a reorg while reading: what was read may be the replaced entry
    if (hash !== undefined && generation === reads.generation) reads.canonical.set(number, hash)
    return hash
  }

  async getHeaderByHash(hash: Uint8Array): Promise<BlockHeader | undefined> {
    const key = bytesToHex(hash)
    const cached = this.reads.headers.get(key) ?? this.reads.blocks.get(key)?.header
    if (cached !== undefined) return cached
    const number = await this.db.getNumber(hash)
    if (number === undefined) return undefined
    const rlp = await this.db.getHeaderRlp(number, hash)
    if (rlp === undefined) return undefined
    const header = decodeHeader(rlp, this.common, this.reads.forks)
    this.reads.headers.set(key, header)
    return header
  }

  async getHeaderByNumber(number: bigint): Promise<BlockHeader | undefined> {
    const hash = await this.getCanonicalHash(number)
    return hash === undefined ? undefined : this.getHeaderByHash(hash)
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    if (this.headBlock !== undefined && equalsBytes(this.headBlock.hash(), hash)) return this.headBlock
    const key = bytesToHex(hash)
    const cached = this.reads.blocks.get(key)
    if (cached !== undefined) return cached
    const number = await this.db.getNumber(hash)
    if (number === undefined) return undefined
    const [h, b] = await Promise.all([this.db.getHeaderRlp(number, hash), this.db.getBodyRlp(number, hash)])
    if (h === undefined || b === undefined) return undefined
    const block = decodeStoredBlock(h, b, this.common, this.reads.forks)
    this.reads.blocks.set(key, block)
    return block
  }

  async getBlockByNumber(number: bigint): Promise<Block | undefined> {
    const hash = await this.getCanonicalHash(number)
    return hash === undefined ? undefined : this.getBlockByHash(hash)
  }

  async getTotalDifficulty(hash: Uint8Array): Promise<bigint | undefined> {
    const number = await this.db.getNumber(hash)
    return number === undefined ? undefined : this.db.getTotalDifficulty(number, hash)
  }

  async getReceipts(blockHash: Uint8Array): Promise<ConsensusReceipt[] | undefined> {
    const key = bytesToHex(blockHash)
    const cached = this.reads.receipts.get(key)
    if (cached !== undefined) return cached
    const number = await this.db.getNumber(blockHash)
    if (number === undefined) return undefined
    const rlp = await this.db.getReceiptsRlp(number, blockHash)
    if (rlp === undefined) return undefined
    const receipts = decodeReceiptList(rlp)
    this.reads.receipts.set(key, receipts)
    return receipts
  }

  async getBlockLogs(header: BlockHeader): Promise<BlockLogs | undefined> {
    const blockHash = header.hash()
    const key = bytesToHex(blockHash)
    const reads = this.reads
    const cached = reads.blockLogs.get(key)
    if (cached !== undefined) return cached.logs
    // concurrent queries over the same range wait for one read of each block
    let loading = reads.loadingLogs.get(key)
    if (loading === undefined) {
      loading = this.readBlockLogs(header, blockHash, key).finally(() => reads.loadingLogs.delete(key))
      reads.loadingLogs.set(key, loading)
    }
    return loading
  }

  private async readBlockLogs(header: BlockHeader, blockHash: Uint8Array, key: string): Promise<BlockLogs | undefined> {
    const reads = this.reads
    // what the receipt and block caches already hold is used, but a range scan does not fill (and flush) them
    const block = reads.blocks.get(key)
    const [receipts, body] = await Promise.all([
      reads.receipts.get(key) ?? this.db.getReceiptsRlp(header.number, blockHash).then((rlp) => rlp && decodeReceiptList(rlp)),
      block === undefined ? this.db.getBodyRlp(header.number, blockHash) : undefined,
    ])
    if (receipts === undefined || (block === undefined && body === undefined)) return undefined
    const txHashes = block !== undefined ? block.transactions.map((tx) => tx.hash()) : txHashesOfBody(body!)
    const entry = blockLogsOf(header, blockHash, txHashes, receipts)
    reads.blockLogs.set(key, entry)
    return entry.logs
  }

  async getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined> {
    const reads = this.reads
    const key = bytesToHex(txHash)
    let loc = reads.txLookups.get(key)
    if (loc === undefined) {
      if (reads.absentTxs.get(key) !== undefined) return undefined
      const { generation, heads } = reads
      loc = await this.db.getTxLookup(txHash)
      if (loc === undefined) {
        // clients poll for the receipts of their pending transactions: not there until the next head at least
        if (heads === reads.heads) reads.absentTxs.set(key, true)
        return undefined
      }
      if (generation === reads.generation) reads.txLookups.set(key, loc)
    }
    const blockHash = await this.getCanonicalHash(loc.blockNumber)
    return blockHash === undefined ? undefined : { blockHash, blockNumber: loc.blockNumber, index: loc.index }
  }

  /**
   * Read-only state at `header`. Readers of the same state share one view: a root names its state for good, and a
   * view costs ~15 us to make, a tenth of an eth_getBalance at the head.
   */
  async stateAt(header: BlockHeader): Promise<StateView> {
    const last = this.lastStateView
    if (last !== undefined && equalsBytes(last.root, header.stateRoot)) return last.view
    const view = memoStateView(this.db.trieStore(), this.common, this.reads.state, header.stateRoot)
    this.lastStateView = { root: header.stateRoot, view }
    return view
  }

  /**
   * Calls on the state of any stored block (eth_call, eth_estimateGas), each on a state of its own; `limits` are geth's
   * --rpc.gascap and --rpc.evmtimeout (50M gas, 5 s by default).
   */
  callExecution(limits: Pick<CallExecutorOptions, 'gasCap' | 'evmTimeoutMs'> = {}): CallExecution {
    return new CallExecutor({ ...limits, common: this.common, db: this.db, ancestors: (header) => this.ancestorsOf(header), memo: this.reads.state })
  }

  /** eth_simulateV1: blocks simulated on top of any stored block, on a state of their own; `limits` as callExecution's. */
  simulation(limits: Pick<SimulatorOptions, 'gasCap' | 'evmTimeoutMs'> = {}): Simulation {
    return new Simulator({ ...limits, common: this.common, db: this.db, ancestors: (header) => this.ancestorsOf(header) })
  }

  /** eth_getProof: EIP-1186 proofs from the stored state trie. */
  stateProofs(): StateProofs {
    return new TrieProofs(() => this.db.trieStore())
  }

  // ---------------------------------------------------------------- writing

  /** Imports one block; serialised with every other import. Throws BlockImportError when the block is invalid. */
  importBlock(block: Block): Promise<ImportOutcome> {
    this.importsWaiting++
    const run = this.importQueue.then(() => this.importOne(block)).finally(() => this.importsWaiting--)
    this.importQueue = run.catch(() => {})
    return run
  }

  /** whether a block is queued for import or being imported */
  get importing(): boolean {
    return this.importsWaiting > 0
  }

  /**
   * Resolves at once when no block is queued for import; otherwise once it and everything queued before it have
   * finished. What shares the thread with imports (peers' and users' transactions) waits on it, so that a block
   * reaches the head, and the peers behind this node, first.
   */
  importsDone(): Promise<void> {
    return this.importing ? this.settled() : Promise.resolve()
  }

  /** Resolves once everything queued so far (imports, builds, writes) has finished, whatever its outcome. */
  settled(): Promise<void> {
    return this.importQueue.then(
      () => {},
      () => {},
    )
  }

  /** Moves the safe and finalized pointers (a forkchoice update, or the import command after a non-Clique import). */
  async setFinality(safe: Uint8Array, finalized: Uint8Array): Promise<void> {
    const [s, f] = await Promise.all([this.getHeaderByHash(safe), this.getHeaderByHash(finalized)])
    if (s === undefined || f === undefined) throw new Error('unknown safe or finalized block')
    await this.db.batch().putHead('safe', safe).putHead('finalized', finalized).write()
    this.current = { ...this.current, safe: s, finalized: f }
  }

  /** Writes a block this node assembled and sealed (Chain.buildBlock already executed it): no second execution. */
  commitBuilt(block: Block, executed: ExecutedBlock): Promise<ImportOutcome> {
    const run = this.importQueue.then(async () => {
      const parent = await this.getHeaderByHash(block.header.parentHash)
      if (parent === undefined) throw new BlockImportError(block.header, 'unknown ancestor')
      return this.write(block, parent, executed)
    })
    this.importQueue = run.catch(() => {})
    return run
  }

  /** Ancestor hashes of the block on top of `parent`, for BLOCKHASH (last 256). */
  ancestorsOf(parent: BlockHeader): AncestorHashes {
    const cache = new Map<bigint, Uint8Array>([[parent.number, parent.hash()]])
    let cursor = parent
    return async (n) => {
      if (n > parent.number || n < parent.number - 256n || n < 0n) return undefined
      while (!cache.has(n) && cursor.number > 0n) {
        const prev = await this.getHeaderByHash(cursor.parentHash)
        if (prev === undefined) return undefined
        cache.set(prev.number, prev.hash())
        cursor = prev
      }
      return cache.get(n)
    }
  }

  /**
   * Assembles a block on `parent` from candidate transactions, with fees to `author` (see Executor.buildBlock).
   * Queued with imports: the executor's state manager serves one block at a time. The intake of transactions ends at
   * `intakeUntil` (performance.now() time), if given.
   */
  buildBlock(parent: BlockHeader, header: HeaderData, candidates: Iterable<TypedTransaction>, author: Uint8Array, intakeUntil = Infinity): ReturnType<Executor['buildBlock']> {
    // a peer's block waiting behind a long build would reach the head late (and this node would seal on a stale
    // parent): the build stops taking transactions and finishes with those it has
    const stopTaking = () => this.importsWaiting > 0 || performance.now() >= intakeUntil
    const run = this.importQueue.then(() => this.executor.buildBlock(parent, header, candidates, this.ancestorsOf(parent), author, stopTaking))
    this.importQueue = run.catch(() => {})
    return run
  }

  private async importOne(block: Block): Promise<ImportOutcome> {
    const header = block.header
    const hash = header.hash()
    if ((await this.db.getNumber(hash)) !== undefined) return 'known'
    const parent = await this.getHeaderByHash(header.parentHash)
    if (parent === undefined) throw new BlockImportError(header, 'unknown ancestor')
    if (!(await this.executor.hasState(parent.stateRoot))) throw new BlockImportError(header, 'missing trie node: parent state is not available')
    try {
      verifyExecutionHeader(header, parent, this.isClique)
      await this.engine.verifyHeader(header, parent, this)
      // validateData compares the transactions root it builds by one trie insertion per transaction; hand it the
      // root computed from the whole list at once
      if (block.transactions.length > 0) {
        ;(block as unknown as { cache: { txTrieRoot?: Uint8Array } }).cache.txTrieRoot = orderedTrieRoot(block.transactions.map(txBytes))
      }
      await block.validateData(false, true)
      this.engine.verifyBody?.(block)
      if (header.common.isActivatedEIP(4844)) block.validateBlobTransactions(parent)
    } catch (err) {
      throw new BlockImportError(header, (err as Error).message.replace(/ \(block number=.*$/s, ''))
    }
    let executed: ExecutedBlock
    try {
      executed = await this.executor.executeBlock(block, parent, this.ancestorsOf(parent), this.engine.author(header))
    } catch (err) {
      throw new BlockImportError(header, (err as Error).message)
    }
    return this.write(block, parent, executed)
  }

  private async write(block: Block, parent: BlockHeader, executed: ExecutedBlock): Promise<ImportOutcome> {
    const header = block.header
    const parentTd = await this.totalDifficultyOf(parent)
    if (parentTd === undefined) throw new BlockImportError(header, 'unknown ancestor total difficulty')
    const td = parentTd + header.difficulty
    // encoding a block of thousands of transactions takes tens of milliseconds: RPC gets a turn before and after.
    // A small block's takes less than the work a turn lets in, which delays its import.
    const large = block.transactions.length > LARGE_BLOCK_TXS
    if (large) await yieldToEventLoop()
    const batch = this.db.batch()
    writeBlockData(batch, block, executed.receipts, td)
    if (large) await yieldToEventLoop()
    batch.putTrieNodes(executed.trieNodes)
    await this.engine.onBlockWritten?.(header, batch, this)

    const head = this.current.latest
    const becomesHead = await this.preferOverHead(header, td, head)
    let removed: Block[] = []
    if (becomesHead) {
      removed = await this.setCanonical(batch, block)
      // only for the head: what a side block replaced may still be the head's state
      batch.forgetTrieNodes(executed.replacedTrieNodes)
    }
    // canonical lookups cached before or while the reorg is written would name the replaced blocks: no read in
    // flight may store its answer, and whatever was stored until the batch lands is dropped
    const reorg = removed.length > 0 ? this.readCaches : undefined
    reorg?.forgetCanonical()
    await batch.write()
    reorg?.forgetCanonical()
    this.recentTds.set(bytesToHex(block.hash()), td)
    if (becomesHead) {
      this.current = { latest: header, safe: this.isClique ? header : this.current.safe, finalized: this.isClique ? header : this.current.finalized }
      this.headBlock = block
      this.emit('block', block, 'imported')
      this.emit('head', block, removed)
      return 'imported'
    }
    this.emit('block', block, 'side')
    return 'side'
  }

  /** a stored block's total difficulty; the recent ones (the parent of the next block, the head) from memory */
  private async totalDifficultyOf(header: BlockHeader): Promise<bigint | undefined> {
    const hash = header.hash()
    return this.recentTds.get(bytesToHex(hash)) ?? (await this.db.getTotalDifficulty(header.number, hash))
  }

  private async preferOverHead(header: BlockHeader, td: bigint, head: BlockHeader): Promise<boolean> {
    if (equalsBytes(header.parentHash, head.hash())) return true
    const headTd = (await this.totalDifficultyOf(head)) ?? 0n
    if (td !== headTd) return td > headTd
    if (this.engine.tieBreak !== undefined) return (await this.engine.tieBreak({ header, td }, { header: head, td: headTd }, this)) < 0
    return false
  }

  /** Makes `block` the head: rewrites canonical numbers and tx lookups back to the common ancestor. */
  private async setCanonical(batch: WriteBatch, block: Block): Promise<Block[]> {
    const head = this.current.latest
    const removed: Block[] = []
    if (block.header.number === head.number + 1n && equalsBytes(block.header.parentHash, head.hash())) {
      // the common case, a block on the head: nothing to walk back or replace
      const n = block.header.number
      batch.putCanonical(n, block.hash())
      block.transactions.forEach((tx, index) => batch.putTxLookup(tx.hash(), { blockNumber: n, index }))
      this.putHeads(batch, block)
      return removed
    }
    // drop canonical entries above the new head
    for (let n = head.number; n > block.header.number; n--) {
      const old = await this.getBlockByNumber(n)
      if (old !== undefined) {
        removed.push(old)
        for (const tx of old.transactions) batch.deleteTxLookup(tx.hash())
      }
      batch.deleteCanonical(n)
    }
    let cursor = block
    for (;;) {
      const n = cursor.header.number
      const canonical = await this.db.getCanonicalHash(n)
      if (canonical !== undefined && equalsBytes(canonical, cursor.hash())) break
      const old = canonical && (await this.getBlockByHash(canonical))
      if (old) {
        removed.push(old)
        for (const tx of old.transactions) batch.deleteTxLookup(tx.hash())
      }
      batch.putCanonical(n, cursor.hash())
      cursor.transactions.forEach((tx, index) => batch.putTxLookup(tx.hash(), { blockNumber: n, index }))
      const parent = n === 0n ? undefined : await this.getBlockByHash(cursor.header.parentHash)
      if (parent === undefined) break
      cursor = parent
    }
    this.putHeads(batch, block)
    removed.sort((a, b) => Number(b.header.number - a.header.number))
    return removed
  }

  private putHeads(batch: WriteBatch, block: Block): void {
    batch.putHead('latest', block.hash())
    if (this.isClique) {
      batch.putHead('safe', block.hash())
      batch.putHead('finalized', block.hash())
    }
  }
}

/** For chains whose sealing cairn does not run: ethash seals are taken as given (difficulty is still checked). */
const passThroughEngine: ConsensusEngine = {
  name: 'none',
  async verifyHeader() {},
  author: (header) => header.coinbase.bytes,
}

async function openDb(datadir: string): Promise<ChainDB> {
  mkdirSync(datadir, { recursive: true })
  return ChainDB.open(join(datadir, 'chaindata'))
}

function writeBlockData(batch: WriteBatch, block: Block, receipts: ConsensusReceipt[], td: bigint): void {
  const { number } = block.header
  const hash = block.hash()
  const headerRlp = block.header.serialize()
  const bodyRlp = encodeBody(block)
  batch.putHeader(number, hash, headerRlp)
  batch.putBody(number, hash, bodyRlp)
  recordBlockSize(block, headerRlp, bodyRlp)
  batch.putReceiptsRlp(number, hash, encodeReceiptList(receipts))
  batch.putTotalDifficulty(number, hash, td)
}

/** A Common fixed at the fork of the given block; blocks and headers keep their own. */
function headerCommon(common: Common, number: bigint, timestamp: bigint): Common {
  const c = common.copy()
  c.setHardforkBy({ blockNumber: number, timestamp })
  return c
}

const blockOpts = { skipConsensusFormatValidation: true } as const

/**
 * What the chain keeps decoded for readers. A block hash names its header, body and receipts for good, so those entries
 * never go stale, reorgs included. Canonical number->hash entries and tx lookups do change in a reorg: they are
 * dropped on every head event that removed blocks (before any other listener runs), and a read that overlapped such
 * an event keeps its answer out of the cache (`generation`); transactions found in no block are remembered only until
 * the next head event (`heads`). Bounds: 4,096 headers (an eth_getLogs range of 1,000
 * blocks stays warm), 256 blocks holding at most 10,000 transactions, receipts of 256 blocks holding at most 20,000
 * receipts and logs, 8,192 canonical numbers, 8,192 tx lookups, 8,192 absent txs; committed state as StateMemo bounds it.
 */
class ReadCaches {
  readonly canonical = new Lru<bigint, Uint8Array>({ maxEntries: 8192 })
  readonly txLookups = new Lru<string, { blockNumber: bigint; index: number }>({ maxEntries: 8192 })
  /** transactions no canonical block holds, until the next head event */
  readonly absentTxs = new Lru<string, true>({ maxEntries: 8192 })
  /** bumped by each head event */
  heads = 0
  /** committed accounts, slots and code, for state views and calls (see StateMemo) */
  readonly state = new StateMemo()
  /** bumped by each reorg */
  generation = 0
  readonly forks: ForkCommons
  readonly headers = new Lru<string, BlockHeader>({ maxEntries: 4096 })
  readonly blocks = new Lru<string, Block>({ maxEntries: 256, maxWeight: 10_000, weigh: (b) => 1 + b.transactions.length })
  readonly receipts = new Lru<string, ConsensusReceipt[]>({
    maxEntries: 256,
    maxWeight: 20_000,
    weigh: (rs) => rs.reduce((n, r) => n + 1 + r.logs.length, 1),
  })

  /** eth_getLogs' view of recent blocks, by hash; weighed in bytes kept (see blockLogsOf) */
  readonly blockLogs = new Lru<string, { logs: BlockLogs; bytes: number }>({ maxEntries: 8192, maxWeight: 64 * 1024 * 1024, weigh: (e) => e.bytes })
  readonly loadingLogs = new Map<string, Promise<BlockLogs | undefined>>()

  constructor(common: Common) {
    this.forks = new ForkCommons(common)
  }

  forgetAbsentTxs(): void {
    this.heads++
    this.absentTxs.clear()
  }

  forgetCanonical(): void {
    this.generation++
    this.canonical.clear()
    this.txLookups.clear()
  }
}

/** header fields as stored: number (8) and timestamp (11) decide the fork */
function forkCommonOf(fields: Uint8Array[], forks: ForkCommons): Common {
  return forks.at(bytesToBigInt(fields[8]), bytesToBigInt(fields[11]))
}

export function decodeHeader(rlp: Uint8Array, common: Common, forks = new ForkCommons(common)): BlockHeader {
  const fields = RLP.decode(rlp) as BlockHeaderBytes
  return createBlockHeaderFromBytesArray(fields, { common: forkCommonOf(fields, forks), ...blockOpts })
}

function decodeStoredBlock(headerRlp: Uint8Array, bodyRlp: Uint8Array, common: Common, forks = new ForkCommons(common)): Block {
  const header = RLP.decode(headerRlp) as Uint8Array[]
  const body = RLP.decode(bodyRlp) as Uint8Array[][]
  const block = createBlockFromBytesArray([header, ...body] as unknown as BlockBytes, { common: forkCommonOf(header, forks), ...blockOpts })
  // a typed transaction is stored as its encoding: its hash and encoding come from those bytes
  body[0].forEach((encoded, i) => {
    if (encoded instanceof Uint8Array) rememberEncoding(block.transactions[i], encoded)
  })
  recordBlockSize(block, headerRlp, bodyRlp)
  return block
}

/** The genesis block as geth's Genesis.ToBlock builds it, fields by fork active at genesis. */
export function genesisBlock(spec: Genesis, common: Common, stateRoot: Uint8Array): Block {
  const c = headerCommon(common, 0n, spec.timestamp)
  const header = {
    number: 0n,
    parentHash: spec.parentHash,
    nonce: spec.nonce === 0n ? new Uint8Array(8) : bigToBytes8(spec.nonce),
    timestamp: spec.timestamp,
    extraData: spec.extraData,
    gasLimit: spec.gasLimit,
    gasUsed: spec.gasUsed,
    difficulty: spec.difficulty,
    mixHash: spec.mixHash,
    coinbase: spec.coinbase,
    stateRoot,
    ...(c.isActivatedEIP(1559) ? { baseFeePerGas: spec.baseFeePerGas } : {}),
    ...(c.isActivatedEIP(4895) ? { withdrawalsRoot: KECCAK256_RLP } : {}),
    ...(c.isActivatedEIP(4844) ? { blobGasUsed: spec.blobGasUsed ?? 0n, excessBlobGas: spec.excessBlobGas ?? 0n, parentBeaconBlockRoot: new Uint8Array(32) } : {}),
    ...(c.isActivatedEIP(7685) ? { requestsHash: SHA256_NULL } : {}),
  }
  return createBlock({ header, withdrawals: c.isActivatedEIP(4895) ? [] : undefined }, { common: c, skipConsensusFormatValidation: true })
}

function bigToBytes8(n: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}
