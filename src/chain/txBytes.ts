import type { TypedTransaction } from '@ethereumjs/tx'

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
