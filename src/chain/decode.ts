import { type Block, type BlockBytes, createBlockFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { type TypedTransaction, createTxFromRLP } from '@ethereumjs/tx'

import { rememberEncoding } from './txBytes.ts'

/*
 * Decoding what peers, block files and RPC callers send. RLP decoding is strict (minimal lengths, no leading zeros in
 * integers, nothing left over), so a transaction serializes to the very bytes it was decoded from: each decoded
 * transaction keeps them as its encoding and hashes them, rather than encoding every field again to hash it, to gossip
 * it and to build the transactions root (serializing and hashing transactions was 7-8 % of a devnet node's CPU).
 */

/** A transaction in its canonical encoding (type || payload, or a legacy transaction's RLP list). */
export function decodeTx(raw: Uint8Array, common: Common): TypedTransaction {
  const tx = createTxFromRLP(raw, { common })
  rememberEncoding(tx, raw)
  return tx
}

/** A block as peers and block files carry it, rlp([header, txs, uncles, withdrawals?]); its header picks the fork. */
export function decodeBlock(serialized: Uint8Array, common: Common): Block {
  if (common.isActivatedEIP(7934) && serialized.length > Number(common.param('maxRlpBlockSize'))) {
    throw new Error(`Block size exceeds limit: ${serialized.length} > ${common.param('maxRlpBlockSize')}`)
  }
  const values = RLP.decode(serialized) as unknown
  if (!Array.isArray(values)) throw new Error('Invalid serialized block input. Must be array')
  // a byte string in the body is a typed transaction (geth refuses a legacy one wrapped in a string; ethereumjs
  // would decode it, and its encoding would then differ from what was received)
  if (Array.isArray(values[1])) {
    for (const data of values[1] as unknown[]) {
      if (data instanceof Uint8Array && (data.length === 0 || data[0] > 0x7f)) throw new Error('transaction type not supported')
    }
  }
  const block = createBlockFromBytesArray(values as BlockBytes, { common, setHardfork: true, skipConsensusFormatValidation: true })
  // a typed transaction is a byte string in the body (its encoding); a legacy one a list of fields
  if (Array.isArray(values[1])) {
    values[1].forEach((data: unknown, i) => {
      if (data instanceof Uint8Array) rememberEncoding(block.transactions[i], data)
    })
  }
  return block
}
