import { EventEmitter } from 'node:events'

import type { Block, BlockHeader } from '@ethereumjs/block'
import { TransactionType } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, toChecksumAddress } from '@ethereumjs/util'

import { childBaseFee } from '../config/genesis.ts'
import type { ChainReader } from '../chain/types.ts'
import type { Logger } from '../cli/log.ts'
import { TxPoolError, TxPoolErrors } from './errors.ts'
import { TxJournal } from './journal.ts'
import { TxList } from './list.ts'
import { TxsByPriceAndNonce } from './ordering.ts'
import { PricedList } from './priced.ts'
import { HeadState } from './state.ts'
import { checkBasics, describe, effectiveTip, isProtected, recoverSender } from './validation.ts'
import type { PoolTx, PooledTransaction } from './validation.ts'

/**
 * The chain as the pool sees it: reads, the head event (with the blocks a reorg removed, newest first), and when the
 * blocks being imported are in.
 */
export interface PoolChain extends ChainReader {
  on(event: 'head', listener: (head: Block, removed: Block[]) => void): unknown
  off(event: 'head', listener: (head: Block, removed: Block[]) => void): unknown
  /** resolves once no block is queued for import (see Chain.importsDone) */
  importsDone(): Promise<void>
}

/** geth 1.13's --txpool.* settings, plus what cairn decides itself. */
export interface TxPoolOptions {
  /** --txpool.journal resolved against the datadir (geth: DATADIR/transactions.rlp); none: locals are not kept */
  journalPath?: string
  /** --txpool.rejournal */
  rejournalMs?: number
  /** --txpool.pricelimit: minimum tip (wei) of remote transactions */
  priceLimit?: bigint
  /** --txpool.pricebump: percent a replacement must raise both fee cap and tip by */
  priceBump?: bigint
  /** --txpool.accountslots: executable transactions per account kept when the pool is over globalSlots */
  accountSlots?: number
  /** --txpool.globalslots */
  globalSlots?: number
  /** --txpool.accountqueue: future transactions per (remote) account */
  accountQueue?: number
  /** --txpool.globalqueue */
  globalQueue?: number
  /** --txpool.lifetime: how long a remote account's future transactions wait without any of them moving */
  lifetimeMs?: number
  /** --txpool.locals */
  locals?: string[]
  /** --txpool.nolocals: local submissions get no privileges */
  noLocals?: boolean
  /** --rpc.allow-unprotected-txs */
  allowUnprotectedTxs?: boolean
  /** accept EIP-4844 blob transactions (with their sidecar); geth keeps them in a separate pool */
  allowBlobTxs?: boolean
  /** milliseconds clock (tests inject one) */
  now?: () => number
  log?: Logger
}

/** geth 1.13 legacypool.DefaultConfig */
export const TXPOOL_DEFAULTS: Readonly<Limits> = {
  rejournalMs: 60 * 60 * 1000,
  priceLimit: 1n,
  priceBump: 10n,
  accountSlots: 16,
  globalSlots: 4096 + 1024,
  accountQueue: 64,
  globalQueue: 1024,
  lifetimeMs: 3 * 60 * 60 * 1000,
}

/** geth's evictionInterval: how often expired future transactions are looked for */
const EVICTION_INTERVAL_MS = 60 * 1000
/** reorgs deeper than this return no transactions to the pool (geth's limit) */
const MAX_REINJECT_DEPTH = 64n

export interface TxPoolEvents {
  /** transactions became executable (new, promoted from the queue, or replacing a pending one) */
  pending: [txs: PooledTransaction[]]
  /** new transactions entered the queue (nonce gap before them) */
  queued: [txs: PooledTransaction[]]
  /** the pool moved to a new head: what the head's blocks included is gone, the rest re-checked against its state */
  reset: []
}

/** address (lowercase) -> nonce -> transaction, by ascending nonce: txpool_content's grouping */
export type TxsByAccount<T = PooledTransaction> = Map<string, Map<bigint, T>>

type Config = Required<Omit<TxPoolOptions, 'journalPath' | 'locals' | 'log'>>
type Limits = Pick<Required<TxPoolOptions>, 'rejournalMs' | 'priceLimit' | 'priceBump' | 'accountSlots' | 'globalSlots' | 'accountQueue' | 'globalQueue' | 'lifetimeMs'>

