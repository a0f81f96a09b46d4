import type { PoolTx } from './validation.ts'

/**
 * One account's transactions by nonce (geth legacypool list): the pending list is strict (gap-free from the
 * account's next nonce: removing one transaction invalidates every later one), the queue is not.
 */
export class TxList {
  readonly strict: boolean
  /** sum of the costs, to refuse transactions the balance cannot cover together with the ones before them */
  totalCost = 0n
  private readonly items = new Map<bigint, PoolTx>()
  /** the items' nonces, ascending */
  private nonces: bigint[] = []
  /** highest cost and gas ever added; filtering is skipped while balance and block gas limit still cover them */
  private costCap = 0n
  private gasCap = 0n

  constructor(strict: boolean) {
    this.strict = strict
  }

  get length(): number {
    return this.items.size
  }

  get(nonce: bigint): PoolTx | undefined {
    return this.items.get(nonce)
  }

  has(nonce: bigint): boolean {
    return this.items.has(nonce)
  }

  /**
   * Inserts `tx`, replacing the transaction with its nonce only if `tx` raises both the fee cap and the tip by at
   * least `priceBump` percent. Returns whether it went in, and what it replaced.
   */
  add(tx: PoolTx, priceBump: bigint): { inserted: boolean; old?: PoolTx } {
    const old = this.items.get(tx.nonce)
    if (old !== undefined) {
      if (old.gasFeeCap >= tx.gasFeeCap || old.gasTipCap >= tx.gasTipCap) return { inserted: false }
      const feeCapThreshold = (old.gasFeeCap * (100n + priceBump)) / 100n
      const tipThreshold = (old.gasTipCap * (100n + priceBump)) / 100n
      if (tx.gasFeeCap < feeCapThreshold || tx.gasTipCap < tipThreshold) return { inserted: false }
      this.totalCost -= old.cost
    } else {
      this.insertNonce(tx.nonce)
    }
    this.items.set(tx.nonce, tx)
    this.totalCost += tx.cost
    if (tx.cost > this.costCap) this.costCap = tx.cost
    if (tx.gas > this.gasCap) this.gasCap = tx.gas
    return { inserted: true, old }
  }

  /** Removes and returns the transactions with a nonce below `threshold` (already mined). */
  forward(threshold: bigint): PoolTx[] {
    let n = 0
    while (n < this.nonces.length && this.nonces[n] < threshold) n++
    return this.takeRange(0, n)
  }

  /**
   * Removes the transactions costing more than `costLimit` or needing more gas than `gasLimit`; in a strict list
   * every transaction after the first removed one goes too (`invalids`), since it can no longer execute.
   */
  filter(costLimit: bigint, gasLimit: bigint): { drops: PoolTx[]; invalids: PoolTx[] } {
    if (this.costCap <= costLimit && this.gasCap <= gasLimit) return { drops: [], invalids: [] }
    this.costCap = costLimit
    this.gasCap = gasLimit
    const drops = this.removeWhere((tx) => tx.gas > gasLimit || tx.cost > costLimit)
    if (drops.length === 0 || !this.strict) return { drops, invalids: [] }
    const lowest = drops.reduce((min, tx) => (tx.nonce < min ? tx.nonce : min), drops[0].nonce)
    return { drops, invalids: this.removeWhere((tx) => tx.nonce > lowest) }
  }

  /** Removes and returns the highest-nonce transactions beyond the first `threshold`. */
  cap(threshold: number): PoolTx[] {
    if (this.nonces.length <= threshold) return []
    return this.takeRange(threshold, this.nonces.length)
  }

  /** Removes `tx`; in a strict list the later transactions are returned as invalidated (and removed too). */
  remove(tx: PoolTx): { removed: boolean; invalids: PoolTx[] } {
    if (!this.items.has(tx.nonce)) return { removed: false, invalids: [] }
    const index = this.indexOf(tx.nonce)
    if (this.strict) {
      const invalids = this.takeRange(index + 1, this.nonces.length)
      this.takeRange(index, index + 1)
      return { removed: true, invalids }
    }
    this.takeRange(index, index + 1)
    return { removed: true, invalids: [] }
  }

  /** Removes and returns the gap-free run of transactions starting at the lowest nonce, if that is at most `start`. */
  ready(start: bigint): PoolTx[] {
    if (this.nonces.length === 0 || this.nonces[0] > start) return []
    let n = 1
    while (n < this.nonces.length && this.nonces[n] === this.nonces[n - 1] + 1n) n++
    return this.takeRange(0, n)
  }

  /** The transactions by ascending nonce. */
  flatten(): PoolTx[] {
    return this.nonces.map((n) => this.items.get(n) as PoolTx)
  }

  last(): PoolTx | undefined {
    return this.nonces.length === 0 ? undefined : this.items.get(this.nonces[this.nonces.length - 1])
  }

  private insertNonce(nonce: bigint): void {
    const nonces = this.nonces
    if (nonces.length === 0 || nonces[nonces.length - 1] < nonce) {
      nonces.push(nonce)
      return
    }
    nonces.splice(this.indexOf(nonce), 0, nonce)
  }

  /** Position of `nonce` in `nonces`, or where it would go. */
  private indexOf(nonce: bigint): number {
    let lo = 0
    let hi = this.nonces.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (this.nonces[mid] < nonce) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private takeRange(from: number, to: number): PoolTx[] {
    return this.nonces.splice(from, to - from).map((n) => this.take(n))
  }

  private removeWhere(predicate: (tx: PoolTx) => boolean): PoolTx[] {
    const removed: PoolTx[] = []
    const kept: bigint[] = []
    for (const nonce of this.nonces) {
      const tx = this.items.get(nonce) as PoolTx
      if (predicate(tx)) removed.push(this.take(nonce))
      else kept.push(nonce)
    }
    this.nonces = kept
    return removed
  }

  private take(nonce: bigint): PoolTx {
    const tx = this.items.get(nonce) as PoolTx
    this.items.delete(nonce)
    this.totalCost -= tx.cost
    return tx
  }
}
