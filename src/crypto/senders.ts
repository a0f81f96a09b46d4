import { Capability } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Address, SECP256K1_ORDER, SECP256K1_ORDER_DIV_2, bigIntToBytes, bytesToHex, calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util'

import { signingHash } from '../chain/txBytes.ts'
import { keccak256 } from './keccak.ts'
import { RECOVERY_ITEM_BYTES, recoverPublicKey } from './secp256k1.ts'
import type { RecoveryWorker } from './secp256k1.ts'

/**
 * The address of a public key, 64 bytes (x || y) or 65 (0x04 prefix): the last 20 bytes of keccak256(x || y), as
 * lowercase 0x-prefixed hex. Hashed with cairn's keccak: ethereumjs's publicToAddress hashes with pure-JS noble (~9 us).
 */
export function publicKeyToAddress(publicKey: Uint8Array): `0x${string}` {
  return bytesToHex(addressBytes(publicKey))
}

function addressBytes(publicKey: Uint8Array): Uint8Array {
  return keccak256(publicKey.length === 65 ? publicKey.subarray(1) : publicKey).subarray(12)
}

/**
 * The sender, lowercase 0x-prefixed, as `tx.getSenderAddress().toString()` but with cairn's keccak (ethereumjs's
 * pure-JS one was 1.9 % of a sealer's CPU under single transfers). Throws as getSenderPublicKey does for a bad signature.
 */
export function senderAddress(tx: TypedTransaction): string {
  return sender(tx).hex
}

/** The sender as `tx.getSenderAddress()` gives it, hashed with cairn's keccak (see senderAddress). */
export function senderAccountAddress(tx: TypedTransaction): Address {
  return new Address(sender(tx).bytes)
}

/**
 * Senders of frozen transactions, which cannot change: a transaction's sender is asked for at admission, at execution
 * and when RPC formats it, and hashing the key each time was 2.4 % of a dev node's CPU under single transfers.
 */
const senders = new WeakMap<TypedTransaction, { bytes: Uint8Array; hex: string }>()

function sender(tx: TypedTransaction): { bytes: Uint8Array; hex: string } {
  const known = senders.get(tx)
  if (known !== undefined) return known
  const bytes = addressBytes(senderPublicKey(tx))
  const found = { bytes, hex: bytesToHex(bytes) }
  if (Object.isFrozen(tx)) senders.set(tx, found)
  return found
}

/**
 * `tx.getSenderPublicKey()`, with the signed message hashed from the transaction's encoding (signingHash) rather than
 * encoded again field by field, and kept in the transaction's cache as ethereumjs keeps it. What ethereumjs must judge
 * itself (see recoveryInput), or a signature that recovers nothing, goes to ethereumjs, which throws in its own words.
 */
function senderPublicKey(tx: TypedTransaction): Uint8Array {
  if (tx.cache.senderPubKey !== undefined) return tx.cache.senderPubKey
  const input = recoveryInput(tx)
  if (input === undefined) return tx.getSenderPublicKey()
  let key: Uint8Array
  try {
    key = recoverPublicKey(input.hash, input.rs, input.recovery)
  } catch {
    return tx.getSenderPublicKey()
  }
  return (tx.cache.senderPubKey = key.slice(1))
}

/**
 * What recovering the sender of `tx` takes, when ethereumjs would keep the sender it recovers and the signature is
 * one that either recovers or is plainly bad: undefined for a mutable transaction, high s, a zero or out-of-range r
 * or s, or a recovery id that is not 0 or 1, all of which ethereumjs judges (and words) itself.
 */
function recoveryInput(tx: TypedTransaction): { hash: Uint8Array; rs: Uint8Array; recovery: number } | undefined {
  // ethereumjs keeps a recovered sender only on a frozen transaction: a mutable one could change after
  if (!Object.isFrozen(tx)) return undefined
  const { v, r, s } = tx
  if (v === undefined || r === undefined || s === undefined) return undefined
  if (r === 0n || r >= SECP256K1_ORDER || s === 0n || s > SECP256K1_ORDER_DIV_2) return undefined
  const recovery = calculateSigRecovery(v, tx.supports(Capability.EIP155ReplayProtection) ? tx.common.chainId() : undefined)
  if (recovery !== 0n && recovery !== 1n) return undefined
  return { hash: signingHash(tx), rs: concatBytes(setLengthLeft(bigIntToBytes(r), 32), setLengthLeft(bigIntToBytes(s), 32)), recovery: Number(recovery) }
}

/** Fills the sender caches of `txs` off the main thread (see recoverSendersAhead); never rejects. */
export type SenderRecovery = (txs: readonly TypedTransaction[]) => Promise<void>

/**
 * Recovers the senders of `txs` on `worker` and leaves each in its transaction's cache, where block validation and
 * execution find it instead of recovering again on the main thread (~7 % of an import's main thread). What it cannot
 * vouch for (a mutable transaction, high s, a bad recovery id, a signature that recovers nothing) is left alone:
 * ethereumjs recovers those itself and rejects the bad ones in its own words. Never rejects: callers may start it
 * for blocks they end up not importing.
 */
export async function recoverSendersAhead(worker: RecoveryWorker, txs: readonly TypedTransaction[]): Promise<void> {
  try {
    await recoverOnWorker(worker, txs)
  } catch {
    // whatever failed here, validation recovers and judges the transaction itself
  }
}

async function recoverOnWorker(worker: RecoveryWorker, txs: readonly TypedTransaction[]): Promise<void> {
  const todo: { tx: TypedTransaction; hash: Uint8Array; rs: Uint8Array; recovery: number }[] = []
  for (const tx of txs) {
    if (tx.cache.senderPubKey !== undefined) continue
    const input = recoveryInput(tx)
    if (input !== undefined) todo.push({ tx, ...input })
  }
  if (todo.length === 0) return
  const items = new Uint8Array(todo.length * RECOVERY_ITEM_BYTES)
  todo.forEach(({ hash, rs, recovery }, i) => {
    const at = i * RECOVERY_ITEM_BYTES
    items.set(hash, at)
    items.set(rs, at + 32)
    items[at + 96] = recovery
  })
  const keys = await worker.recover(items)
  if (keys === undefined) return
  todo.forEach(({ tx }, i) => {
    const key = keys.subarray(i * 65, (i + 1) * 65)
    if (key[0] === 4) tx.cache.senderPubKey = key.slice(1)
  })
}
