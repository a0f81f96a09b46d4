import type { Block } from '@ethereumjs/block'

import { encodeBlock } from './bodyRlp.ts'

/**
 * Encoded block sizes (eth_getBlockBy*'s `size`). Serialising a block of thousands of transactions again for it costs
 * more than the rest of the answer, so a block read from the database has its size from the stored encodings.
 */
const sizes = new WeakMap<Block, number>()

export function blockSize(block: Block): number {
  let size = sizes.get(block)
  if (size === undefined) sizes.set(block, (size = encodeBlock(block).length))
  return size
}

/** The size of the block whose header and body (Block.raw() without the header) have these RLP encodings. */
export function recordBlockSize(block: Block, headerRlp: Uint8Array, bodyRlp: Uint8Array): void {
  const bodyHeader = bodyRlp[0] <= 0xf7 ? 1 : 1 + (bodyRlp[0] - 0xf7)
  const payload = headerRlp.length + bodyRlp.length - bodyHeader
  sizes.set(block, listHeaderLength(payload) + payload)
}

function listHeaderLength(payload: number): number {
  if (payload < 56) return 1
  let bytes = 0
  for (let n = payload; n > 0; n = Math.floor(n / 256)) bytes++
  return 1 + bytes
}
