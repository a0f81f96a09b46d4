/**
 * Clique header and body rules (EIP-225) as pure functions, following go-ethereum v1.13's
 * consensus/clique/clique.go (verifyHeader, verifyCascadingFields, verifySeal, VerifyUncles) and
 * its gas limit / EIP-1559 checks, with geth's error messages.
 *
 * cairn differs from geth 1.13 on purpose in two places:
 * - Shanghai, Cancun and Prague run on Clique (geth refuses them): withdrawalsRoot must be the
 *   empty trie root (a Clique chain has no withdrawals), parentBeaconBlockRoot must be zero (no
 *   beacon chain), blob gas fields follow EIP-4844, requestsHash must be present (its value comes
 *   from execution, which the chain layer checks).
 * - A genesis may set `emptyBlocks: false`, making blocks without transactions invalid (verifyBody).
 *
 * Which fork rules apply to a header is read from its own `header.common` (the hardfork it was
 * built with, which also decides which fields its RLP carries), the same for the parent.
 */
import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex, equalsBytes, KECCAK256_RLP, KECCAK256_RLP_ARRAY } from '@ethereumjs/util'

import { isZeroBaseFee } from '../../config/genesis.ts'
import { CliqueError, CliqueErrors } from './errors.ts'
import { type AddressHex, EXTRA_SEAL, EXTRA_VANITY, recoverSigner } from './seal.ts'
import {
  blockNumberOf,
  effectiveEpoch,
  isAuthorized,
  isInTurn,
  NONCE_AUTHORIZE,
  NONCE_DROP,
  recentlySigned,
  type SignerOf,
  type Snapshot,
} from './snapshot.ts'

/** The `clique` section of a genesis config, plus cairn's `emptyBlocks` extension. */
export interface CliqueConfig {
  /** Minimum seconds between blocks. */
  period: number
  /** Blocks per voting epoch; 0 or absent means 30000. */
  epoch?: number
  /** false: a non-checkpoint block must hold at least one transaction. Default true. */
  emptyBlocks?: boolean
}

/** Difficulty of a block sealed by the in-turn signer. */
export const DIFF_IN_TURN = 2n
/** Difficulty of a block sealed out of turn. */
export const DIFF_NO_TURN = 1n
/** Largest gas limit a header may have (2^63-1). */
export const MAX_GAS_LIMIT = 0x7fffffffffffffffn
/** Smallest gas limit a header may move to. */
export const MIN_GAS_LIMIT = 5000n
/** Base fee of the first London block. */
export const INITIAL_BASE_FEE = 1_000_000_000n

const GAS_LIMIT_BOUND_DIVISOR = 1024n
const ELASTICITY_MULTIPLIER = 2n
const BASE_FEE_CHANGE_DENOMINATOR = 8n
const ZERO_HASH = new Uint8Array(32)

/** Whether block `number` is a checkpoint (epoch transition): number % epoch == 0. */
export function isCheckpoint(number: bigint | number, config: CliqueConfig): boolean {
  return BigInt(number) % BigInt(effectiveEpoch(config.epoch)) === 0n
}

/**
 * Every Clique header rule for `header` on top of `parent`. `snapshot` must be the snapshot at
 * `parent` (after applying it); `now` is the current unix time in seconds. Throws a CliqueError
 * naming the first broken rule, in geth's order.
 */
export function verifyHeader(
  header: BlockHeader,
  parent: BlockHeader,
  snapshot: Snapshot,
  config: CliqueConfig,
  now: bigint | number,
  signerOf: SignerOf = (h) => recoverSigner(h),
): void {
  verifyHeaderFields(header, config, now)
  verifyCascadingFields(header, parent, snapshot, config, signerOf)
}

