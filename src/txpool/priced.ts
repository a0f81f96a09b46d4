import { Heap } from './heap.ts'
import { effectiveTip } from './validation.ts'
import type { PoolTx } from './validation.ts'

/** What the price index needs from the pool's set of all transactions. */
export interface RemoteSet {
  /** whether `tx` is still in the pool as a remote transaction (removed or now-local entries are stale) */
  isLiveRemote(tx: PoolTx): boolean
  remotes(): PoolTx[]
}

/** geth's 4:1 split of the remote transactions between the urgent and floating heaps */
const URGENT_RATIO = 4
const FLOATING_RATIO = 1

/**
 * The remote transactions cheapest first, for eviction when the pool is full (geth legacypool pricedList). The
 * urgent heap orders by effective tip at the next block's base fee, the floating heap by fee cap alone, so that
 * when the base fee moves the pool neither evicts only what is cheap right now nor only what caps low. Removals
 * are lazy: entries of removed transactions stay until popped or until stales pass a quarter of the heaps.
 */
export class PricedList {
  private readonly all: RemoteSet
  private readonly urgent: Heap<PoolTx>
  private readonly floating: Heap<PoolTx>
  private urgentBaseFee: bigint | undefined
  private stales = 0

  constructor(all: RemoteSet) {
    this.all = all
    this.urgent = new Heap((a, b) => cheaper(a, b, this.urgentBaseFee))
    this.floating = new Heap((a, b) => cheaper(a, b, undefined))
  }

  put(tx: PoolTx): void {
    this.urgent.push(tx)
  }

  /** Notes `count` transactions gone from the pool; rebuilds the heaps once too many entries are stale. */
  removed(count: number): void {
    this.stales += count
    if (this.stales > (this.urgent.size + this.floating.size) / 4) this.reheap()
  }

  /** Whether `tx` pays no more than the cheapest remote transaction in both heaps (so nothing should make room for it). */
  underpriced(tx: PoolTx): boolean {
    const urgentHead = this.liveHead(this.urgent)
    const floatingHead = this.liveHead(this.floating)
    if (urgentHead === undefined && floatingHead === undefined) return false
    return (
      (urgentHead === undefined || compare(urgentHead, tx, this.urgentBaseFee) >= 0) &&
      (floatingHead === undefined || compare(floatingHead, tx, undefined) >= 0)
    )
  }

  /**
   * Picks the cheapest remote transactions freeing `slots`, keeping the urgent:floating ratio. Unless `force`,
   * nothing is dropped when that many slots cannot be freed.
   */
  discard(slots: number, force: boolean): { drop: PoolTx[]; success: boolean } {
    const drop: PoolTx[] = []
    while (slots > 0) {
      if (this.urgent.size * FLOATING_RATIO > this.floating.size * URGENT_RATIO) {
        const tx = this.urgent.pop() as PoolTx
        if (!this.all.isLiveRemote(tx)) {
          this.stales--
          continue
        }
        this.floating.push(tx)
      } else {
        const tx = this.floating.pop()
        if (tx === undefined) break
        if (!this.all.isLiveRemote(tx)) {
          this.stales--
          continue
        }
        drop.push(tx)
        slots -= tx.slots
      }
    }
    if (slots > 0 && !force) {
      this.restore(drop)
      return { drop: [], success: false }
    }
    return { drop, success: true }
  }

  /** Puts `drop` back after discard() when the caller decided not to evict after all. */
  restore(drop: PoolTx[]): void {
    for (const tx of drop) this.urgent.push(tx)
  }

  setBaseFee(baseFee: bigint | undefined): void {
    this.urgentBaseFee = baseFee
    this.reheap()
  }

  /** Rebuilds both heaps from the live remote transactions. */
  reheap(): void {
    this.stales = 0
    this.urgent.init(this.all.remotes())
    const floatingCount = Math.floor((this.urgent.size * FLOATING_RATIO) / (URGENT_RATIO + FLOATING_RATIO))
    const floating: PoolTx[] = []
    for (let i = 0; i < floatingCount; i++) floating.push(this.urgent.pop() as PoolTx)
    this.floating.init(floating)
  }

  private liveHead(heap: Heap<PoolTx>): PoolTx | undefined {
    for (;;) {
      const head = heap.peek()
      if (head === undefined || this.all.isLiveRemote(head)) return head
      this.stales--
      heap.pop()
    }
  }
}

/** Orders by effective tip at `baseFee` (when known), then fee cap, then tip. */
function compare(a: PoolTx, b: PoolTx, baseFee: bigint | undefined): number {
  if (baseFee !== undefined) {
    const c = cmp(effectiveTip(a, baseFee), effectiveTip(b, baseFee))
    if (c !== 0) return c
  }
  return cmp(a.gasFeeCap, b.gasFeeCap) || cmp(a.gasTipCap, b.gasTipCap)
}

/** Heap order: cheaper first; among equals the higher nonce goes first, as it is the last to become executable. */
function cheaper(a: PoolTx, b: PoolTx, baseFee: bigint | undefined): boolean {
  const c = compare(a, b, baseFee)
  return c !== 0 ? c < 0 : a.nonce > b.nonce
}

function cmp(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0
}
