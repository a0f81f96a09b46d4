import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt, concatBytes } from '@ethereumjs/util'

import { encodeRlp } from './rlp.ts'
import type { ConsensusLog, ConsensusReceipt } from './types.ts'

/** EIP-2718 receipt encoding: rlp([status|root, cumulativeGas, bloom, logs]), prefixed by the type when typed. */
export function encodeReceipt(r: ConsensusReceipt): Uint8Array {
  const first = r.stateRoot ?? (r.status === 1 ? Uint8Array.of(1) : new Uint8Array())
  const body = encodeRlp([first, bigIntToBytes(r.cumulativeGasUsed), r.logsBloom, r.logs])
  return r.type === 0 ? body : concatBytes(Uint8Array.of(r.type), body)
}

export function decodeReceipt(b: Uint8Array): ConsensusReceipt {
  const typed = b[0] <= 0x7f
  const [first, cum, bloom, logs] = RLP.decode(typed ? b.subarray(1) : b) as [Uint8Array, Uint8Array, Uint8Array, ConsensusLog[]]
  const r: ConsensusReceipt = { type: typed ? b[0] : 0, cumulativeGasUsed: bytesToBigInt(cum), logsBloom: bloom, logs }
  if (first.length === 32) r.stateRoot = first
  else r.status = first.length === 0 ? 0 : 1
  return r
}

/** A block's receipts as stored (and as debug_getRawReceipts returns them): the list of consensus encodings. */
export const encodeReceiptList = (rs: ConsensusReceipt[]) => encodeRlp(rs.map(encodeReceipt))
export const decodeReceiptList = (b: Uint8Array) => (RLP.decode(b) as Uint8Array[]).map(decodeReceipt)
