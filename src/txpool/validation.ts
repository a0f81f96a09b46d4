/**
 * The checks a transaction passes before the pool looks at state (geth 1.13 txpool.ValidateTransaction), and the
 * pool's record of an admitted transaction. The sender is recovered here, once; nothing in the pool recovers it again.
 */
import type { Common } from '@ethereumjs/common'
import { TransactionType, isBlob4844Tx, isEOACode7702Tx, isLegacyTx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, eoaCode7702RecoverAuthority } from '@ethereumjs/util'

import { txBytes } from '../chain/txBytes.ts'
import { senderAddress } from '../crypto/senders.ts'
import { TxPoolErrors } from './errors.ts'

/** geth legacypool txSlotSize: a transaction takes one slot per started 32 KiB */
export const TX_SLOT_SIZE = 32 * 1024
/** geth legacypool txMaxSize */
export const TX_MAX_SIZE = 4 * TX_SLOT_SIZE
/** geth blobpool txMaxSize: blob transactions are measured with their sidecar */
export const BLOB_TX_MAX_SIZE = 1024 * 1024
/** EIP-3860 */
export const MAX_INIT_CODE_SIZE = 2 * 24576
/** EIP-7825 (Osaka) */
export const MAX_TX_GAS = 1n << 24n
/** EIP-4844 GAS_PER_BLOB and geth's params.BlobTxMinBlobGasprice */
const GAS_PER_BLOB = 131072n
const MIN_BLOB_GAS_PRICE = 1n

/** A transaction the pool holds, with everything the pool needs computed once at admission. */
export interface PooledTransaction {
  readonly tx: TypedTransaction
  /** 0x-prefixed transaction hash */
  readonly hash: string
  /** sender, lowercase 0x-prefixed */
  readonly from: string
  readonly nonce: bigint
  readonly gasFeeCap: bigint
  readonly gasTipCap: bigint
  readonly gas: bigint
  /** gas x fee cap + value (+ blob gas x blob fee cap): what the sender must hold for it */
  readonly cost: bigint
  /** encoded size in bytes (with the sidecar for blob transactions) */
  readonly size: number
  readonly slots: number
  /** EIP-7702: the accounts its valid authorizations delegate (lowercase) */
  readonly authorities: readonly string[]
  /** arrival order: among equally paying transactions the earlier is mined first */
  readonly seq: number
  /** locals are never evicted for price or limits and skip --txpool.pricelimit */
  readonly local: boolean
}

/** The pool's own view: locality changes when a remote transaction's sender becomes local. */
export type PoolTx = { -readonly [K in keyof PooledTransaction]: PooledTransaction[K] }

export interface BasicRules {
  /** the head's fork rules: geth validates against the current head, not the next block */
  common: Common
  chainId: bigint
  headGasLimit: bigint
  minTip: bigint
}

/**
 * Checks that need no state, in geth's order, and recovers the sender. Throws TxPoolError. Blob transactions
 * must be admitted by the caller first (geth routes them to a separate pool).
 */
export function checkBasics(tx: TypedTransaction, rules: BasicRules): TxFacts {
  const { common } = rules
  const blob = isBlob4844Tx(tx) ? tx : undefined
  const size = encodedSize(tx)
  const maxSize = blob !== undefined ? BLOB_TX_MAX_SIZE : TX_MAX_SIZE
  if (size > maxSize) throw TxPoolErrors.oversizedData(size, maxSize)

  if (tx.type !== TransactionType.Legacy && !common.isActivatedEIP(2930)) throw TxPoolErrors.txTypeNotYetActive(tx.type, 'Berlin')
  if (tx.type === TransactionType.FeeMarketEIP1559 && !common.isActivatedEIP(1559)) throw TxPoolErrors.txTypeNotYetActive(tx.type, 'London')
  if (tx.type === TransactionType.BlobEIP4844 && !common.isActivatedEIP(4844)) throw TxPoolErrors.txTypeNotYetActive(tx.type, 'Cancun')
  if (tx.type === TransactionType.EOACodeEIP7702 && !common.isActivatedEIP(7702)) throw TxPoolErrors.txTypeNotYetActive(tx.type, 'Prague')

  const create = tx.to === undefined
  if (create && common.isActivatedEIP(3860) && tx.data.length > MAX_INIT_CODE_SIZE) throw TxPoolErrors.maxInitCodeSizeExceeded(tx.data.length, MAX_INIT_CODE_SIZE)
  if (common.isActivatedEIP(7825) && tx.gasLimit > MAX_TX_GAS) throw TxPoolErrors.gasLimitTooHigh(MAX_TX_GAS, tx.gasLimit)
  if (tx.gasLimit > rules.headGasLimit) throw TxPoolErrors.gasLimit()

  const from = recoverSender(tx, rules.chainId)

  const intrinsic = intrinsicGas(tx, common)
  if (tx.gasLimit < intrinsic) throw TxPoolErrors.intrinsicGas(tx.gasLimit, intrinsic)
  if (common.isActivatedEIP(7623)) {
    const floor = floorDataGas(tx.data)
    if (tx.gasLimit < floor) throw TxPoolErrors.floorDataGas(tx.gasLimit, floor)
  }
  const facts = describe(tx, from, size)
  if (facts.gasTipCap < rules.minTip) throw TxPoolErrors.tipBelowMinimum(facts.gasTipCap, rules.minTip)
  if (blob !== undefined) {
    if (blob.maxFeePerBlobGas < MIN_BLOB_GAS_PRICE) throw TxPoolErrors.blobFeeBelowMinimum(blob.maxFeePerBlobGas, MIN_BLOB_GAS_PRICE)
    // the sidecar was checked against the versioned hashes (KZG) when the network form was decoded
    if (blob.blobs === undefined) throw TxPoolErrors.blobSidecarMissing()
  }
  return facts
}

