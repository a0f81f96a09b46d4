import type { Block } from '@ethereumjs/block'
import type { PeerId } from '@libp2p/interface'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt } from '@ethereumjs/util'

import type { Chain } from '../chain/chain.ts'
import { encodeBlock } from '../chain/bodyRlp.ts'
import { decodeBlock } from '../chain/decode.ts'
import type { Network } from '../net/network.ts'

export const BLOCKS_BY_RANGE = '/cairn/blocks_by_range/1'
export const BLOCKS_BY_HASH = '/cairn/blocks_by_hash/1'
/** most blocks one request may ask for */
export const MAX_BLOCKS_PER_REQUEST = 128
const REQUEST_TIMEOUT_MS = 20_000

/**
 * Serves whole blocks (header, transactions, uncles, withdrawals: `encodeBlock`), one length-prefixed chunk
 * each. By range: RLP [start, count], the canonical blocks from `start` (fewer at the head). By hash: RLP [hash...],
 * the blocks this node has, in request order, unknown ones skipped.
 */
export async function serveBlocks(network: Network, chain: Chain): Promise<void> {
  await network.serve(BLOCKS_BY_RANGE, async (payload) => {
    const { start, count } = decodeRangeRequest(payload)
    return (async function* () {
      for (let n = start; n < start + BigInt(count); n++) {
        const block = await chain.getBlockByNumber(n)
        if (block === undefined) return
        yield encodeBlock(block)
      }
    })()
  }, (payload) => safeCost(() => decodeRangeRequest(payload).count))
  await network.serve(BLOCKS_BY_HASH, async (payload) => {
    const hashes = decodeHashRequest(payload)
    return (async function* () {
      for (const hash of hashes) {
        const block = await chain.getBlockByHash(hash)
        if (block !== undefined) yield encodeBlock(block)
      }
    })()
  }, (payload) => safeCost(() => decodeHashRequest(payload).length))
}

/** A malformed request costs the minimum; the handler then refuses it. */
function safeCost(count: () => number): number {
  try {
    return count()
  } catch {
    return 1
  }
}

export async function requestBlocksByRange(network: Network, chain: Chain, peer: PeerId, start: bigint, count: number): Promise<Block[]> {
  const payload = RLP.encode([bigIntToUnpaddedBytes(start), bigIntToUnpaddedBytes(BigInt(count))])
  const chunks = await network.request(peer, BLOCKS_BY_RANGE, payload, { timeoutMs: REQUEST_TIMEOUT_MS, maxChunks: count })
  return chunks.map((c) => decodeBlock(c, chain.common, network.pooledTx))
}

export async function requestBlocksByHash(network: Network, chain: Chain, peer: PeerId, hashes: Uint8Array[]): Promise<Block[]> {
  const chunks = await network.request(peer, BLOCKS_BY_HASH, RLP.encode(hashes), { timeoutMs: REQUEST_TIMEOUT_MS, maxChunks: hashes.length })
  return chunks.map((c) => decodeBlock(c, chain.common, network.pooledTx))
}

function decodeRangeRequest(payload: Uint8Array): { start: bigint; count: number } {
  const v = RLP.decode(payload) as unknown
  if (!Array.isArray(v) || v.length !== 2 || !(v[0] instanceof Uint8Array) || !(v[1] instanceof Uint8Array)) throw new Error('blocks_by_range: expected [start, count]')
  const count = Number(bytesToBigInt(v[1]))
  if (count < 1 || count > MAX_BLOCKS_PER_REQUEST) throw new Error(`blocks_by_range: count must be 1..${MAX_BLOCKS_PER_REQUEST}`)
  return { start: bytesToBigInt(v[0]), count }
}

function decodeHashRequest(payload: Uint8Array): Uint8Array[] {
  const v = RLP.decode(payload) as unknown
  if (!Array.isArray(v) || v.length < 1 || v.length > MAX_BLOCKS_PER_REQUEST || !v.every((h) => h instanceof Uint8Array && h.length === 32)) {
    throw new Error(`blocks_by_hash: expected 1..${MAX_BLOCKS_PER_REQUEST} 32-byte hashes`)
  }
  return v as Uint8Array[]
}
