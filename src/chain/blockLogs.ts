import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'

import type { BlockLogs, ConsensusReceipt } from './types.ts'

/** The key of BlockLogs.index for the logs from `address` (lowercase 0x hex). */
export const addressKey = (address: string) => `a${address}`
/** The key of BlockLogs.index for the logs with `topic` (lowercase 0x hex) at `position`. */
export const topicKey = (position: number, topic: string) => `${position}${topic}`

/**
 * A block's logs with their index, from its receipts and transaction hashes; `bytes` is what they keep alive (the
 * logs are views into the receipts' encoding), for a cache to weigh.
 */
export function blockLogsOf(header: BlockHeader, blockHash: Uint8Array, txHashes: Uint8Array[], receipts: ConsensusReceipt[]): { logs: BlockLogs; bytes: number } {
  const logs: BlockLogs['logs'] = []
  const index = new Map<string, number[]>()
  const indexAs = (key: string, at: number) => {
    const list = index.get(key)
    if (list === undefined) index.set(key, [at])
    else list.push(at)
  }
  let bytes = 64 * txHashes.length
  receipts.forEach((receipt, txIndex) => {
    bytes += 300
    for (const log of receipt.logs) {
      const [address, topics, data] = log
      indexAs(addressKey(bytesToHex(address)), logs.length)
      topics.forEach((topic, i) => indexAs(topicKey(i, bytesToHex(topic)), logs.length))
      logs.push({ log, txIndex })
      bytes += 150 + 200 * topics.length + data.length
    }
  })
  return { logs: { header, blockHash, txHashes, logs, index }, bytes }
}