/**
 * The transaction pool, with geth 1.13 legacypool semantics: pending (executable) and queued (future) transactions
 * per account, promotion as nonce gaps fill, demotion and removal as blocks arrive, replacement by price bump,
 * per-account and global limits with eviction of the cheapest remote transactions, a lifetime for queued ones,
 * re-injection after reorgs and a journal of local transactions.
 *
 * Every change runs in one serial queue (geth's pool mutex); state is read at the head before each change, the
 * bookkeeping itself is synchronous. Reads (content, nonce, ordering) see the state between changes.
 */
export class TxPool extends EventEmitter<TxPoolEvents> {
  private readonly chain: PoolChain
  private readonly config: Config
  private readonly log: Logger | undefined
  private readonly journal: TxJournal | undefined

  private head: BlockHeader | undefined
  private state: HeadState | undefined
  /** each account's next nonce with its pending transactions applied; absent: the state nonce */
  private pendingNonces = new Map<string, bigint>()

  private readonly pending = new Map<string, TxList>()
  private readonly queue = new Map<string, TxList>()
  /** last time each queued account's transactions moved (for the lifetime) */
  private readonly beats = new Map<string, number>()
  private readonly all = new Map<string, PoolTx>()
  private slots = 0
  /** EIP-7702: authority -> hashes of pooled transactions carrying its authorization */
  private readonly auths = new Map<string, Set<string>>()
  private readonly locals = new Set<string>()
  private readonly priced: PricedList
  /** replacements made since the last maintenance run: at most globalSlots/4 (geth's throttle) */
  private changesSinceReorg = 0
  private seq = 0

  private lock: Promise<unknown> = Promise.resolve()
  private timers: NodeJS.Timeout[] = []
  private readonly onHead = (head: Block, removed: Block[]) => {
    this.serial(() => this.reset(head, removed)).catch((err) => this.log?.error('Transaction pool reset failed', { err: (err as Error).message }))
  }

  constructor(chain: PoolChain, opts: TxPoolOptions = {}) {
    super()
    this.chain = chain
    this.log = opts.log
    this.config = sanitize(opts, this.log)
    for (const address of opts.locals ?? []) this.locals.add(address.toLowerCase())
    this.journal = opts.journalPath !== undefined && !this.config.noLocals ? new TxJournal(opts.journalPath) : undefined
    this.priced = new PricedList({
      isLiveRemote: (tx) => !tx.local && this.all.get(tx.hash) === tx,
      remotes: () => [...this.all.values()].filter((tx) => !tx.local),
    })
  }

  /** Loads the head state and the journal, then follows the chain's head. */
  async start(): Promise<void> {
    if (this.state !== undefined) return
    this.chain.on('head', this.onHead)
    await this.serial(async () => {
      const head = this.chain.heads().latest
      this.state = new HeadState(await this.chain.stateAt(head))
      this.head = head
      this.priced.setBaseFee(nextBaseFee(head))
    })
    if (this.journal !== undefined) {
      const { txs, error } = this.journal.load(this.currentHead().common)
      const errors = await this.addTxs(txs, true, false)
      const dropped = errors.filter((e) => e !== undefined).length
      if (error !== undefined) this.log?.warn('Failed to load transaction journal', { err: error.message })
      this.log?.info('Loaded local transaction journal', { transactions: txs.length, dropped })
      await this.serial(() => this.rotateJournal())
      this.timers.push(setInterval(() => void this.serial(() => this.rotateJournal()), this.config.rejournalMs).unref())
    }
    const evict = () => this.evictExpired().catch((err) => this.log?.error('Transaction eviction failed', { err: (err as Error).message }))
    this.timers.push(setInterval(evict, EVICTION_INTERVAL_MS).unref())
  }

  /** Stops following the chain, waits for the change in progress and writes the journal a last time. */
  async stop(): Promise<void> {
    this.chain.off('head', this.onHead)
    for (const t of this.timers.splice(0)) clearInterval(t)
    await this.serial(() => {
      if (this.journal !== undefined) {
        this.rotateJournal()
        this.journal.close()
      }
      this.state = undefined
    })
  }

  /**
   * Adds a transaction, throwing TxPoolError with geth's message when it is refused. `local` marks a submission
   * of this node's user (RPC): its sender becomes local (exempt from the price limit for this transaction, never
   * evicted for price or limits, journaled), and it must be replay-protected unless allowUnprotectedTxs.
   *
   * A submission waits while a block (a peer's, or one being synced) is imported, as peers' transactions do (net/):
   * on one thread the import would otherwise share it with the checks, and the nodes behind this one wait for the
   * block until it is imported and forwarded. The transaction is then checked against the new head's state.
   */
  async add(tx: TypedTransaction, opts: { local?: boolean } = {}): Promise<void> {
    await this.chain.importsDone()
    const local = opts.local ?? false
    const [error] = await this.addTxs([tx], local, local)
    if (error !== undefined) throw error
  }

