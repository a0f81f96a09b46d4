import type { Block } from '@ethereumjs/block'
import type { PeerId } from '@libp2p/interface'
import { bytesToHex, equalsBytes } from '@ethereumjs/util'

import type { Chain } from '../chain/chain.ts'
import type { Logger } from '../cli/log.ts'
import type { SenderRecovery } from '../crypto/senders.ts'
import { importFailureKind } from '../net/network.ts'
import type { ChainPeer, Network } from '../net/network.ts'
import { MAX_BLOCKS_PER_REQUEST, requestBlocksByHash, requestBlocksByRange, serveBlocks } from './protocols.ts'

export interface SyncProgress {
  startingBlock: bigint
  currentBlock: bigint
  highestBlock: bigint
}

export interface SynchronizerOptions {
  chain: Chain
  network: Network
  log: Logger
  /** recovers the senders of fetched blocks off the main thread, ahead of their import */
  recoverSenders?: SenderRecovery
  /** how long a starting node waits for a first peer before it may seal on its own chain */
  startupWaitMs?: number
  /** how often peers' heads are compared with ours */
  intervalMs?: number
  /** how long a peer one block ahead is given for that block to arrive by gossip before it is fetched */
  gossipGraceMs?: number
}

/** a gossiped block this far above the head is caught up by range sync, not by walking back hash by hash */
const MAX_BACKFILL = 64
/** range sync gives up on a peer after this many rounds without progress */
const MAX_STALLED_ROUNDS = 8
/**
 * A peer is one block ahead at most comparisons under load: its newest block is still on its way here by gossip, or
 * being imported. Fetching it again by range (a 4-node devnet under full load did so every few seconds on every node)
 * downloads and decodes the block twice, and stops a sealer sealing while the sync runs.
 */
const GOSSIP_GRACE_MS = 1_000

/**
 * Keeps the chain up with its peers. Range sync: when a peer's total difficulty is above ours, download its chain
 * from our head (stepping back to a common ancestor when ours forked) 128 blocks per request and import it.
 * Backfill: a gossiped block with an unknown parent makes this node fetch the missing ancestors by hash from the
 * peer that sent it. Fork choice stays the chain's: sync only feeds blocks. Until the first comparison with peers
 * (or the startup wait without any) and while a range sync runs, `canSeal` is false, so a restarted sealer does
 * not seal on a stale head. As geth 1.13's miner, sealing waits only until a range sync has once caught up: after
 * that, a peer claiming a heavier chain could otherwise keep this node from sealing by making it sync again and again.
 */
export class Synchronizer {
  private readonly chain: Chain
  private readonly network: Network
  private readonly log: Logger
  private readonly recoverSenders: SenderRecovery | undefined
  private readonly startupWaitMs: number
  private readonly intervalMs: number
  private readonly gossipGraceMs: number
  private syncing: SyncProgress | undefined
  private ready = false
  /** a range sync has caught up with its peer: later ones no longer stop sealing */
  private caughtUpOnce = false
  private running = false
  private timer: NodeJS.Timeout | undefined
  private startupTimer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined
  private readonly backfilling = new Set<string>()
  private readonly onPeer = (peer: ChainPeer) => this.onPeerStatus(peer)
  private readonly onUnknownParent = (block: Block, from: PeerId) => void this.backfill(block, from)

  constructor(opts: SynchronizerOptions) {
    this.chain = opts.chain
    this.network = opts.network
    this.log = opts.log
    this.recoverSenders = opts.recoverSenders
    this.startupWaitMs = opts.startupWaitMs ?? 3_000
    this.intervalMs = opts.intervalMs ?? 5_000
    this.gossipGraceMs = opts.gossipGraceMs ?? GOSSIP_GRACE_MS
  }

  /** Registers the block protocols; call before the network starts. */
  async serve(): Promise<void> {
    await serveBlocks(this.network, this.chain)
  }

  start(): void {
    this.running = true
    this.network.on('peer', this.onPeer)
    this.network.on('unknownParent', this.onUnknownParent)
    if (this.startupWaitMs === 0) this.markReady()
    else this.startupTimer = setTimeout(() => this.markReady(), this.startupWaitMs)
    const loop = () => {
      this.check().finally(() => {
        if (this.running) this.timer = setTimeout(loop, this.intervalMs)
      })
    }
    this.timer = setTimeout(loop, this.intervalMs)
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
    clearTimeout(this.startupTimer)
    this.network.off('peer', this.onPeer)
    this.network.off('unknownParent', this.onUnknownParent)
  }

