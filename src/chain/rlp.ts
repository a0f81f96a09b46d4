/**
 * RLP encoding of byte strings and lists into one buffer sized up front. @ethereumjs/rlp allocates a header array and
 * a concatenated copy for every item and every list, so each trie node, receipt and body was copied once per nesting
 * level: most of what a sealer allocates is short-lived bytes like these, and garbage collection took a quarter of its
 * CPU (its helper threads included).
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
