import { Block, type BlockBytes, createBlockFromBytesArray } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { type TypedTransaction, createTxFromBlockBodyData, createTxFromRLP } from '@ethereumjs/tx'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'

import { keccak256 } from '../crypto/keccak.ts'
import { rememberEncoding, txBytes } from './txBytes.ts'

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

/**
 * Finds an already decoded transaction by its hash (hex): a gossiped block's transactions are mostly in the pool,
 * decoded and with their senders recovered at admission.
 */
export type KnownTx = (hash: string) => TypedTransaction | undefined

/**
 * A block as peers and block files carry it, rlp([header, txs, uncles, withdrawals?]); its header picks the fork.
 * A transaction `known` has, with the same encoding and fork rules, is taken as it is rather than decoded again:
 * decoding was a tenth of a peer's import of a large block.
 */
export function decodeBlock(serialized: Uint8Array, common: Common, known?: KnownTx): Block {
  if (common.isActivatedEIP(7934) && serialized.length > Number(common.param('maxRlpBlockSize'))) {
    throw new Error(`Block size exceeds limit: ${serialized.length} > ${common.param('maxRlpBlockSize')}`)
  }
  const values = RLP.decode(serialized) as unknown
  if (!Array.isArray(values)) throw new Error('Invalid serialized block input. Must be array')
  const body = values[1] as unknown
  const opts = { common, setHardfork: true, skipConsensusFormatValidation: true }
  // a body missing or not a list: ethereumjs's own handling and words
  if (!Array.isArray(body)) return createBlockFromBytesArray(values as BlockBytes, opts)
  // a byte string in the body is a typed transaction (geth refuses a legacy one wrapped in a string; ethereumjs
  // would decode it, and its encoding would then differ from what was received)
  for (const data of body as unknown[]) {
    if (data instanceof Uint8Array && (data.length === 0 || data[0] > 0x7f)) throw new Error('transaction type not supported')
  }
  // the header, uncles and withdrawals as ethereumjs decodes them; the transactions one by one
  const shell = createBlockFromBytesArray([values[0], [], ...values.slice(2)] as unknown as BlockBytes, opts)
  const transactions = (body as (Uint8Array | Uint8Array[])[]).map((data) => bodyTx(data, shell.header.common, known))
  return new Block(shell.header, transactions, shell.uncleHeaders, shell.withdrawals, opts)
}

/** One transaction of a block body: a typed one is a byte string (its encoding), a legacy one a list of fields. */
function bodyTx(data: Uint8Array | Uint8Array[], common: Common, known: KnownTx | undefined): TypedTransaction {
  let hash: Uint8Array | undefined
  if (known !== undefined) {
    const raw = data instanceof Uint8Array ? data : RLP.encode(data)
    hash = keccak256(raw)
    const pooled = known(bytesToHex(hash))
    if (pooled !== undefined && pooled.common.hardfork() === common.hardfork() && equalsBytes(txBytes(pooled), raw)) return pooled
  }
  const tx = createTxFromBlockBodyData(data, { common })
  if (data instanceof Uint8Array) rememberEncoding(tx, data, hash)
  return tx
}
