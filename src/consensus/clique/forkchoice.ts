/**
 * EIP-3436, the Clique block choice rule: which of two chain heads is canonical.
 *
 * 1. more total difficulty;
 * 2. then the lower block number (the shorter chain has more in-turn blocks);
 * 3. then the head whose signer had the least recent in-turn slot: the larger
 *    (number - signerIndex) mod signerCount, an in-turn head counting as the most recent (0);
 * 4. then the lower hash, as an unsigned 256-bit integer.
 *
 * Rule 3 follows the specification text as published ("least recent", "largest value"). The EIP's
 * rationale and Besu's implementation prefer the smallest value instead; geth does not implement
 * EIP-3436 at all (equal total difficulty: lower number, then a coin flip).
 */
import { bytesToBigInt } from '@ethereumjs/util'

import type { Snapshot } from './snapshot.ts'

/** What the rule needs to know about a chain head. */
export interface HeadCandidate {
  /** Total difficulty of the chain ending at this head. */
  totalDifficulty: bigint
  number: bigint
  /** 32-byte block hash. */
  hash: Uint8Array
  /**
   * Position of the head's signer in the ascending signer list of the snapshot at the head's
   * parent (the list that decided whether the head was in turn).
   */
  signerIndex: number
  /** Length of that signer list. */
  signerCount: number
}

/** Blocks since `signerIndex`'s last in-turn slot at or before block `number`: (number - index) mod count. */
export function inTurnDistance(number: bigint, signerIndex: number, signerCount: number): bigint {
  if (signerCount < 1 || signerIndex < 0 || signerIndex >= signerCount) {
    throw new RangeError(`signer index ${signerIndex} outside a list of ${signerCount}`)
  }
  const count = BigInt(signerCount)
  return (((number - BigInt(signerIndex)) % count) + count) % count
}

/**
 * Order two heads by EIP-3436: positive when `a` is the better (canonical) head, negative when `b`
 * is, 0 only for the same hash. `[...heads].sort(compareHeads)` puts the best head last.
 */
export function compareHeads(a: HeadCandidate, b: HeadCandidate): number {
  if (a.totalDifficulty !== b.totalDifficulty) return a.totalDifficulty > b.totalDifficulty ? 1 : -1
  if (a.number !== b.number) return a.number < b.number ? 1 : -1
  const distanceA = inTurnDistance(a.number, a.signerIndex, a.signerCount)
  const distanceB = inTurnDistance(b.number, b.signerIndex, b.signerCount)
  if (distanceA !== distanceB) return distanceA > distanceB ? 1 : -1
  const hashA = bytesToBigInt(a.hash)
  const hashB = bytesToBigInt(b.hash)
  if (hashA !== hashB) return hashA < hashB ? 1 : -1
  return 0
}

/**
 * The candidate for a head sealed by `signer`, given the snapshot at its parent. Throws a
 * RangeError if `signer` is not in that snapshot (the head could not be valid).
 */
export function headCandidate(
  head: { totalDifficulty: bigint; number: bigint; hash: Uint8Array },
  parentSnapshot: Snapshot,
  signer: string,
): HeadCandidate {
  const signerIndex = parentSnapshot.signers.indexOf(signer.toLowerCase() as Snapshot['signers'][number])
  if (signerIndex < 0) throw new RangeError(`${signer} is not a signer at block ${parentSnapshot.number}`)
  return { ...head, signerIndex, signerCount: parentSnapshot.signers.length }
}
