/**
 * What subscriptions and polling filters are built on: geth's subscription ids and per-connection subscriptions
 * (rpc/subscription.go, rpc/handler.go), and the event system that turns chain and pool events into headers, logs
 * and transactions (eth/filters/filter_system.go, with the events core/blockchain.go sends).
 */
import { randomBytes } from 'node:crypto'

import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'

import type { ChainReader } from '../chain/types.ts'
import type { HeadEvents, HeadListener, PendingTxFeed } from './context.ts'
import { formatHeader, formatLog } from './format.ts'
import type { BlockAuthor, JsonObject } from './format.ts'
import type { SubscriptionHost } from './registry.ts'

/** geth's rpc.NewID: 16 random bytes as a quantity (no leading zero digits), for subscriptions and filters alike. */
export function newId(): string {
  return `0x${randomBytes(16).toString('hex').replace(/^0+/, '') || '0'}`
}

interface ConnectionSubscription {
  stop: () => void
  /** notifications made before the subscribe answer went out; undefined once active */
  held: string[] | undefined
}

/**
 * The subscriptions of one connection. As geth's Notifier, a subscription holds its notifications until the answer
 * carrying its id has been sent, so a client never sees a notification for an id it does not know yet.
 */
export class ConnectionSubscriptions {
  private readonly send: (text: string) => void
  private readonly subscriptions = new Map<string, ConnectionSubscription>()
  private closed = false

  constructor(send: (text: string) => void) {
    this.send = send
  }

  /** The host for the calls of one incoming message; `activate` once its answer is sent. */
  forMessage(): { host: SubscriptionHost; activate(): void } {
    const created: [string, ConnectionSubscription][] = []
    const host: SubscriptionHost = {
      subscribe: (namespace, start) => {
        const id = newId()
        const subscription: ConnectionSubscription = { stop: () => {}, held: [] }
        subscription.stop = start((result) => {
          const text = JSON.stringify({ jsonrpc: '2.0', method: `${namespace}_subscription`, params: { subscription: id, result } })
          if (subscription.held !== undefined) subscription.held.push(text)
          else this.send(text)
        })
        // a call still running when its connection closed: nobody will hear it
        if (this.closed) subscription.stop()
        else {
          this.subscriptions.set(id, subscription)
          created.push([id, subscription])
        }
        return id
      },
      unsubscribe: (id) => this.unsubscribe(id),
    }
    const activate = () => {
      for (const [id, subscription] of created) {
        const held = subscription.held ?? []
        subscription.held = undefined
        // unless an unsubscribe in the same batch already ended it
        if (this.subscriptions.get(id) === subscription) for (const text of held) this.send(text)
      }
    }
    return { host, activate }
  }

  unsubscribe(id: string): boolean {
    const subscription = this.subscriptions.get(id)
    if (subscription === undefined) return false
    this.subscriptions.delete(id)
    subscription.stop()
    return true
  }

  /** The connection closed: every subscription ends, and later ones end as they start. */
  closeAll(): void {
    this.closed = true
    for (const id of [...this.subscriptions.keys()]) this.unsubscribe(id)
  }
}

/** A log as RPC returns it, with what matching reads from it. */
export interface LogEvent {
  json: JsonObject
  /** lowercase 0x hex, as in `json` */
  address: string
  topics: string[]
  blockNumber: bigint
}

export interface ChainEventsSource {
  chain: ChainReader
  chainEvents: HeadEvents
  pendingTxs?: PendingTxFeed
  author?: BlockAuthor
}

/**
 * geth's EventSystem over cairn's events. For each head change it delivers, in geth 1.13's order: the logs of the
 * blocks a reorg removed (oldest block first, `removed: true`), the logs of the new chain's blocks below the new
 * head, then the new head's header and its logs. Like geth (one ChainEvent per block that becomes head), a reorg
 * announces only the new head's header, not the headers of the new chain below it.
 *
 * It listens to the chain only while someone listens to it, and reads receipts only for log listeners.
 */
export class ChainEvents {
  private readonly source: ChainEventsSource
  private readonly headListeners = new Set<(header: JsonObject) => void>()
  private readonly logListeners = new Set<(logs: LogEvent[]) => void>()
  private readonly pendingListeners = new Set<(txs: readonly TypedTransaction[]) => void>()
  private stopPending: (() => void) | undefined
  private attachedToChain = false
  /** head changes are handled one at a time, in the order the chain made them */
  private queue: Promise<void> = Promise.resolve()

