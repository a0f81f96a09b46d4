import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'

import { RecoveryWorker } from '../crypto/secp256k1.ts'
import { recoverSendersAhead } from '../crypto/senders.ts'
import { readBlockFile } from './blockFile.ts'
import type { Chain } from './chain.ts'
import { BlockFileWriter } from './blockFile.ts'

export interface ImportStats {
  imported: number
  skipped: number
  txs: number
  seconds: number
}

export type ProgressLog = (line: string) => void

const PROGRESS_EVERY_MS = 8000
/** blocks read and handed to sender recovery ahead of the one being imported */
const READ_AHEAD = 16

/**
 * Imports block files in order, as `geth import`: known blocks are skipped, the first invalid block stops the
 * import (every valid block before it stays), and progress is logged on long runs.
 */
export async function importBlockFiles(chain: Chain, files: string[], log: ProgressLog): Promise<ImportStats> {
  const started = performance.now()
  const stats: ImportStats = { imported: 0, skipped: 0, txs: 0, seconds: 0 }
  let last = { at: started, imported: 0, txs: 0 }
  const recovery = RecoveryWorker.start()
  try {
    for (const file of files) {
      for await (const block of readAhead(readBlockFile(file, chain.common), recovery)) {
        const outcome = await chain.importBlock(block)
        if (outcome === 'known') {
          stats.skipped++
          continue
        }
        stats.imported++
        stats.txs += block.transactions.length
        const now = performance.now()
        if (now - last.at >= PROGRESS_EVERY_MS) {
          const secs = (now - last.at) / 1000
          log(
            `Imported new chain segment number=${block.header.number} hash=${bytesToHex(block.hash()).slice(0, 14)}… ` +
              `blocks=${stats.imported} txs=${stats.txs} blk/s=${((stats.imported - last.imported) / secs).toFixed(1)} tx/s=${((stats.txs - last.txs) / secs).toFixed(1)}`,
          )
          last = { at: now, imported: stats.imported, txs: stats.txs }
        }
      }
    }
  } finally {
    await recovery.close()
  }
  // A non-Clique chain's finality comes from a consensus client; after an offline import the imported head is all
  // there is, so it is also safe and finalized (as a forkchoice update to the head would set them).
  if (!chain.isClique) {
    const head = chain.heads().latest.hash()
    await chain.setFinality(head, head)
  }
  stats.seconds = (performance.now() - started) / 1000
  return stats
}

/**
 * The blocks of `blocks` in order, each once its senders are recovered: up to READ_AHEAD blocks are read and their
 * senders recovered on `recovery`'s thread while the caller imports the earlier ones.
 */
async function* readAhead(blocks: AsyncIterable<Block>, recovery: RecoveryWorker): AsyncGenerator<Block> {
  const queue: { block: Block; senders: Promise<void> }[] = []
  let unreadable: unknown
  try {
    for await (const block of blocks) {
      queue.push({ block, senders: recoverSendersAhead(recovery, block.transactions) })
      if (queue.length < READ_AHEAD) continue
      const next = queue.shift()!
      await next.senders
      yield next.block
    }
  } catch (err) {
    // the blocks read before an undecodable one are imported first, as without reading ahead
    unreadable = err
  }
  for (const next of queue) {
    await next.senders
    yield next.block
  }
  if (unreadable !== undefined) throw unreadable
}

/** Writes canonical blocks first..last (inclusive) in geth's export format. */
export async function exportBlockFile(chain: Chain, file: string, first = 0n, last?: bigint): Promise<number> {
  const end = last ?? chain.heads().latest.number
  if (first > end) throw new Error(`export range is empty: first ${first} > last ${end}`)
  const out = await BlockFileWriter.create(file)
  let n = 0
  try {
    for (let i = first; i <= end; i++) {
      const block = await chain.getBlockByNumber(i)
      if (block === undefined) throw new Error(`block ${i} is not in the chain (head is ${chain.heads().latest.number})`)
      await out.write(block)
      n++
    }
  } finally {
    await out.close()
  }
  return n
}
