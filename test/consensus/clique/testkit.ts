/**
 * Shared helpers for the clique tests: named signer keys (as geth's testerAccountPool), Clique
 * Commons per hardfork, sealed header construction, and the real-chain fixtures.
 */
import { readFileSync } from 'node:fs'

import {
  type BlockHeader,
  createBlockHeader,
  createBlockHeaderFromRPC,
  type HeaderData,
  type JSONRPCBlock,
} from '@ethereumjs/block'
import { type Common, createCustomCommon, type Hardfork, Mainnet } from '@ethereumjs/common'
import { concatBytes, hexToBytes, type PrefixedHexString, utf8ToBytes } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { type AddressHex, EXTRA_SEAL, EXTRA_VANITY, privateKeyToAddress, replaceSeal, signHeader } from '../../../src/consensus/clique/seal.ts'

/** A deterministic private key per name, so failures reproduce (geth's tester draws random keys). */
export function keyOf(name: string): Uint8Array {
  return keccak_256(utf8ToBytes(`cairn clique test signer ${name}`))
}

export function addressOf(name: string): AddressHex {
  return privateKeyToAddress(keyOf(name))
}

/** A Common for a Clique chain fixed at `hardfork` (headers built with it carry that fork's fields). */
export function cliqueCommon(hardfork: Hardfork | string, clique = { period: 15, epoch: 30000 }): Common {
  return createCustomCommon({ consensus: { type: 'poa', algorithm: 'clique', clique } }, Mainnet, { hardfork })
}

/**
 * A header exactly as given: ethereumjs's own Clique checks are skipped so cairn's rules are the
 * ones tested. With `setHardfork`, its fork comes from `common`'s schedule by number.
 */
export function makeHeader(data: HeaderData, common: Common, setHardfork = false): BlockHeader {
  return createBlockHeader(data, { common, setHardfork, freeze: false, skipConsensusFormatValidation: true })
}

/** extraData: 32 zero vanity bytes, the signer list, 65 zero seal bytes. */
export function extraDataWith(signers: readonly string[] = []): Uint8Array {
  return concatBytes(new Uint8Array(EXTRA_VANITY), ...signers.map((s) => hexToBytes(s as PrefixedHexString)), new Uint8Array(EXTRA_SEAL))
}

/** `data` as a header sealed by `signer`'s key (its extraData's last 65 bytes become the seal). */
export function sealHeader(data: HeaderData, signer: string, common: Common): BlockHeader {
  const unsealed = makeHeader({ extraData: extraDataWith(), ...data }, common)
  return makeHeader({ ...data, extraData: replaceSeal(unsealed.extraData, signHeader(unsealed, keyOf(signer))) }, common)
}

const fixtureDir = new URL('../../fixtures/clique/', import.meta.url)

export function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(path, fixtureDir), 'utf8')) as T
}

/** A header in the fixtures' JSON-RPC form. */
export type RpcHeader = Record<string, string> & { hash: string; number: string }

/** With `setHardfork`, the header's fork comes from `common`'s schedule by number, else it is `common`'s fork. */
export function headerFromRpc(json: RpcHeader, common: Common, setHardfork = false): BlockHeader {
  // the fixtures hold header fields only, which is all a header needs
  return createBlockHeaderFromRPC(json as unknown as JSONRPCBlock, { common, setHardfork, skipConsensusFormatValidation: true, freeze: false })
}

/** The facts expected.json records for one sealed block. */
export interface ExpectedBlock {
  number: number
  hash: string
  signer: string
  difficulty?: number
  sealHash: string
}