/** The rules that need nothing but the header itself (geth's verifyHeader before the cascade). */
export function verifyHeaderFields(header: BlockHeader, config: CliqueConfig, now: bigint | number): void {
  const nowSeconds = typeof now === 'bigint' ? now : BigInt(Math.floor(now))
  if (header.timestamp > nowSeconds) throw new CliqueError(CliqueErrors.futureBlock)
  const checkpoint = isCheckpoint(header.number, config)
  if (checkpoint && !header.coinbase.isZero()) throw new CliqueError(CliqueErrors.invalidCheckpointBeneficiary)
  if (!equalsBytes(header.nonce, NONCE_AUTHORIZE) && !equalsBytes(header.nonce, NONCE_DROP)) {
    throw new CliqueError(CliqueErrors.invalidVote)
  }
  if (checkpoint && !equalsBytes(header.nonce, NONCE_DROP)) throw new CliqueError(CliqueErrors.invalidCheckpointVote)

  const extra = header.extraData
  if (extra.length < EXTRA_VANITY) throw new CliqueError(CliqueErrors.missingVanity)
  if (extra.length < EXTRA_VANITY + EXTRA_SEAL) throw new CliqueError(CliqueErrors.missingSignature)
  const signersBytes = extra.length - EXTRA_VANITY - EXTRA_SEAL
  if (!checkpoint && signersBytes !== 0) throw new CliqueError(CliqueErrors.extraSigners)
  if (checkpoint && signersBytes % 20 !== 0) throw new CliqueError(CliqueErrors.invalidCheckpointSigners)

  if (!equalsBytes(header.mixHash, ZERO_HASH)) throw new CliqueError(CliqueErrors.invalidMixDigest)
  if (!equalsBytes(header.uncleHash, KECCAK256_RLP_ARRAY)) throw new CliqueError(CliqueErrors.invalidUncleHash)
  if (header.number > 0n && header.difficulty !== DIFF_IN_TURN && header.difficulty !== DIFF_NO_TURN) {
    throw new CliqueError(CliqueErrors.invalidDifficulty)
  }
  if (header.gasLimit > MAX_GAS_LIMIT) {
    throw new CliqueError(`invalid gasLimit: have ${header.gasLimit}, max ${MAX_GAS_LIMIT}`)
  }
  verifyForkFields(header)
}

/**
 * The rules that need the parent and the snapshot at the parent (geth's verifyCascadingFields and
 * verifySeal): ancestry, timestamp, gas, base fee, blob gas, the checkpoint signer list, the seal.
 */
export function verifyCascadingFields(
  header: BlockHeader,
  parent: BlockHeader,
  snapshot: Snapshot,
  config: CliqueConfig,
  signerOf: SignerOf = (h) => recoverSigner(h),
): void {
  if (header.number === 0n) throw new CliqueError(CliqueErrors.unknownBlock)
  if (parent.number !== header.number - 1n || !equalsBytes(parent.hash(), header.parentHash)) {
    throw new CliqueError(CliqueErrors.unknownAncestor)
  }
  if (parent.timestamp + BigInt(config.period) > header.timestamp) throw new CliqueError(CliqueErrors.invalidTimestamp)
  if (header.gasUsed > header.gasLimit) {
    throw new CliqueError(`invalid gasUsed: have ${header.gasUsed}, gasLimit ${header.gasLimit}`)
  }
  if (!isLondon(header)) {
    if (header.baseFeePerGas !== undefined) {
      throw new CliqueError(`invalid baseFee before fork: have ${header.baseFeePerGas}, want <nil>`)
    }
    verifyGasLimit(parent.gasLimit, header.gasLimit)
  } else {
    verifyBaseFee(header, parent)
  }
  if (header.common.isActivatedEIP(4844)) verifyBlobGas(header, parent)

  if (snapshot.number !== blockNumberOf(parent) || snapshot.hash !== bytesToHex(parent.hash())) {
    throw new Error(`clique snapshot ${snapshot.number} ${snapshot.hash} is not the one at the parent block`)
  }
  if (isCheckpoint(header.number, config)) {
    const listed = header.extraData.subarray(EXTRA_VANITY, header.extraData.length - EXTRA_SEAL)
    if (bytesToHex(listed) !== `0x${snapshot.signers.map((signer) => signer.slice(2)).join('')}`) {
      throw new CliqueError(CliqueErrors.mismatchingCheckpointSigners)
    }
  }
  verifySeal(header, snapshot, signerOf)
}