  /** Adds transactions received from peers; each answer says why one was refused, if it was. */
  addRemotes(txs: TypedTransaction[]): Promise<(TxPoolError | undefined)[]> {
    return this.addTxs(txs, false, false)
  }

  /** eth_getTransactionCount(address, "pending"): the nonce after this account's executable transactions. */
  async pendingNonce(address: string): Promise<bigint> {
    const addr = address.toLowerCase()
    const known = this.pendingNonces.get(addr)
    if (known !== undefined) return known
    const state = this.currentState()
    await state.load([addr])
    return this.pendingNonces.get(addr) ?? state.get(addr).nonce
  }

  /**
   * What a block producer takes at `baseFee` (the next block's): the best paying transaction across accounts,
   * each account's in nonce order. With `minTip`, remote accounts' transactions from the first one paying less
   * than that at `baseFee` are left out (geth's miner gas price).
   */
  pendingByPriceAndNonce(baseFee?: bigint, minTip?: bigint): TxsByPriceAndNonce {
    const lists: PooledTransaction[][] = []
    for (const [address, list] of this.pending) {
      let txs = list.flatten()
      if (minTip !== undefined && !this.locals.has(address)) {
        const cut = txs.findIndex((tx) => effectiveTip(tx, baseFee) < minTip)
        if (cut >= 0) txs = txs.slice(0, cut)
      }
      if (txs.length > 0) lists.push(txs)
    }
    return new TxsByPriceAndNonce(lists, baseFee)
  }

  // the sealer's TxSource

  candidates(baseFee: bigint | undefined): Iterable<TypedTransaction> {
    return this.pendingByPriceAndNonce(baseFee)
  }

  hasPending(): boolean {
    return this.pending.size > 0
  }

  onPending(listener: () => void): () => void {
    this.on('pending', listener)
    return () => this.off('pending', listener)
  }

  // reads

  get(hash: string): PooledTransaction | undefined {
    return this.all.get(hash.toLowerCase())
  }

  has(hash: string): boolean {
    return this.all.has(hash.toLowerCase())
  }

  /**
   * The first `perAccount` pending transactions of each account, in nonce order (at most `max` in all): what a peer
   * that missed some of an account's transactions needs before the rest can run.
   */
  pendingHeads(perAccount: number, max: number): PooledTransaction[] {
    const out: PooledTransaction[] = []
    for (const list of this.pending.values()) {
      for (const tx of list.flatten().slice(0, perAccount)) {
        if (out.length >= max) return out
        out.push(tx)
      }
    }
    return out
  }

  /** txpool_status */
  status(): { pending: number; queued: number } {
    return { pending: countOf(this.pending), queued: countOf(this.queue) }
  }

  /** txpool_content */
  content(): { pending: TxsByAccount; queued: TxsByAccount } {
    return { pending: byAccount(this.pending, (tx) => tx), queued: byAccount(this.queue, (tx) => tx) }
  }

  /** txpool_contentFrom */
  contentFrom(address: string): { pending: Map<bigint, PooledTransaction>; queued: Map<bigint, PooledTransaction> } {
    const addr = address.toLowerCase()
    const byNonce = (list: TxList | undefined) => new Map((list?.flatten() ?? []).map((tx): [bigint, PooledTransaction] => [tx.nonce, tx]))
    return { pending: byNonce(this.pending.get(addr)), queued: byNonce(this.queue.get(addr)) }
  }

  /** txpool_inspect: geth's one-line summaries ("0xTo…: 1 wei + 21000 gas × 2 wei") */
  inspect(): { pending: TxsByAccount<string>; queued: TxsByAccount<string> } {
    return { pending: byAccount(this.pending, summary), queued: byAccount(this.queue, summary) }
  }

  /** Resolves once every change queued so far (adds, head changes) has been applied. */
  async settled(): Promise<void> {
    await this.serial(() => {})
  }

  /** Drops remote accounts' queued transactions that waited longer than the lifetime; the eviction timer runs it. */
  evictExpired(): Promise<number> {
    return this.serial(() => {
      const now = this.config.now()
      let evicted = 0
      for (const [address, list] of this.queue) {
        if (this.locals.has(address)) continue
        if (now - (this.beats.get(address) ?? now) <= this.config.lifetimeMs) continue
        evicted += list.length
        for (const tx of list.flatten()) this.removeTx(tx.hash, true)
      }
      return evicted
    })
  }

  // ---------------------------------------------------------------- admission

