import { RLP } from '@ethereumjs/rlp'
import { Capability } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bigIntToUnpaddedBytes } from '@ethereumjs/util'

import { keccak256 } from '../crypto/keccak.ts'

const encoded = new WeakMap<TypedTransaction, Uint8Array>()

/**
 * A transaction's canonical encoding (`tx.serialize()`), computed once per transaction object: the pool's size check,
 * its journal, block assembly, the transactions root and the block body all need it, and each used to encode every
 * field again. Only frozen transactions are remembered: a mutable one may change.
 */
export function txBytes(tx: TypedTransaction): Uint8Array {
  if (!Object.isFrozen(tx)) return tx.serialize()
  let bytes = encoded.get(tx)
  if (bytes === undefined) encoded.set(tx, (bytes = tx.serialize()))
  return bytes
}

/**
 * Records that `tx` was decoded from `bytes`, its canonical encoding (strict RLP decoding makes them the bytes it
 * serializes to): its encoding and hash (`hash`, when the caller has hashed them already) come from them, not from
 * encoding every field again.
 */
export function rememberEncoding(tx: TypedTransaction, bytes: Uint8Array, hash?: Uint8Array): void {
  if (!Object.isFrozen(tx)) return
  encoded.set(tx, bytes)
  tx.cache.hash ??= hash ?? keccak256(bytes)
}

/**
 * The hash a transaction's signature signs (`tx.getMessageToVerifySignature()`), cut from its canonical encoding: the
 * signed fields are the encoding's own items but for the signature's three, so only the list header is written anew
 * (and, for an EIP-155 legacy transaction, chain id, 0, 0 appended). ethereumjs encodes every field again to get it:
 * 3 % of a devnet sealer's CPU, which recovers the sender of every transaction it receives.
 */
export function signingHash(tx: TypedTransaction): Uint8Array {
  const raw = txBytes(tx)
  const typed = raw[0] <= 0x7f
  const list = typed ? raw.subarray(1) : raw
  const starts = itemStarts(list)
  // a blob transaction's network form wraps the signed transaction in a list with its blobs: ethereumjs knows it
  if (starts === undefined || starts.length < 5 || (typed && list[starts[0]] >= 0xc0)) return tx.getMessageToVerifySignature()
  // every item but v, r and s (the last three; `starts` ends with the list's end)
  const fields = list.subarray(starts[0], starts[starts.length - 4])
  const tail = !typed && tx.supports(Capability.EIP155ReplayProtection) ? chainIdTail(tx.common.chainId()) : EMPTY
  const header = listHeader(fields.length + tail.length)
  const payload = new Uint8Array((typed ? 1 : 0) + header.length + fields.length + tail.length)
  let at = 0
  if (typed) payload[at++] = raw[0]
  payload.set(header, at)
  payload.set(fields, (at += header.length))
  payload.set(tail, at + fields.length)
  return keccak256(payload)
}

const EMPTY = new Uint8Array(0)

/** the offsets in `list` (one RLP list) where each of its items starts, and its end; undefined if it is not one list */
function itemStarts(list: Uint8Array): number[] | undefined {
  const outer = itemAt(list, 0)
  if (outer === undefined || !outer.list || outer.end !== list.length) return undefined
  const starts: number[] = []
  for (let at = outer.start; at < outer.end; ) {
    starts.push(at)
    const item = itemAt(list, at)
    if (item === undefined || item.end > outer.end) return undefined
    at = item.end
  }
  starts.push(outer.end)
  return starts
}

/** the RLP item at `at`: where its payload starts and where it ends */
function itemAt(bytes: Uint8Array, at: number): { list: boolean; start: number; end: number } | undefined {
  const b = bytes[at]
  if (b === undefined) return undefined
  if (b < 0x80) return { list: false, start: at, end: at + 1 }
  const list = b >= 0xc0
  const short = list ? 0xf7 : 0xb7
  const base = list ? 0xc0 : 0x80
  if (b <= short) return { list, start: at + 1, end: at + 1 + b - base }
  const lengthBytes = b - short
  let length = 0
  for (let i = 1; i <= lengthBytes; i++) length = length * 256 + (bytes[at + i] ?? NaN)
  if (!Number.isSafeInteger(length)) return undefined
  return { list, start: at + 1 + lengthBytes, end: at + 1 + lengthBytes + length }
}

function listHeader(length: number): Uint8Array {
  if (length < 56) return Uint8Array.of(0xc0 + length)
  const digits: number[] = []
  for (let n = length; n > 0; n = Math.floor(n / 256)) digits.unshift(n % 256)
  return Uint8Array.of(0xf7 + digits.length, ...digits)
}

/** rlp(chainId) || rlp(0) || rlp(0): what an EIP-155 legacy transaction signs in place of v, r and s */
function chainIdTail(chainId: bigint): Uint8Array {
  const id = RLP.encode(bigIntToUnpaddedBytes(chainId))
  const tail = new Uint8Array(id.length + 2)
  tail.set(id)
  tail[id.length] = 0x80
  tail[id.length + 1] = 0x80
  return tail
}