/**
 * The seal rules against the snapshot at the parent: the signer is authorized, is not in the
 * recent window, and set difficulty 2 exactly when in turn. Returns the signer.
 *
 * Recent signers: geth 1.13's verifySeal lets a recent signer through while number < floor(N/2)+1
 * (an unsigned underflow); such a block then fails geth's own snapshot apply when its child comes.
 * cairn refuses it at once, as geth's apply and sealer do.
 */
export function verifySeal(header: BlockHeader, snapshot: Snapshot, signerOf: SignerOf = (h) => recoverSigner(h)): AddressHex {
  const number = blockNumberOf(header)
  if (number === 0) throw new CliqueError(CliqueErrors.unknownBlock)
  const signer = signerOf(header)
  if (!isAuthorized(snapshot, signer)) throw new CliqueError(CliqueErrors.unauthorizedSigner)
  if (recentlySigned(snapshot, signer, number)) throw new CliqueError(CliqueErrors.recentlySigned)
  const expected = isInTurn(snapshot, number, signer) ? DIFF_IN_TURN : DIFF_NO_TURN
  if (header.difficulty !== expected) throw new CliqueError(CliqueErrors.wrongDifficulty)
  return signer
}

/** Difficulty `signer` must give the block after `snapshot`'s: 2 in turn, 1 otherwise. */
export function calcDifficulty(snapshot: Snapshot, signer: string): bigint {
  return isInTurn(snapshot, snapshot.number + 1, signer) ? DIFF_IN_TURN : DIFF_NO_TURN
}

/**
 * Block body rules: no uncles (geth VerifyUncles), and with `emptyBlocks: false` at least one
 * transaction in every non-checkpoint block.
 */
export function verifyBody(header: BlockHeader, body: { transactions: number; uncles: number }, config: CliqueConfig): void {
  if (body.uncles > 0) throw new CliqueError(CliqueErrors.unclesNotAllowed)
  if (config.emptyBlocks === false && body.transactions === 0 && !isCheckpoint(header.number, config)) {
    throw new CliqueError(CliqueErrors.emptyBlock)
  }
}

/** geth misc.VerifyGaslimit: the limit moves by less than parent/1024 and stays at least 5000. */
export function verifyGasLimit(parentGasLimit: bigint, gasLimit: bigint): void {
  const diff = parentGasLimit > gasLimit ? parentGasLimit - gasLimit : gasLimit - parentGasLimit
  const limit = parentGasLimit / GAS_LIMIT_BOUND_DIVISOR
  if (diff >= limit) {
    // geth prints limit-1 as a uint64
    throw new CliqueError(`invalid gas limit: have ${gasLimit}, want ${parentGasLimit} +-= ${BigInt.asUintN(64, limit - 1n)}`)
  }
  if (gasLimit < MIN_GAS_LIMIT) throw new CliqueError(`invalid gas limit below ${MIN_GAS_LIMIT}`)
}

/**
 * geth eip1559.VerifyEIP1559Header for a London header: the gas limit check (against twice the
 * parent's limit on the fork block) and baseFeePerGas equal to calcBaseFee(parent).
 */
export function verifyBaseFee(header: BlockHeader, parent: BlockHeader): void {
  const parentGasLimit = isLondon(parent) ? parent.gasLimit : parent.gasLimit * ELASTICITY_MULTIPLIER
  verifyGasLimit(parentGasLimit, header.gasLimit)
  if (header.baseFeePerGas === undefined) throw new CliqueError(CliqueErrors.missingBaseFee)
  const expected = calcBaseFee(parent)
  if (header.baseFeePerGas !== expected) {
    throw new CliqueError(
      `invalid baseFee: have ${header.baseFeePerGas}, want ${expected}, parentBaseFee ${parent.baseFeePerGas ?? '<nil>'}, parentGasUsed ${parent.gasUsed}`,
    )
  }
}