  private async addTxs(txs: TypedTransaction[], local: boolean, fromRpc: boolean): Promise<(TxPoolError | undefined)[]> {
    const isLocal = local && !this.config.noLocals
    const errors: (TxPoolError | undefined)[] = new Array(txs.length).fill(undefined)
    const admitted: { index: number; tx: PoolTx }[] = []
    txs.forEach((tx, index) => {
      try {
        admitted.push({ index, tx: this.checkStateless(tx, isLocal, fromRpc) })
      } catch (err) {
        if (!(err instanceof TxPoolError)) throw err
        errors[index] = err
      }
    })
    if (admitted.length === 0) return errors
    await this.serial(async () => {
      await this.currentState().load(admitted.map((a) => a.tx.from))
      const changes = new Changes()
      for (const { index, tx } of admitted) errors[index] = this.addLocked(tx, isLocal, changes)
      this.finish(changes, this.promoteExecutables([...changes.dirty]))
    })
    return errors
  }

  /** What geth checks before taking the pool lock (and its RPC layer before that); recovers the sender. */
  private checkStateless(tx: TypedTransaction, local: boolean, fromRpc: boolean): PoolTx {
    if (fromRpc && !this.config.allowUnprotectedTxs && !isProtected(tx)) throw TxPoolErrors.unprotected()
    if (tx.type === TransactionType.BlobEIP4844 && !this.config.allowBlobTxs) throw TxPoolErrors.txTypeNotSupported()
    if (this.all.has(bytesToHex(tx.hash()))) throw TxPoolErrors.alreadyKnown()
    const head = this.currentHead()
    const facts = checkBasics(tx, {
      common: head.common,
      chainId: this.chain.chainId,
      headGasLimit: head.gasLimit,
      minTip: local ? 0n : this.config.priceLimit,
    })
    return { ...facts, seq: this.seq++, local }
  }

  /** geth LegacyPool.add: the state checks, making room when full, then into pending (replacement) or the queue. */
  private addLocked(tx: PoolTx, local: boolean, changes: Changes): TxPoolError | undefined {
    if (this.all.has(tx.hash)) return TxPoolErrors.alreadyKnown()
    const from = tx.from
    tx.local = local || this.locals.has(from)
    try {
      this.checkState(tx)
      this.checkAuthorizations(tx)
      if (this.slots + tx.slots > this.config.globalSlots + this.config.globalQueue) this.makeRoom(tx)
    } catch (err) {
      if (err instanceof TxPoolError) return err
      throw err
    }

    const pending = this.pending.get(from)
    if (pending?.has(tx.nonce)) {
      const { inserted, old } = pending.add(tx, this.config.priceBump)
      if (!inserted) return TxPoolErrors.replaceUnderpriced()
      if (old !== undefined) {
        this.forget(old)
        this.priced.removed(1)
      }
      this.track(tx)
      this.journalTx(tx)
      changes.pending.push(tx)
      this.beats.set(from, this.config.now())
      return undefined
    }
    const { inserted, replaced } = this.enqueue(tx, true)
    if (!inserted) return TxPoolErrors.replaceUnderpriced()
    if (local && !this.locals.has(from)) {
      this.log?.info('Setting new local account', { address: from })
      this.locals.add(from)
      this.priced.removed(this.makeLocal(from))
    }
    this.journalTx(tx)
    changes.added.push(tx)
    if (!replaced) changes.dirty.add(from)
    return undefined
  }

  /** geth ValidateTransactionWithState: nonce and balance, counting what the account's pending transactions spend. */
  private checkState(tx: PoolTx): void {
    const account = this.currentState().get(tx.from)
    if (account.nonce > tx.nonce) throw TxPoolErrors.nonceTooLow(account.nonce, tx.nonce)
    if (account.balance < tx.cost) throw TxPoolErrors.insufficientFunds(account.balance, tx.cost)
    const list = this.pending.get(tx.from)
    const spent = list?.totalCost ?? 0n
    const previous = list?.get(tx.nonce)
    if (previous !== undefined) {
      const bump = tx.cost - previous.cost
      if (account.balance < spent + bump) throw TxPoolErrors.overdraftReplacement(account.balance, spent, bump)
    } else if (account.balance < spent + tx.cost) {
      throw TxPoolErrors.overdraft(account.balance, spent, tx.cost)
    }
  }

