import { createRequire } from 'node:module'

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
}

// libsecp256k1 through the `secp256k1` package's prebuilt N-API addon (node-gyp-build loads it; no install script
// runs): public-key recovery in ~0.05 ms against ~1.2 ms for pure-JS noble, which capped sender and Clique signer
// recovery (pool admission, import, block assembly, RPC `from` fields) at a few hundred per second.
const native = createRequire(import.meta.url)('secp256k1') as NativeSecp256k1

/**
 * The 65-byte uncompressed public key (0x04 prefix) that signed `hash` with the 64-byte compact signature `rs`
 * (r || s) and recovery id 0 or 1. Throws when r or s is zero or not below the curve order, or no point recovers.
 * High-s signatures are accepted, as ecrecover does; callers that forbid them check s themselves.
 */
export function recoverPublicKey(hash: Uint8Array, rs: Uint8Array, recovery: number): Uint8Array {
  return native.ecdsaRecover(rs, recovery, hash, false)
}
