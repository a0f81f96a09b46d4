import type { Block } from '@ethereumjs/block'
import { Capability } from '@ethereumjs/tx'
import type { NestedUint8Array } from '@ethereumjs/util'

import { keccak256 } from '../crypto/keccak.ts'
import { encodeRlp } from './rlp.ts'
import { txBytes } from './txBytes.ts'

/**
 * A block's body as stored, rlp([txs, uncles, withdrawals?]): what RLP.encode(block.raw().slice(1)) gives, but typed
 * transactions come from their remembered encoding (txBytes) instead of being serialized once more.
 */
export function encodeBody(block: Block): Uint8Array {
  return encodeRlp(bodyItems(block))
}

/** A whole block as peers and block files carry it: block.serialize(), with the transactions as encodeBody has them. */
export function encodeBlock(block: Block): Uint8Array {
  return encodeRlp([block.header.raw(), ...bodyItems(block)])
}

function bodyItems(block: Block): NestedUint8Array {
  const body: NestedUint8Array = [
    // a typed transaction is a byte string (type || payload); a legacy one its list of fields
    block.transactions.map((tx) => (tx.supports(Capability.EIP2718TypedTransaction) ? txBytes(tx) : (tx.raw() as NestedUint8Array))),
    block.uncleHeaders.map((uncle) => uncle.raw()),
  ]
  if (block.withdrawals !== undefined) body.push(block.withdrawals.map((w) => w.raw()))
  return body
}

/**
 * Transaction hashes straight from a stored block body (rlp([txs, uncles, withdrawals?])), without decoding a
 * transaction: eth_getLogs over blocks of thousands of transactions needs their hashes, and building ethereumjs
 * transaction objects for them cost half of every query.
 */
export function txHashesOfBody(bodyRlp: Uint8Array): Uint8Array[] {
  const [txList] = listItems(bodyRlp)
  if (txList === undefined) throw new Error('stored block body is not a list of transactions, uncles and withdrawals')
  // a typed transaction is stored as a byte string of type || payload and hashed without the string's header;
  // a legacy one is a list, hashed as encoded
  return listItems(txList).map((item) => {
    const { payload, isList } = bounds(item, 0)
    return keccak256(isList ? item : item.subarray(payload))
  })
}

/** The encodings of the items of the RLP list `list`, as views into it. */
function listItems(list: Uint8Array): Uint8Array[] {
  const { payload, end, isList } = bounds(list, 0)
  if (!isList || end !== list.length) throw new Error('malformed stored RLP: expected one list')
  const items: Uint8Array[] = []
  for (let at = payload; at < end; ) {
    const item = bounds(list, at)
    if (item.end > end) throw new Error('malformed stored RLP: item overruns its list')
    items.push(list.subarray(at, item.end))
    at = item.end
  }
  return items
}

/** Where the item starting at `at` has its payload, where it ends, and whether it is a list. */
function bounds(b: Uint8Array, at: number): { payload: number; end: number; isList: boolean } {
  const prefix = b[at]
  if (prefix === undefined) throw new Error('malformed stored RLP: truncated')
  if (prefix < 0x80) return { payload: at, end: at + 1, isList: false }
  if (prefix <= 0xb7) return { payload: at + 1, end: at + 1 + prefix - 0x80, isList: false }
  if (prefix < 0xc0) return longForm(b, at, prefix - 0xb7, false)
  if (prefix <= 0xf7) return { payload: at + 1, end: at + 1 + prefix - 0xc0, isList: true }
  return longForm(b, at, prefix - 0xf7, true)
}

function longForm(b: Uint8Array, at: number, lengthBytes: number, isList: boolean) {
  if (at + lengthBytes >= b.length) throw new Error('malformed stored RLP: truncated')
  let length = 0
  for (let i = 1; i <= lengthBytes; i++) length = length * 256 + b[at + i]
  const payload = at + 1 + lengthBytes
  return { payload, end: payload + length, isList }
}
