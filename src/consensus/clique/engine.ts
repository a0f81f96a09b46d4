import type { Block, BlockHeader } from '@ethereumjs/block'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import type { ConsensusEngine, HeaderReader } from '../../chain/chain.ts'
import type { WriteBatch } from '../../db/chaindb.ts'
import { compareHeads, headCandidate } from './forkchoice.ts'
import { isCheckpoint, verifyBody, verifyHeader } from './rules.ts'
import type { CliqueConfig } from './rules.ts'
import { SignerCache, recoverSigner } from './seal.ts'
import { applyHeaders, checkpointSnapshot, decodeSnapshot, encodeSnapshot } from './snapshot.ts'
import type { Snapshot } from './snapshot.ts'

/** geth persists a snapshot every 1024 blocks; cairn also persists at every epoch checkpoint. */
export const SNAPSHOT_PERSIST_INTERVAL = 1024n
const SNAPSHOT_CACHE = 128

export interface SnapshotStore {
  loadSnapshot(hash: Uint8Array): Promise<string | undefined>
}

/**
 * The Clique engine as the chain sees it: the pure EIP-225 rules of this folder, fed with the voting snapshot at
 * the parent. Snapshots come from a small cache, else the nearest persisted one or checkpoint, replaying the
 * headers after it (geth's `snapshot()`); new ones are persisted in the block's own batch.
 */
export class CliqueEngine implements ConsensusEngine {
  readonly name = 'clique'
  readonly config: CliqueConfig & { epoch: number }
  readonly signers = new SignerCache()
  private readonly store: SnapshotStore
  private readonly cache = new Map<string, Snapshot>()
  private readonly now: () => number

  constructor(config: CliqueConfig & { epoch: number }, store: SnapshotStore, now: () => number = () => Math.floor(Date.now() / 1000)) {
    this.config = config
    this.store = store
    this.now = now
  }

  signerOf = (header: BlockHeader) => recoverSigner(header, this.signers)

  /** geth's Engine.Author: the signer, who receives the block's fees (verifyHeader already recovered and cached it). */
  author(header: BlockHeader): Uint8Array {
    return hexToBytes(this.signerOf(header))
  }

  async verifyHeader(header: BlockHeader, parent: BlockHeader, reader: HeaderReader): Promise<void> {
    const snapshot = await this.snapshotAt(parent, reader)
    verifyHeader(header, parent, snapshot, this.config, this.now(), this.signerOf)
  }

  verifyBody(block: Block): void {
    verifyBody(block.header, { transactions: block.transactions.length, uncles: block.uncleHeaders.length }, this.config)
  }

  async onBlockWritten(header: BlockHeader, batch: WriteBatch, reader: HeaderReader): Promise<void> {
    const parent = await reader.getHeaderByHash(header.parentHash)
    if (parent === undefined) return
    const snapshot = applyHeaders(await this.snapshotAt(parent, reader), [header], this.config.epoch, this.signerOf)
    this.remember(snapshot)
    if (header.number % SNAPSHOT_PERSIST_INTERVAL === 0n || isCheckpoint(header.number, this.config)) {
      batch.putSnapshot(header.hash(), encodeSnapshot(snapshot))
    }
  }

  async tieBreak(a: { header: BlockHeader; td: bigint }, b: { header: BlockHeader; td: bigint }, reader: HeaderReader): Promise<number> {
    const candidate = async (x: { header: BlockHeader; td: bigint }) => {
      const parent = await reader.getHeaderByHash(x.header.parentHash)
      if (parent === undefined) throw new Error(`unknown parent of ${x.header.number}`)
      return headCandidate({ totalDifficulty: x.td, number: x.header.number, hash: x.header.hash() }, await this.snapshotAt(parent, reader), this.signerOf(x.header))
    }
    // compareHeads is positive when its first argument is the better head
    return -compareHeads(await candidate(a), await candidate(b))
  }

  /** The voting snapshot after `header` (geth's `snapshot(number, hash)`). */
  async snapshotAt(header: BlockHeader, reader: HeaderReader): Promise<Snapshot> {
    const pending: BlockHeader[] = []
    let cursor: BlockHeader | undefined = header
    let base: Snapshot | undefined
    while (base === undefined) {
      if (cursor === undefined) throw new Error(`unknown ancestor while building the clique snapshot for block ${header.number}`)
      const key = bytesToHex(cursor.hash())
      base = this.cache.get(key)
      if (base !== undefined) break
      if (cursor.number % SNAPSHOT_PERSIST_INTERVAL === 0n || isCheckpoint(cursor.number, this.config)) {
        const stored = await this.store.loadSnapshot(cursor.hash())
        if (stored !== undefined) {
          base = decodeSnapshot(stored)
          break
        }
      }
      if (cursor.number === 0n) {
        base = checkpointSnapshot(cursor)
        break
      }
      pending.push(cursor)
      cursor = await reader.getHeaderByHash(cursor.parentHash)
    }
    const snapshot = applyHeaders(base, pending.reverse(), this.config.epoch, this.signerOf)
    this.remember(snapshot)
    return snapshot
  }

  private remember(snapshot: Snapshot): void {
    this.cache.set(snapshot.hash, snapshot)
    if (this.cache.size > SNAPSHOT_CACHE) this.cache.delete(this.cache.keys().next().value as string)
  }
}