  /**
   * EIP-7702 (geth 1.15+ legacypool.validateAuth): a delegated account, or one whose delegation is pending in the
   * pool, may have a single executable transaction (its balance can be swept by any transaction); an account
   * with more than one pooled transaction cannot be an authority of a new one.
   */
  private checkAuthorizations(tx: PoolTx): void {
    const from = tx.from
    if (this.currentState().get(from).hasCode || this.auths.has(from)) {
      const pending = this.pending.get(from)
      if (pending === undefined) {
        if (this.nonceOf(from) !== tx.nonce) throw TxPoolErrors.gappedDelegated()
      } else if (!pending.has(tx.nonce)) {
        throw TxPoolErrors.inflightLimitReached()
      }
    }
    for (const authority of tx.authorities) {
      const count = (this.pending.get(authority)?.length ?? 0) + (this.queue.get(authority)?.length ?? 0)
      if (count > 1) throw TxPoolErrors.authorityReserved()
    }
  }

  /** The pool is full: evict cheaper remote transactions for `tx`, or refuse it. */
  private makeRoom(tx: PoolTx): void {
    if (!tx.local && this.priced.underpriced(tx)) throw TxPoolErrors.underpriced()
    if (this.changesSinceReorg > Math.floor(this.config.globalSlots / 4)) throw TxPoolErrors.poolFull()
    const { drop, success } = this.priced.discard(this.slots - (this.config.globalSlots + this.config.globalQueue) + tx.slots, tx.local)
    if (!tx.local && !success) throw TxPoolErrors.poolFull()
    // a future transaction must never push out executable ones
    if (!tx.local && this.isGapped(tx) && drop.some((d) => this.pending.get(d.from)?.has(d.nonce))) {
      this.priced.restore(drop)
      throw TxPoolErrors.futureReplacePending()
    }
    for (const d of drop) {
      this.log?.debug('Discarding freshly underpriced transaction', { hash: d.hash })
      this.changesSinceReorg += this.removeTx(d.hash, false)
    }
  }

  /** Whether `tx` cannot become executable with what the pool holds (a nonce gap before it). */
  private isGapped(tx: PoolTx): boolean {
    const next = this.nonceOf(tx.from)
    if (tx.nonce <= next) return false
    const queued = this.queue.get(tx.from)
    if (queued === undefined) return true
    for (let nonce = next; nonce < tx.nonce; nonce++) if (!queued.has(nonce)) return true
    return false
  }

  /** Into the queue; `fresh`: a new transaction (not one moving back from pending). */
  private enqueue(tx: PoolTx, fresh: boolean): { inserted: boolean; replaced: boolean } {
    let list = this.queue.get(tx.from)
    if (list === undefined) {
      list = new TxList(false)
      this.queue.set(tx.from, list)
    }
    const { inserted, old } = list.add(tx, this.config.priceBump)
    if (!inserted) {
      if (list.length === 0) this.queue.delete(tx.from)
      return { inserted, replaced: false }
    }
    if (old !== undefined) {
      this.forget(old)
      this.priced.removed(1)
    }
    if (fresh) this.track(tx)
    if (!this.beats.has(tx.from)) this.beats.set(tx.from, this.config.now())
    return { inserted, replaced: old !== undefined }
  }

  /** Moves a transaction back to the queue; should an equal-nonce one be there already, it is dropped instead. */
  private requeue(tx: PoolTx): void {
    if (this.enqueue(tx, false).inserted) return
    this.forget(tx)
    this.priced.removed(1)
  }

  /** Into the pending list (geth promoteTx); false when a better one holds its nonce. */
  private promote(tx: PoolTx): boolean {
    let list = this.pending.get(tx.from)
    if (list === undefined) {
      list = new TxList(true)
      this.pending.set(tx.from, list)
    }
    const { inserted, old } = list.add(tx, this.config.priceBump)
    if (!inserted) {
      this.forget(tx)
      this.priced.removed(1)
      return false
    }
    if (old !== undefined) {
      this.forget(old)
      this.priced.removed(1)
    }
    this.pendingNonces.set(tx.from, tx.nonce + 1n)
    this.beats.set(tx.from, this.config.now())
    return true
  }

  /** Removes one transaction; later pending ones of its account move back to the queue. Returns how many left pending. */
  private removeTx(hash: string, outOfBound: boolean): number {
    const tx = this.all.get(hash)
    if (tx === undefined) return 0
    this.forget(tx)
    if (outOfBound) this.priced.removed(1)
    const pending = this.pending.get(tx.from)
    if (pending !== undefined) {
      const { removed, invalids } = pending.remove(tx)
      if (removed) {
        if (pending.length === 0) this.pending.delete(tx.from)
        for (const invalid of invalids) this.requeue(invalid)
        this.lowerNonce(tx.from, tx.nonce)
        return 1 + invalids.length
      }
    }
    const queued = this.queue.get(tx.from)
    if (queued !== undefined) {
      queued.remove(tx)
      if (queued.length === 0) {
        this.queue.delete(tx.from)
        this.beats.delete(tx.from)
      }
    }
    return 0
  }

