/**
 * RLP encoding of byte strings and lists into one buffer sized up front, and reading of stored RLP in place.
 * @ethereumjs/rlp allocates a header array and a concatenated copy for every item and every list, so each trie node,
 * receipt and body was copied once per nesting level: most of what a sealer allocates is short-lived bytes like
 * these, and garbage collection took a quarter of its CPU (its helper threads included).
 */
export type RlpInput = Uint8Array | readonly RlpInput[]

// list payload lengths in the order the lists are met, from measuring to writing; one encode runs at a time (no
// awaits inside), so the scratch state is shared
const listLengths: number[] = []
let nextList = 0

/** rlp(input), byte for byte what RLP.encode gives for the same byte strings and lists. */
export function encodeRlp(input: RlpInput): Uint8Array {
  listLengths.length = 0
  nextList = 0
  const out = new Uint8Array(measure(input))
  write(input, out, 0)
  return out
}

function measure(input: RlpInput): number {
  if (input instanceof Uint8Array) return input.length === 1 && input[0] < 0x80 ? 1 : headerLength(input.length) + input.length
  const slot = listLengths.length
  listLengths.push(0)
  let payload = 0
  for (const item of input) payload += measure(item)
  listLengths[slot] = payload
  return headerLength(payload) + payload
}

function headerLength(payload: number): number {
  return payload < 56 ? 1 : 1 + byteLength(payload)
}

function byteLength(n: number): number {
  let bytes = 0
  for (; n > 0; n = Math.floor(n / 256)) bytes++
  return bytes
}

/** writes `input` at `at`; returns where it ends */
function write(input: RlpInput, out: Uint8Array, at: number): number {
  if (input instanceof Uint8Array) {
    if (input.length === 1 && input[0] < 0x80) {
      out[at] = input[0]
      return at + 1
    }
    at = writeHeader(out, at, input.length, 0x80)
    out.set(input, at)
    return at + input.length
  }
  at = writeHeader(out, at, listLengths[nextList++], 0xc0)
  for (const item of input) at = write(item, out, at)
  return at
}

function writeHeader(out: Uint8Array, at: number, payload: number, offset: number): number {
  if (payload < 56) {
    out[at] = offset + payload
    return at + 1
  }
  const bytes = byteLength(payload)
  out[at] = offset + 55 + bytes
  for (let i = bytes; i > 0; i--, payload = Math.floor(payload / 256)) out[at + i] = payload % 256
  return at + bytes + 1
}

/** An RLP item inside a buffer: where it starts, where its payload starts, where it ends, and whether it is a list. */
export interface RlpItemBounds {
  start: number
  payload: number
  end: number
  isList: boolean
}

/**
 * The item starting at `at`, which must end by `limit`. For bytes cairn stored or hashed itself: no canonical-form
 * checks. Reading in place is what makes it cheap: RLP.decode copies a list's body and then each item again.
 */
export function rlpItemAt(b: Uint8Array, at: number, limit = b.length): RlpItemBounds {
  if (at >= limit) throw new Error('malformed stored RLP: truncated')
  const prefix = b[at]
  let payload = at + 1
  let length: number
  if (prefix < 0x80) {
    payload = at
    length = 1
  } else if (prefix <= 0xb7) length = prefix - 0x80
  else if (prefix <= 0xf7 && prefix >= 0xc0) length = prefix - 0xc0
  else {
    const lengthBytes = prefix - (prefix < 0xc0 ? 0xb7 : 0xf7)
    payload = at + 1 + lengthBytes
    if (payload > limit) throw new Error('malformed stored RLP: truncated')
    length = 0
    for (let i = at + 1; i < payload; i++) length = length * 256 + b[i]
  }
  const end = payload + length
  if (end > limit) throw new Error('malformed stored RLP: item overruns its list')
  return { start: at, payload, end, isList: prefix >= 0xc0 }
}

/** The items of the list whose payload is b[payload, end). */
export function rlpListItems(b: Uint8Array, payload: number, end: number): RlpItemBounds[] {
  const items: RlpItemBounds[] = []
  for (let at = payload; at < end; ) {
    const item = rlpItemAt(b, at, end)
    items.push(item)
    at = item.end
  }
  return items
}

/** `b` as one RLP list, which must fill it. */
export function rlpList(b: Uint8Array): RlpItemBounds {
  const list = rlpItemAt(b, 0)
  if (!list.isList || list.end !== b.length) throw new Error('malformed stored RLP: expected one list')
  return list
}
