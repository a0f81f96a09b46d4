import type { Block } from '@ethereumjs/block'
import { Capability } from '@ethereumjs/tx'
import type { NestedUint8Array } from '@ethereumjs/util'

import { keccak256 } from '../crypto/keccak.ts'
import { encodeRlp, rlpList, rlpListItems } from './rlp.ts'
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
  const body = rlpList(bodyRlp)
  const [txList] = rlpListItems(bodyRlp, body.payload, body.end)
  if (txList === undefined || !txList.isList) throw new Error('stored block body is not a list of transactions, uncles and withdrawals')
  // a typed transaction is stored as a byte string of type || payload and hashed without the string's header;
  // a legacy one is a list, hashed as encoded
  return rlpListItems(bodyRlp, txList.payload, txList.end).map((tx) => keccak256(bodyRlp.subarray(tx.isList ? tx.start : tx.payload, tx.end)))
}
