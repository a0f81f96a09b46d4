import { closeSync, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs'

import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { TransactionType, createTxFromBlockBodyData } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { concatBytes } from '@ethereumjs/util'

import { decodeTx } from '../chain/decode.ts'
import { txBytes } from '../chain/txBytes.ts'

/**
 * The local transactions on disk, in geth's transactions.rlp format: each transaction RLP-encoded as in a block
 * body (legacy ones as a list, typed ones as a byte string holding the typed envelope), one after another. New
 * local transactions are appended; rotation rewrites the file with what the pool still holds.
 */
export class TxJournal {
  readonly path: string
  private fd: number | undefined

  constructor(path: string) {
    this.path = path
  }

  /** Every transaction in the file; `error` tells why reading stopped early (a corrupt or truncated tail). */
  load(common: Common): { txs: TypedTransaction[]; error?: Error } {
    if (!existsSync(this.path)) return { txs: [] }
    let rest: Uint8Array = readFileSync(this.path)
    const txs: TypedTransaction[] = []
    while (rest.length > 0) {
      try {
        const { data, remainder } = RLP.decode(rest, true)
        txs.push(data instanceof Uint8Array ? decodeTx(data, common) : createTxFromBlockBodyData(data as Uint8Array[], { common }))
        rest = remainder
      } catch (err) {
        return { txs, error: err as Error }
      }
    }
    return { txs }
  }

  /** Appends `tx`; a no-op while loading (before the first rotation) and after close, as geth's journal. */
  insert(tx: TypedTransaction): void {
    if (this.fd !== undefined) writeSync(this.fd, encode(tx))
  }

  /** Replaces the file with `txs` (written beside it, then renamed) and reopens it for appending. */
  rotate(txs: Iterable<TypedTransaction>): void {
    this.close()
    const next = `${this.path}.new`
    writeFileSync(next, concatBytes(...Array.from(txs, encode)))
    renameSync(next, this.path)
    this.fd = openSync(this.path, 'a')
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }
}

function encode(tx: TypedTransaction): Uint8Array {
  return tx.type === TransactionType.Legacy ? txBytes(tx) : RLP.encode(txBytes(tx))
}