  /** A range sync is running (eth_syncing). */
  isSyncing(): boolean {
    return this.syncing !== undefined
  }

  progress(): SyncProgress | undefined {
    return this.syncing === undefined ? undefined : { ...this.syncing }
  }

  /** Whether a sealer may seal now: peers were compared with (or none came), and no range sync runs unless one has caught up before. */
  canSeal(): boolean {
    return this.ready && (this.syncing === undefined || this.caughtUpOnce)
  }

  /** Compares peers' heads with ours (refreshing their status) and syncs from the heaviest when it is ahead. */
  check(): Promise<void> {
    this.checking ??= this.checkPeers()
      .catch((err) => {
        // a check still in flight when the node stops finds the database closed: only a running node's failure counts
        if (this.running) this.log.warn('Sync check failed', { err: (err as Error).message })
      })
      .finally(() => (this.checking = undefined))
    return this.checking
  }

  private markReady(): void {
    if (this.ready) return
    this.ready = true
    this.log.debug('Sync ready', { head: Number(this.chain.heads().latest.number) })
  }

  private onPeerStatus(peer: ChainPeer): void {
    void this.ourTd().then((td) => {
      if (peer.status.td > td) void this.check()
      // the first peer that is not ahead tells a starting node its head is current
      else if (this.syncing === undefined && this.checking === undefined) this.markReady()
    }, (err) => this.log.debug('Peer status check failed', { peer: peer.id.toString(), err: (err as Error).message }))
  }

  private async ourTd(): Promise<bigint> {
    return (await this.chain.getTotalDifficulty(this.chain.heads().latest.hash())) ?? 0n
  }

  private async checkPeers(): Promise<void> {
    if (!this.running) return
    const refreshed = await Promise.all(this.network.chainPeers().map((p) => this.network.refreshStatus(p.id)))
    const peers = refreshed.filter((p): p is ChainPeer => p !== undefined).sort((a, b) => (b.status.td > a.status.td ? 1 : b.status.td < a.status.td ? -1 : 0))
    for (const peer of peers) {
      if (!this.running || !(await this.isAhead(peer))) break
      await this.rangeSync(peer)
    }
    if (peers.length > 0) this.markReady()
  }

  /**
   * Whether `peer`'s chain is heavier than ours once the blocks being imported here are in. A peer at most one block
   * above our head is given GOSSIP_GRACE_MS for that block to come by gossip first.
   */
  private async isAhead(peer: ChainPeer): Promise<boolean> {
    await this.chain.settled()
    if (peer.status.td <= (await this.ourTd())) return false
    if (peer.status.headNumber > this.chain.heads().latest.number + 1n) return true
    await sleep(this.gossipGraceMs)
    await this.chain.settled()
    return this.running && peer.status.td > (await this.ourTd())
  }

