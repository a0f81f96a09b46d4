import type { TypedTransaction } from '@ethereumjs/tx'

const encoded = new WeakMap<TypedTransaction, Uint8Array>()

/**
 * A transaction's canonical encoding (`tx.serialize()`), computed once per transaction object. A sealed transaction
 * was serialized four more times after its hash (pool size check, journal, block assembly, block body), each a
 * fresh RLP encoding of every field. Only frozen transactions are remembered: a mutable one may change.
 */
export function txBytes(tx: TypedTransaction): Uint8Array {
  if (!Object.isFrozen(tx)) return tx.serialize()
  let bytes = encoded.get(tx)
  if (bytes === undefined) encoded.set(tx, (bytes = tx.serialize()))
  return bytes
}