  // ---------------------------------------------------------------- maintenance (geth runReorg)

  /** After adds or a reset, once promoted: enforce the limits, announce what became pending or queued. */
  private finish(changes: Changes, promoted: PoolTx[]): void {
    this.truncatePending()
    this.truncateQueue()
    this.changesSinceReorg = 0
    const live = (tx: PoolTx) => this.all.get(tx.hash) === tx
    const nowPending = [...changes.pending, ...promoted].filter((tx) => live(tx) && this.pending.get(tx.from)?.get(tx.nonce) === tx)
    const nowQueued = changes.added.filter((tx) => live(tx) && this.queue.get(tx.from)?.get(tx.nonce) === tx)
    if (nowPending.length > 0) this.emit('pending', nowPending)
    if (nowQueued.length > 0) this.emit('queued', nowQueued)
  }

  /** geth promoteExecutables: per account, drop mined and unpayable queued transactions, promote the gap-free run. */
  private promoteExecutables(accounts: string[]): PoolTx[] {
    const promoted: PoolTx[] = []
    const gasLimit = this.currentHead().gasLimit
    const state = this.currentState()
    for (const address of accounts) {
      const list = this.queue.get(address)
      if (list === undefined) continue
      const account = state.get(address)
      const forwards = list.forward(account.nonce)
      const { drops } = list.filter(account.balance, gasLimit)
      for (const tx of [...forwards, ...drops]) this.forget(tx)
      for (const tx of list.ready(this.nonceOf(address))) if (this.promote(tx)) promoted.push(tx)
      const caps = this.locals.has(address) ? [] : list.cap(this.config.accountQueue)
      for (const tx of caps) this.forget(tx)
      this.priced.removed(forwards.length + drops.length + caps.length)
      if (list.length === 0) {
        this.queue.delete(address)
        this.beats.delete(address)
      }
    }
    return promoted
  }

  /**
   * geth demoteUnexecutables, after a new head: drop mined and unpayable pending transactions, move the ones they
   * leave behind a gap back to the queue.
   */
  private demoteUnexecutables(): void {
    const gasLimit = this.currentHead().gasLimit
    const state = this.currentState()
    for (const [address, list] of this.pending) {
      const account = state.get(address)
      for (const tx of list.forward(account.nonce)) this.forget(tx)
      const { drops, invalids } = list.filter(account.balance, gasLimit)
      for (const tx of drops) this.forget(tx)
      for (const tx of invalids) this.requeue(tx)
      // cannot happen once the nonce is forwarded, but never leave a gapped pending list
      if (list.length > 0 && !list.has(account.nonce)) {
        this.log?.error('Demoting invalidated transaction', { address })
        for (const tx of list.cap(0)) this.requeue(tx)
      }
      if (list.length === 0) this.pending.delete(address)
    }
  }

  /**
   * geth truncatePending: over globalSlots, remote accounts above accountSlots give up their highest-nonce
   * transactions, the biggest first and evenly, until the pool fits or they are down to accountSlots.
   */
  private truncatePending(): void {
    let pending = countOf(this.pending)
    if (pending <= this.config.globalSlots) return
    const spammers = [...this.pending]
      .filter(([address, list]) => !this.locals.has(address) && list.length > this.config.accountSlots)
      .sort((a, b) => b[1].length - a[1].length)
      .map(([address]) => address)
    const dropLast = (address: string) => {
      const list = this.pending.get(address) as TxList
      for (const tx of list.cap(list.length - 1)) {
        this.forget(tx)
        this.lowerNonce(address, tx.nonce)
        this.priced.removed(1)
      }
      pending--
    }
    const offenders: string[] = []
    for (const offender of spammers) {
      if (pending <= this.config.globalSlots) break
      offenders.push(offender)
      if (offenders.length < 2) continue
      // bring the earlier (bigger) offenders down to this one's size
      const threshold = this.lengthOf(offender)
      while (pending > this.config.globalSlots && this.lengthOf(offenders[offenders.length - 2]) > threshold) {
        for (const address of offenders.slice(0, -1)) dropLast(address)
      }
    }
    while (pending > this.config.globalSlots && offenders.length > 0 && this.lengthOf(offenders[offenders.length - 1]) > this.config.accountSlots) {
      for (const address of offenders) dropLast(address)
    }
  }