  /** Downloads and imports `peer`'s chain until ours is as heavy or the peer stops helping. */
  private async rangeSync(peer: ChainPeer): Promise<void> {
    const startHead = this.chain.heads().latest
    let target = peer.status.headNumber
    this.syncing = { startingBlock: startHead.number, currentBlock: startHead.number, highestBlock: target }
    this.log.info('Sync started', { peer: peer.id.toString(), from: Number(startHead.number), target: Number(target) })
    const started = performance.now()
    let imported = 0
    let lastLog = started
    // the next block to ask for; a fork of ours is found by stepping back until the parent is one we have
    let next = (startHead.number < target ? startHead.number : target) + 1n
    let step = 1n
    let stalled = 0
    try {
      while (this.running && stalled < MAX_STALLED_ROUNDS && this.network.chainPeers().some((p) => p.id.equals(peer.id))) {
        if (next > target) {
          const fresh = await this.network.refreshStatus(peer.id)
          if (fresh === undefined) break
          if (fresh.status.td <= (await this.ourTd())) {
            this.caughtUpOnce = true
            break
          }
          target = fresh.status.headNumber
          this.syncing.highestBlock = target
          if (next > target) next = target
        }
        const count = Number(target - next + 1n < BigInt(MAX_BLOCKS_PER_REQUEST) ? target - next + 1n : BigInt(MAX_BLOCKS_PER_REQUEST))
        let blocks: Block[]
        try {
          blocks = await requestBlocksByRange(this.network, this.chain, peer.id, next, count)
        } catch (err) {
          this.log.debug('Range request failed', { peer: peer.id.toString(), start: Number(next), err: (err as Error).message })
          stalled++
          await sleep(500)
          continue
        }
        if (blocks.length === 0 || !blocks.every((b, i) => b.header.number === next + BigInt(i))) {
          this.network.penalise(peer.id, 'blocks_by_range answer out of range')
          stalled++
          continue
        }
        if ((await this.chain.getHeaderByHash(blocks[0].header.parentHash)) === undefined) {
          // our chain forked from the peer's below `next`
          next = next - step > 1n ? next - step : 1n
          step *= 2n
          stalled++
          continue
        }
        if (!(await this.importAll(blocks, peer.id))) break
        stalled = 0
        imported += blocks.length
        next += BigInt(blocks.length)
        this.syncing.currentBlock = this.chain.heads().latest.number
        const now = performance.now()
        if (now - lastLog > 2_000 || next > target) {
          lastLog = now
          const total = Number(target - startHead.number)
          this.log.info(`Syncing: imported ${imported}/${total > 0 ? total : imported} blocks, ${(imported / ((now - started) / 1000)).toFixed(1)} blk/s`, { head: Number(this.chain.heads().latest.number), target: Number(target) })
        }
      }
    } finally {
      const head = this.chain.heads().latest
      this.syncing = undefined
      this.log.info('Sync done', { imported, head: Number(head.number), hash: bytesToHex(head.hash()), seconds: ((performance.now() - started) / 1000).toFixed(2) })
    }
  }

  /** Imports blocks in order; an invalid one bans the peer that served it. False when the peer is done for. */
  private async importAll(blocks: Block[], from: PeerId): Promise<boolean> {
    // each block's senders are recovered while the blocks before it are imported
    const recover = this.recoverSenders
    const ahead = blocks.map((b) => (recover !== undefined && b.transactions.length > 0 ? recover(b.transactions) : undefined))
    for (const [i, block] of blocks.entries()) {
      await ahead[i]
      try {
        const outcome = await this.chain.importBlock(block)
        // as 'Imported gossiped block': the bench counts a block's arrival at each node by either
        if (outcome !== 'known') this.log.debug('Imported synced block', { number: Number(block.header.number), hash: bytesToHex(block.hash()), outcome })
      } catch (err) {
        if (importFailureKind(err) === 'invalid') {
          this.network.ban(from, `served ${(err as Error).message}`)
        } else {
          this.log.debug('Block import failed during sync', { number: Number(block.header.number), err: (err as Error).message })
        }
        return false
      }
    }
    return true
  }

  /** Fetches the ancestors of a gossiped block that this node lacks, walking back by hash, then imports them all. */
  private async backfill(block: Block, from: PeerId): Promise<void> {
    const head = this.chain.heads().latest
    if (this.syncing !== undefined) return
    if (block.header.number > head.number + BigInt(MAX_BACKFILL)) {
      void this.check()
      return
    }
    const key = bytesToHex(block.hash())
    if (this.backfilling.has(key)) return
    this.backfilling.add(key)
    try {
      const missing = [block]
      for (let i = 0; i < MAX_BACKFILL; i++) {
        const want = missing[0].header.parentHash
        if ((await this.chain.getHeaderByHash(want)) !== undefined) {
          this.log.debug('Backfilled unknown ancestors', { peer: from.toString(), blocks: missing.length - 1, head: Number(block.header.number) })
          await this.importAll(missing, from)
          return
        }
        const [parent] = await requestBlocksByHash(this.network, this.chain, from, [want])
        if (parent === undefined || !equalsBytes(parent.hash(), want)) {
          this.network.penalise(from, 'could not serve the ancestors of its gossiped block')
          return
        }
        missing.unshift(parent)
      }
      void this.check()
    } catch (err) {
      this.log.debug('Backfill failed', { peer: from.toString(), err: (err as Error).message })
    } finally {
      this.backfilling.delete(key)
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