  constructor(source: ChainEventsSource) {
    this.source = source
  }

  get chain(): ChainReader {
    return this.source.chain
  }

  /** Each new canonical head, as formatHeader gives it. */
  onHead(listener: (header: JsonObject) => void): () => void {
    return this.listen(this.headListeners, listener)
  }

  /** Logs entering and leaving the canonical chain, block by block. */
  onLogs(listener: (logs: LogEvent[]) => void): () => void {
    return this.listen(this.logListeners, listener)
  }

  /** Transactions becoming pending; nothing until the node has a pool. */
  onPendingTxs(listener: (txs: readonly TypedTransaction[]) => void): () => void {
    this.pendingListeners.add(listener)
    if (this.stopPending === undefined && this.source.pendingTxs !== undefined) {
      this.stopPending = this.source.pendingTxs.onPending((txs) => {
        for (const l of [...this.pendingListeners]) l(txs)
      })
    }
    return () => {
      this.pendingListeners.delete(listener)
      if (this.pendingListeners.size === 0 && this.stopPending !== undefined) {
        this.stopPending()
        this.stopPending = undefined
      }
    }
  }

  private listen<T>(listeners: Set<T>, listener: T): () => void {
    listeners.add(listener)
    this.updateChainListener()
    return () => {
      listeners.delete(listener)
      this.updateChainListener()
    }
  }

  private readonly onChainHead: HeadListener = (head, removed) => {
    // a block whose data cannot be read (the database closing under it) is skipped
    this.queue = this.queue.then(() => this.deliver(head, removed)).catch(() => {})
  }

  private updateChainListener(): void {
    const wanted = this.headListeners.size > 0 || this.logListeners.size > 0
    if (wanted === this.attachedToChain) return
    if (wanted) this.source.chainEvents.on('head', this.onChainHead)
    else this.source.chainEvents.off('head', this.onChainHead)
    this.attachedToChain = wanted
  }

  private async deliver(head: Block, removed: Block[]): Promise<void> {
    let added: Block[] = []
    const logs: LogEvent[] = []
    if (this.logListeners.size > 0) {
      for (const block of [...removed].reverse()) logs.push(...(await this.blockLogs(block, true)))
      added = await this.newChainBelow(head, removed)
      for (const block of added) logs.push(...(await this.blockLogs(block, false)))
    }
    const headLogs = this.logListeners.size > 0 ? await this.blockLogs(head, false) : []
    if (logs.length > 0) for (const l of [...this.logListeners]) l(logs)
    if (this.headListeners.size > 0) {
      const header = formatHeader(head.header, this.source.author)
      for (const l of [...this.headListeners]) l(header)
    }
    if (headLogs.length > 0) for (const l of [...this.logListeners]) l(headLogs)
  }

  /** The blocks a reorg made canonical below the new head, oldest first (none when the head just grew). */
  private async newChainBelow(head: Block, removed: Block[]): Promise<Block[]> {
    if (removed.length === 0) return []
    const ancestor = removed[removed.length - 1].header.number - 1n
    const blocks: Block[] = []
    let parentHash = head.header.parentHash
    for (let n = head.header.number - 1n; n > ancestor; n--) {
      const block = await this.source.chain.getBlockByHash(parentHash)
      if (block === undefined) break
      blocks.push(block)
      parentHash = block.header.parentHash
    }
    return blocks.reverse()
  }

  private async blockLogs(block: Block, removed: boolean): Promise<LogEvent[]> {
    const receipts = await this.source.chain.getReceipts(block.hash())
    if (receipts === undefined) return []
    const logs: LogEvent[] = []
    let logIndex = 0
    receipts.forEach((receipt, txIndex) => {
      for (const log of receipt.logs) {
        const json = formatLog(log, block.header, block.hash(), block.transactions[txIndex].hash(), txIndex, logIndex++)
        if (removed) json.removed = true
        logs.push({ json, address: json.address as string, topics: json.topics as string[], blockNumber: block.header.number })
      }
    })
    return logs
  }
}
