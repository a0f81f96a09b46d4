import type { TypedTransaction } from '@ethereumjs/tx'

import { Heap } from './heap.ts'
import { effectiveTip } from './validation.ts'
import type { PooledTransaction } from './validation.ts'

interface Head {
  tx: PooledTransaction
  /** effective tip at the block's base fee */
  fee: bigint
}

/**
 * Executable transactions for one block, best paying first across accounts while each account's stay in nonce
 * order (geth miner/ordering.go transactionsByPriceAndNonce). Only each account's next transaction competes;
 * equal tips go to the one that arrived first. An account whose next transaction cannot pay the base fee is left
 * out from there on. Iterating yields the best transaction and shifts to that account's next one; a block builder
 * that needs more control uses peek(), shift() after including, pop() after a failure (the account's later
 * transactions cannot run either).
 */
export class TxsByPriceAndNonce implements Iterable<TypedTransaction> {
  private readonly rest = new Map<string, PooledTransaction[]>()
  private readonly heads: Heap<Head>
  private readonly baseFee: bigint | undefined

  /** `byAccount`: each account's transactions by ascending nonce, gap-free from its next nonce */
  constructor(byAccount: Iterable<PooledTransaction[]>, baseFee: bigint | undefined) {
    this.baseFee = baseFee
    this.heads = new Heap((a, b) => (a.fee !== b.fee ? a.fee > b.fee : a.tx.seq < b.tx.seq))
    const heads: Head[] = []
    for (const txs of byAccount) {
      const head = this.headOf(txs[0])
      if (head === undefined) continue
      heads.push(head)
      this.rest.set(txs[0].from, txs.slice(1))
    }
    this.heads.init(heads)
  }

  /** The best transaction now, with its effective tip; undefined when none is left. */
  peek(): { tx: PooledTransaction; fee: bigint } | undefined {
    return this.heads.peek()
  }

  /** Replaces the best transaction by its account's next one. */
  shift(): void {
    const top = this.heads.peek()
    if (top === undefined) return
    const next = this.rest.get(top.tx.from)?.shift()
    const head = next === undefined ? undefined : this.headOf(next)
    if (head === undefined) this.heads.pop()
    else this.heads.replaceTop(head)
  }

  /** Drops the best transaction's account altogether. */
  pop(): void {
    this.heads.pop()
  }

  *[Symbol.iterator](): Iterator<TypedTransaction> {
    for (let top = this.peek(); top !== undefined; top = this.peek()) {
      this.shift()
      yield top.tx.tx
    }
  }

  private headOf(tx: PooledTransaction): Head | undefined {
    if (this.baseFee !== undefined && tx.gasFeeCap < this.baseFee) return undefined
    return { tx, fee: effectiveTip(tx, this.baseFee) }
  }
}