  /** geth truncateQueue: over globalQueue, drop remote accounts' queued transactions, least recently active first. */
  private truncateQueue(): void {
    let drop = countOf(this.queue) - this.config.globalQueue
    if (drop <= 0) return
    const byAge = [...this.queue.keys()].filter((address) => !this.locals.has(address)).sort((a, b) => (this.beats.get(a) ?? 0) - (this.beats.get(b) ?? 0))
    for (const address of byAge) {
      if (drop <= 0) break
      const txs = (this.queue.get(address) as TxList).flatten()
      if (txs.length <= drop) {
        for (const tx of txs) this.removeTx(tx.hash, true)
        drop -= txs.length
        continue
      }
      for (let i = txs.length - 1; i >= 0 && drop > 0; i--, drop--) this.removeTx(txs[i].hash, true)
    }
  }

  /**
   * A new head (geth reset + runReorg): transactions of blocks a reorg removed come back unless the new chain has
   * them, state moves to the head, and every account is re-checked against it.
   */
  private async reset(block: Block, removed: Block[]): Promise<void> {
    const oldHead = this.currentHead()
    const head = block.header
    const reinject = await this.lostInReorg(oldHead, block, removed)
    const state = new HeadState(await this.chain.stateAt(head))
    const returning: PoolTx[] = []
    for (const tx of reinject) {
      try {
        returning.push({ ...describe(tx, recoverSender(tx, this.chain.chainId)), seq: this.seq++, local: false })
      } catch {
        // a transaction from a valid block always has a valid sender
      }
    }
    await state.load([...this.pending.keys(), ...this.queue.keys(), ...returning.map((tx) => tx.from)])

    // synchronous from here: readers never see the pool half way between two heads
    this.head = head
    this.state = state
    this.pendingNonces = new Map()
    const changes = new Changes()
    for (const tx of returning) this.addLocked(tx, false, changes)
    this.log?.debug('Reinjected stale transactions', { count: returning.length })

    const promoted = this.promoteExecutables([...this.queue.keys()])
    this.demoteUnexecutables()
    this.priced.setBaseFee(nextBaseFee(head))
    this.pendingNonces = new Map([...this.pending].map(([address, list]): [string, bigint] => [address, (list.last() as PoolTx).nonce + 1n]))
    this.finish(changes, promoted)
    this.emit('reset')
  }

  /** Transactions of the blocks `removed` left the chain with that the new chain up to `block` does not include. */
  private async lostInReorg(oldHead: BlockHeader, block: Block, removed: Block[]): Promise<TypedTransaction[]> {
    if (removed.length === 0) return []
    const depth = oldHead.number > block.header.number ? oldHead.number - block.header.number : block.header.number - oldHead.number
    if (depth > MAX_REINJECT_DEPTH || BigInt(removed.length) > MAX_REINJECT_DEPTH) {
      this.log?.debug('Skipping deep transaction reorg', { depth: Number(depth) })
      return []
    }
    const lowest = removed.reduce((min, b) => (b.header.number < min ? b.header.number : min), removed[0].header.number)
    const included = new Set<string>()
    for (let b: Block | undefined = block; b !== undefined && b.header.number >= lowest; b = await this.chain.getBlockByHash(b.header.parentHash)) {
      for (const tx of b.transactions) included.add(bytesToHex(tx.hash()))
    }
    // blob transactions lose their sidecar in a block: geth's legacy pool does not take them back either
    return removed.flatMap((b) => b.transactions).filter((tx) => tx.type !== TransactionType.BlobEIP4844 && !included.has(bytesToHex(tx.hash())))
  }

  // ---------------------------------------------------------------- bookkeeping

  private track(tx: PoolTx): void {
    this.all.set(tx.hash, tx)
    this.slots += tx.slots
    for (const authority of tx.authorities) {
      let hashes = this.auths.get(authority)
      if (hashes === undefined) this.auths.set(authority, (hashes = new Set()))
      hashes.add(tx.hash)
    }
    if (!tx.local) this.priced.put(tx)
  }

  /** Takes `tx` out of the set of all transactions (its list entry is the caller's business). */
  private forget(tx: PoolTx): void {
    if (this.all.get(tx.hash) !== tx) return
    this.all.delete(tx.hash)
    this.slots -= tx.slots
    for (const authority of tx.authorities) {
      const hashes = this.auths.get(authority)
      hashes?.delete(tx.hash)
      if (hashes?.size === 0) this.auths.delete(authority)
    }
  }

  /** A new local account's pooled remote transactions become local; returns how many (now stale in the price heaps). */
  private makeLocal(address: string): number {
    let moved = 0
    for (const tx of this.all.values()) {
      if (tx.local || tx.from !== address) continue
      tx.local = true
      moved++
    }
    return moved
  }