/** Base fee of the child of `parent` (EIP-1559; 1 gwei for the first London block; 0 on a zeroBaseFee chain). */
export function calcBaseFee(parent: BlockHeader): bigint {
  if (isZeroBaseFee(parent.common)) return 0n
  const parentBaseFee = parent.baseFeePerGas
  if (!isLondon(parent) || parentBaseFee === undefined) return INITIAL_BASE_FEE
  const target = parent.gasLimit / ELASTICITY_MULTIPLIER
  if (parent.gasUsed === target) return parentBaseFee
  if (parent.gasUsed > target) {
    const delta = (parentBaseFee * (parent.gasUsed - target)) / target / BASE_FEE_CHANGE_DENOMINATOR
    return parentBaseFee + (delta > 1n ? delta : 1n)
  }
  const delta = (parentBaseFee * (target - parent.gasUsed)) / target / BASE_FEE_CHANGE_DENOMINATOR
  return parentBaseFee > delta ? parentBaseFee - delta : 0n
}

/**
 * Values of the post-London fields a Clique chain has no source for: withdrawalsRoot (Shanghai)
 * must be the empty trie root, parentBeaconBlockRoot (Cancun) zero; requestsHash (Prague) must be
 * present.
 */
export function verifyForkFields(header: BlockHeader): void {
  const common = header.common
  if (common.isActivatedEIP(4895)) {
    if (header.withdrawalsRoot === undefined) throw new CliqueError(CliqueErrors.missingWithdrawalsHash)
    if (!equalsBytes(header.withdrawalsRoot, KECCAK256_RLP)) {
      throw new CliqueError(
        `invalid withdrawalsHash: have ${bytesToHex(header.withdrawalsRoot)}, expected ${bytesToHex(KECCAK256_RLP)}`,
      )
    }
  }
  if (common.isActivatedEIP(4788)) {
    if (header.parentBeaconBlockRoot === undefined) throw new CliqueError(CliqueErrors.missingBeaconRoot)
    if (!equalsBytes(header.parentBeaconBlockRoot, ZERO_HASH)) {
      throw new CliqueError(
        `invalid parentBeaconRoot, have ${bytesToHex(header.parentBeaconBlockRoot)}, expected ${bytesToHex(ZERO_HASH)}`,
      )
    }
  }
  if (common.isActivatedEIP(7685) && header.requestsHash === undefined) {
    throw new CliqueError(CliqueErrors.missingRequestsHash)
  }
}

/**
 * geth eip4844.VerifyEIP4844Header: blobGasUsed within the fork's maximum and a whole number of
 * blobs, excessBlobGas as computed from the parent (0 excess and 0 used before Cancun).
 */
export function verifyBlobGas(header: BlockHeader, parent: BlockHeader): void {
  if (header.excessBlobGas === undefined) throw new CliqueError(CliqueErrors.missingExcessBlobGas)
  if (header.blobGasUsed === undefined) throw new CliqueError(CliqueErrors.missingBlobGasUsed)
  const common = header.common
  const { maxBlobGasPerBlock } = common.getBlobGasSchedule()
  const perBlob = common.param('blobGasPerBlob')
  if (header.blobGasUsed > maxBlobGasPerBlock) {
    throw new CliqueError(`blob gas used ${header.blobGasUsed} exceeds maximum allowance ${maxBlobGasPerBlock}`)
  }
  if (header.blobGasUsed % perBlob !== 0n) {
    throw new CliqueError(`blob gas used ${header.blobGasUsed} not a multiple of blob gas per blob ${perBlob}`)
  }
  const expected = parent.calcNextExcessBlobGas(common)
  if (header.excessBlobGas !== expected) {
    throw new CliqueError(
      `invalid excessBlobGas: have ${header.excessBlobGas}, want ${expected}, parent excessBlobGas ${parent.excessBlobGas ?? 0n}, parent blobDataUsed ${parent.blobGasUsed ?? 0n}`,
    )
  }
}

function isLondon(header: BlockHeader): boolean {
  return header.common.isActivatedEIP(1559)
}
