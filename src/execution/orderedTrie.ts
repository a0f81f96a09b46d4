import { RLP } from '@ethereumjs/rlp'
import type { NestedUint8Array } from '@ethereumjs/rlp'

import { encodeRlp } from '../chain/rlp.ts'
import { keccak256 } from '../crypto/keccak.ts'

/** keccak256(RLP("")): the root of an empty trie */
const EMPTY_ROOT = keccak256(RLP.encode(new Uint8Array()))

/**
 * Root of the Merkle-Patricia trie of a block's list (transactions, receipts, withdrawals): key RLP(index), value the
 * item's encoding. The whole list is known, so the trie is hashed once, bottom up, from the sorted keys, instead of
 * being built by one insertion per item (each re-walking and re-hashing the path: ~0.12 ms per item in ethereumjs,
 * a third of assembling a block of transfers).
 */
export function orderedTrieRoot(values: Uint8Array[]): Uint8Array {
  if (values.length === 0) return EMPTY_ROOT
  const entries = values.map((value, i) => ({ key: nibbles(RLP.encode(i)), value }))
  entries.sort((a, b) => compareNibbles(a.key, b.key))
  return keccak256(encodeRlp(node(entries, 0, entries.length, 0)))
}

interface Entry {
  key: Uint8Array
  value: Uint8Array
}

/** The node holding entries [from, to) (sorted, sharing their first `depth` nibbles), as its RLP structure. */
function node(entries: Entry[], from: number, to: number, depth: number): NestedUint8Array | Uint8Array[] {
  const first = entries[from].key
  if (to - from === 1) return [hexPrefix(first.subarray(depth), true), entries[from].value]
  // sorted: the prefix all share is the one the first and the last share
  const last = entries[to - 1].key
  let common = depth
  while (common < first.length && common < last.length && first[common] === last[common]) common++
  if (common > depth) return [hexPrefix(first.subarray(depth, common), false), reference(node(entries, from, to, common))]
  const branch: (Uint8Array | NestedUint8Array)[] = new Array(17).fill(new Uint8Array())
  let i = from
  if (first.length === depth) {
    branch[16] = entries[from].value
    i++
  }
  while (i < to) {
    const nibble = entries[i].key[depth]
    let j = i + 1
    while (j < to && entries[j].key[depth] === nibble) j++
    branch[nibble] = reference(node(entries, i, j, depth + 1))
    i = j
  }
  return branch as NestedUint8Array
}

/** A child as its parent holds it: inline when its encoding is under 32 bytes, else its hash. */
function reference(child: NestedUint8Array | Uint8Array[]): Uint8Array | NestedUint8Array {
  const encoded = encodeRlp(child)
  return encoded.length < 32 ? child : keccak256(encoded)
}

/** Hex-prefix encoding of a nibble path (Yellow Paper appendix C). */
function hexPrefix(path: Uint8Array, leaf: boolean): Uint8Array {
  const odd = path.length % 2
  const out = new Uint8Array(Math.floor(path.length / 2) + 1)
  out[0] = ((leaf ? 2 : 0) + odd) << 4
  let n = 0
  if (odd === 1) out[0] |= path[n++]
  for (let b = 1; n < path.length; b++, n += 2) out[b] = (path[n] << 4) | path[n + 1]
  return out
}

function nibbles(key: Uint8Array): Uint8Array {
  const out = new Uint8Array(key.length * 2)
  for (let i = 0; i < key.length; i++) {
    out[2 * i] = key[i] >> 4
    out[2 * i + 1] = key[i] & 15
  }
  return out
}

function compareNibbles(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return a.length - b.length
}