/** What the pool derives from a transaction, apart from its arrival and locality. */
export type TxFacts = Omit<PoolTx, 'seq' | 'local'>

/** The facts of `tx` sent by `from`, without any check (for transactions a reorg returns to the pool). */
export function describe(tx: TypedTransaction, from: string, size = encodedSize(tx)): TxFacts {
  const { gasFeeCap, gasTipCap } = feeCaps(tx)
  let cost = tx.gasLimit * gasFeeCap + tx.value
  if (isBlob4844Tx(tx)) cost += BigInt(tx.blobVersionedHashes.length) * GAS_PER_BLOB * tx.maxFeePerBlobGas
  return {
    tx,
    hash: bytesToHex(tx.hash()),
    from,
    nonce: tx.nonce,
    gasFeeCap,
    gasTipCap,
    gas: tx.gasLimit,
    cost,
    size,
    slots: Math.ceil(size / TX_SLOT_SIZE),
    authorities: isEOACode7702Tx(tx) ? recoverAuthorities(tx.authorizationList) : [],
  }
}

/** geth Transaction.Size: the canonical encoding, with the sidecar when a blob transaction carries one. */
function encodedSize(tx: TypedTransaction): number {
  return isBlob4844Tx(tx) && tx.blobs !== undefined ? tx.serializeNetworkWrapper().length : txBytes(tx).length
}

/** The sender, or "invalid sender" for a bad signature or another chain's transaction (geth's Sender error is not shown). */
export function recoverSender(tx: TypedTransaction, chainId: bigint): string {
  if (!tx.isSigned()) throw TxPoolErrors.invalidSender()
  const txChainId = isLegacyTx(tx) ? legacyChainId(tx.v as bigint) : tx.chainId
  if (txChainId !== undefined && txChainId !== chainId) throw TxPoolErrors.invalidSender()
  try {
    return senderAddress(tx)
  } catch {
    throw TxPoolErrors.invalidSender()
  }
}

/** EIP-155: v = chainId * 2 + 35 or 36; 27 and 28 carry no chain id. */
function legacyChainId(v: bigint): bigint | undefined {
  return v === 27n || v === 28n ? undefined : (v - 35n) / 2n
}

/** geth types.Transaction.Protected: only legacy transactions can lack replay protection. */
export function isProtected(tx: TypedTransaction): boolean {
  return !isLegacyTx(tx) || legacyChainId(tx.v as bigint) !== undefined
}

export function feeCaps(tx: TypedTransaction): { gasFeeCap: bigint; gasTipCap: bigint } {
  return 'gasPrice' in tx ? { gasFeeCap: tx.gasPrice, gasTipCap: tx.gasPrice } : { gasFeeCap: tx.maxFeePerGas, gasTipCap: tx.maxPriorityFeePerGas }
}

/** geth core.IntrinsicGas at the rules of `common` (homestead always on, as geth's pool assumes). */
export function intrinsicGas(tx: TypedTransaction, common: Common): bigint {
  const create = tx.to === undefined
  let gas = create ? 53000n : 21000n
  let zeros = 0
  for (const b of tx.data) if (b === 0) zeros++
  const nonZeros = tx.data.length - zeros
  gas += BigInt(zeros) * 4n + BigInt(nonZeros) * (common.gteHardfork('istanbul') ? 16n : 68n)
  if (create && common.isActivatedEIP(3860)) gas += BigInt(Math.ceil(tx.data.length / 32)) * 2n
  if ('accessList' in tx) {
    for (const [, keys] of tx.accessList) gas += 2400n + BigInt(keys.length) * 1900n
  }
  if (isEOACode7702Tx(tx)) gas += BigInt(tx.authorizationList.length) * 25000n
  return gas
}

/** EIP-7623: 21000 + 10 per calldata token, a zero byte one token and any other byte four. */
export function floorDataGas(data: Uint8Array): bigint {
  let tokens = 0n
  for (const b of data) tokens += b === 0 ? 1n : 4n
  return 21000n + 10n * tokens
}

/** Unique signers of the authorizations that recover (geth SetCodeAuthorities skips the others). */
function recoverAuthorities(list: Parameters<typeof eoaCode7702RecoverAuthority>[0][]): string[] {
  const out = new Set<string>()
  for (const auth of list) {
    try {
      out.add(eoaCode7702RecoverAuthority(auth).toString())
    } catch {
      // an invalid authorization is skipped at execution too
    }
  }
  return [...out]
}

/** Tip the block producer gets at `baseFee` (negative when the fee cap is below it). */
export function effectiveTip(t: Pick<PooledTransaction, 'gasFeeCap' | 'gasTipCap'>, baseFee: bigint | undefined): bigint {
  if (baseFee === undefined) return t.gasTipCap
  const room = t.gasFeeCap - baseFee
  return room < t.gasTipCap ? room : t.gasTipCap
}