  private nonceOf(address: string): bigint {
    return this.pendingNonces.get(address) ?? this.currentState().get(address).nonce
  }

  private lowerNonce(address: string, nonce: bigint): void {
    if (this.nonceOf(address) > nonce) this.pendingNonces.set(address, nonce)
  }

  private lengthOf(address: string): number {
    return this.pending.get(address)?.length ?? 0
  }

  private journalTx(tx: PoolTx): void {
    if (this.journal === undefined || !this.locals.has(tx.from) || tx.tx.type === TransactionType.BlobEIP4844) return
    try {
      this.journal.insert(tx.tx)
    } catch (err) {
      this.log?.warn('Failed to journal local transaction', { err: (err as Error).message })
    }
  }

  private rotateJournal(): void {
    const journal = this.journal
    if (journal === undefined) return
    const txs: TypedTransaction[] = []
    for (const address of this.locals) {
      for (const list of [this.pending.get(address), this.queue.get(address)]) {
        for (const tx of list?.flatten() ?? []) if (tx.tx.type !== TransactionType.BlobEIP4844) txs.push(tx.tx)
      }
    }
    try {
      journal.rotate(txs)
      this.log?.debug('Regenerated local transaction journal', { transactions: txs.length })
    } catch (err) {
      this.log?.warn('Failed to rotate local tx journal', { err: (err as Error).message })
    }
  }

  private serial<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.lock.then(fn)
    this.lock = run.catch(() => {})
    return run
  }

  private currentHead(): BlockHeader {
    if (this.head === undefined) throw new Error('transaction pool is not started')
    return this.head
  }

  private currentState(): HeadState {
    if (this.state === undefined) throw new Error('transaction pool is not running')
    return this.state
  }
}

/** What one batch of adds changed, for maintenance and events. */
class Changes {
  /** accounts with new queued transactions to try to promote */
  readonly dirty = new Set<string>()
  /** replacements of pending transactions */
  readonly pending: PoolTx[] = []
  /** transactions that went into the queue */
  readonly added: PoolTx[] = []
}

/** The next block's base fee, or undefined before London. */
function nextBaseFee(head: BlockHeader): bigint | undefined {
  if (head.common.isActivatedEIP(1559)) return childBaseFee(head)
  const london = head.common.hardforkBlock('london')
  return london === head.number + 1n ? head.common.param('initialBaseFee') : undefined
}

function countOf(lists: Map<string, TxList>): number {
  let n = 0
  for (const list of lists.values()) n += list.length
  return n
}

function byAccount<T>(lists: Map<string, TxList>, map: (tx: PooledTransaction) => T): TxsByAccount<T> {
  return new Map([...lists].map(([address, list]): [string, Map<bigint, T>] => [address, new Map(list.flatten().map((tx): [bigint, T] => [tx.nonce, map(tx)]))]))
}

/** geth's txpool_inspect line; "price" is the legacy gas price or the fee cap. */
function summary(tx: PooledTransaction): string {
  const to = tx.tx.to === undefined ? 'contract creation' : toChecksumAddress(tx.tx.to.toString())
  return `${to}: ${tx.tx.value} wei + ${tx.gas} gas × ${tx.gasFeeCap} wei`
}

function sanitize(opts: TxPoolOptions, log: Logger | undefined): Config {
  const positive = <K extends keyof Limits>(key: K): Limits[K] => {
    const value = opts[key]
    if (value === undefined) return TXPOOL_DEFAULTS[key]
    if (value < 1) {
      log?.warn(`Sanitizing invalid txpool ${key}`, { provided: value, updated: TXPOOL_DEFAULTS[key] })
      return TXPOOL_DEFAULTS[key]
    }
    return value as Limits[K]
  }
  return {
    rejournalMs: positive('rejournalMs'),
    // 0 is allowed (unlike geth): free-gas chains (genesis zeroBaseFee) admit transactions without a tip
    priceLimit: opts.priceLimit === 0n ? 0n : positive('priceLimit'),
    priceBump: positive('priceBump'),
    accountSlots: positive('accountSlots'),
    globalSlots: positive('globalSlots'),
    accountQueue: positive('accountQueue'),
    globalQueue: positive('globalQueue'),
    lifetimeMs: positive('lifetimeMs'),
    noLocals: opts.noLocals ?? false,
    allowUnprotectedTxs: opts.allowUnprotectedTxs ?? false,
    allowBlobTxs: opts.allowBlobTxs ?? false,
    now: opts.now ?? Date.now,
  }
}
