/**
 * Clique seals (EIP-225): the seal hash a signer signs, signing it, and recovering the signer.
 *
 * The seal is the last 65 bytes of extraData: r (32) || s (32) || v (1), v in {0, 1}. The seal
 * hash is keccak256 of the header's RLP field list with those 65 bytes cut off extraData. Every
 * field the header carries is included (baseFeePerGas, withdrawalsRoot, blob gas fields,
 * parentBeaconBlockRoot, requestsHash), in the order ethereumjs's `header.raw()` gives; geth 1.13
 * stops at baseFeePerGas because it refuses Shanghai on Clique, cairn does not.
 */
import { Block, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { BlockHeader } from '@ethereumjs/block'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, concatBytes } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { recoverPublicKey } from '../../crypto/secp256k1.ts'
import { publicKeyToAddress } from '../../crypto/senders.ts'
import { CliqueError, CliqueErrors } from './errors.ts'

/** Bytes at the start of extraData reserved for signer vanity. */
export const EXTRA_VANITY = 32
/** Bytes at the end of extraData reserved for the secp256k1 seal. */
export const EXTRA_SEAL = 65

/** A 20-byte address as lowercase 0x-prefixed hex: the form every clique module uses. */
export type AddressHex = `0x${string}`

/** Index of extraData in the header's RLP field list. */
const EXTRA_DATA_FIELD = 12

/** Hash a signer signs: keccak256(RLP(header fields, extraData without its 65-byte seal)). */
export function sealHash(header: BlockHeader): Uint8Array {
  const extra = header.extraData
  if (extra.length < EXTRA_SEAL) throw new CliqueError(CliqueErrors.missingSignature)
  const fields = header.raw()
  fields[EXTRA_DATA_FIELD] = extra.subarray(0, extra.length - EXTRA_SEAL)
  return keccak_256(RLP.encode(fields))
}

/**
 * Signer addresses by block hash. Recovery costs an EC operation per header, and the same header
 * is looked at by verification, snapshot building and the sealer: geth keeps 4096 of them. Keyed
 * by the full header hash, which covers the seal, so a cached entry cannot be reused for a
 * differently sealed header. Least recently used entries are evicted first.
 */
export class SignerCache {
  readonly capacity: number
  #entries = new Map<string, AddressHex>()

  constructor(capacity = 4096) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`invalid signer cache capacity ${capacity}`)
    this.capacity = capacity
  }

  get size(): number {
    return this.#entries.size
  }

  get(blockHash: string): AddressHex | undefined {
    const signer = this.#entries.get(blockHash)
    if (signer !== undefined) {
      this.#entries.delete(blockHash)
      this.#entries.set(blockHash, signer)
    }
    return signer
  }

  set(blockHash: string, signer: AddressHex): void {
    this.#entries.delete(blockHash)
    this.#entries.set(blockHash, signer)
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value as string
      this.#entries.delete(oldest)
    }
  }
}

/**
 * Address that sealed `header`. Throws CliqueError: 'extra-data 65 byte signature suffix missing',
 * 'invalid signature recovery id' (v not 0 or 1) or 'recovery failed' (r or s out of range, no
 * point). Like geth, a high-s seal is accepted.
 */
export function recoverSigner(header: BlockHeader, cache?: SignerCache): AddressHex {
  if (cache === undefined) return recoverUncached(header)
  const blockHash = bytesToHex(header.hash())
  let signer = cache.get(blockHash)
  if (signer === undefined) {
    signer = recoverUncached(header)
    cache.set(blockHash, signer)
  }
  return signer
}

function recoverUncached(header: BlockHeader): AddressHex {
  const extra = header.extraData
  if (extra.length < EXTRA_SEAL) throw new CliqueError(CliqueErrors.missingSignature)
  return recoverAddress(sealHash(header), extra.subarray(extra.length - EXTRA_SEAL))
}

/** Address whose key made the 65-byte `seal` (r || s || v) over the 32-byte `hash`. */
export function recoverAddress(hash: Uint8Array, seal: Uint8Array): AddressHex {
  if (seal.length !== EXTRA_SEAL) throw new CliqueError(CliqueErrors.missingSignature)
  const v = seal[64]
  if (v !== 0 && v !== 1) throw new CliqueError(CliqueErrors.invalidRecoveryId)
  let publicKey: Uint8Array
  try {
    publicKey = recoverPublicKey(hash, seal.subarray(0, 64), v)
  } catch {
    throw new CliqueError(CliqueErrors.recoveryFailed)
  }
  return publicKeyToAddress(publicKey)
}

/** The 65-byte seal (r || s || v) of `privateKey` over `hash`: deterministic (RFC 6979), low-s, as geth's crypto.Sign. */
export function signSealHash(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  // noble's 'recovered' layout is v || r || s
  const signature = secp256k1.sign(hash, privateKey, { prehash: false, format: 'recovered' })
  return concatBytes(signature.subarray(1), signature.subarray(0, 1))
}

/** The seal for `header`, whose extraData must already end in 65 placeholder bytes (their value is ignored). */
export function signHeader(header: BlockHeader, privateKey: Uint8Array): Uint8Array {
  return signSealHash(sealHash(header), privateKey)
}

/** `block` sealed with `privateKey`: the same body (no transaction is re-created), the header with its seal filled in. */
export function sealBlock(block: Block, privateKey: Uint8Array): Block {
  const raw = block.header.raw()
  raw[EXTRA_DATA_FIELD] = replaceSeal(block.header.extraData, signHeader(block.header, privateKey))
  const header = createBlockHeaderFromBytesArray(raw, { common: block.common, skipConsensusFormatValidation: true })
  return new Block(header, block.transactions, block.uncleHeaders, block.withdrawals, { common: block.common })
}

/** A copy of `extraData` with its last 65 bytes replaced by `seal`. */
export function replaceSeal(extraData: Uint8Array, seal: Uint8Array): Uint8Array {
  if (seal.length !== EXTRA_SEAL) throw new RangeError(`seal must be ${EXTRA_SEAL} bytes, got ${seal.length}`)
  if (extraData.length < EXTRA_SEAL) throw new CliqueError(CliqueErrors.missingSignature)
  return concatBytes(extraData.subarray(0, extraData.length - EXTRA_SEAL), seal)
}

/** Address of a secp256k1 private key. */
export function privateKeyToAddress(privateKey: Uint8Array): AddressHex {
  return publicKeyToAddress(secp256k1.getPublicKey(privateKey, false))
}
