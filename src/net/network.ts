import { EventEmitter } from 'node:events'

import type { Block } from '@ethereumjs/block'
import { gossipsub } from '@libp2p/gossipsub'
import type { GossipSub, GossipsubMessage, TopicValidatorResult } from '@libp2p/gossipsub'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { RLP } from '@ethereumjs/rlp'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { sha256 } from '@noble/hashes/sha2.js'

import { BlockImportError } from '../chain/chain.ts'
import type { Chain } from '../chain/chain.ts'
import { encodeBlock } from '../chain/bodyRlp.ts'
import { decodeBlock, decodeTx } from '../chain/decode.ts'
import type { KnownTx } from '../chain/decode.ts'
import { txBytes } from '../chain/txBytes.ts'
import type { Logger } from '../cli/log.ts'
import type { SenderRecovery } from '../crypto/senders.ts'
import { forkIdAt, forkSchedule } from './forkid.ts'
import type { ForkSchedule } from './forkid.ts'
import { createHost, PeerGate, peerOf, selfAddrs } from './host.ts'
import type { BaseServices, HostConfig } from './host.ts'
import { PeerExchange } from './peerExchange.ts'
import { STATUS_VERSION, decodeStatus, encodeStatus, statusMismatch } from './status.ts'
import type { Status } from './status.ts'
import { RateLimiter, request, serve } from './wire.ts'
import type { RequestHandler } from './wire.ts'

export const STATUS_PROTOCOL = '/cairn/status/1'
/** Transactions sent to one peer: the pool to a new peer, and transactions a reorg put back (gossip will not resend). */
export const POOLED_TXS_PROTOCOL = '/cairn/pooled_txs/1'
/** hashes of pending transactions a node holds; the answer lists those the peer lacks, which are then pushed */
export const TX_ANNOUNCE_PROTOCOL = '/cairn/tx_announce/1'
/** how often stalled transactions are announced again */
const ANNOUNCE_EVERY_MS = 2_000
/** how long a transaction waits at the front of its account's queue before it is announced again */
const STALLED_AFTER_MS = 3_000
/** announced per account (geth's account queue: what a peer keeps of an account even when its pool is full) and per round */
const ANNOUNCE_PER_ACCOUNT = 64
const ANNOUNCE_MAX = 2_048
/** bytes of transactions per pooled_txs request */
const POOLED_TXS_BATCH_BYTES = 1024 * 1024
/**
 * Transactions travel in gossip messages of many: each message costs every node a noise frame, a gossipsub
 * envelope, a message-id hash and forwarding to each mesh peer, which one transaction per message made cost more
 * than executing it. The first transaction waits up to TX_GOSSIP_WAIT_MS for company.
 */
const TX_GOSSIP_WAIT_MS = 25
const TX_GOSSIP_MAX_BYTES = 128 * 1024
/** transactions that arrived by gossip, remembered so their becoming pending does not gossip them again */
const GOSSIPED_TXS_REMEMBERED = 16_384

/** How the transaction pool answers a gossiped transaction; `code` is a TxPoolErrorCode. */
export interface GossipTxPool {
  addRemotes(txs: TypedTransaction[]): Promise<({ code: string } | undefined)[]>
  content(): { pending: ReadonlyMap<string, ReadonlyMap<bigint, { tx: TypedTransaction }>> }
  has(hash: string): boolean
  get(hash: string): { tx: TypedTransaction } | undefined
  pendingHeads(perAccount: number, max: number): { hash: string; tx: TypedTransaction }[]
  on(event: 'pending', listener: (txs: { hash: string; tx: TypedTransaction }[]) => void): unknown
  off(event: 'pending', listener: (txs: { hash: string; tx: TypedTransaction }[]) => void): unknown
  /** after the pool moved to a new head */
  on(event: 'reset', listener: () => void): unknown
  off(event: 'reset', listener: () => void): unknown
}

/** Pool refusals that hold whatever the state: the sender relayed an invalid transaction. */
const INVALID_TX_CODES = new Set(['invalidSender', 'intrinsicGas', 'floorDataGas', 'oversizedData', 'maxInitCodeSizeExceeded', 'gasLimitTooHigh'])

export interface NetworkOptions {
  chain: Chain
  host: HostConfig
  log: Logger
  txpool?: GossipTxPool
  /**
   * Recovers the senders of transactions from peers off the main thread, one call per message, before the pool
   * checks them; without it the pool recovers each on the main thread, where a sealer's block waits behind them.
   */
  recoverSenders?: SenderRecovery
  /** how long a peer that sent an invalid block (or too much garbage) stays banned */
  banMs?: number
  /** how often peers are re-dialled and asked for more peers */
  peerExchangeMs?: number
}

/** A connected peer that passed the status handshake: on this chain and fork. */
export interface ChainPeer {
  id: PeerId
  status: Status
}

/** A chain peer's connection, for admin_peers. */
export interface PeerConnectionInfo {
  peer: ChainPeer
  inbound: boolean
  remoteAddress: string
  /** kept connected: --staticnodes or admin_addPeer */
  static: boolean
}

interface NetworkEvents {
  /** a peer passed the handshake, or its status was refreshed */
  peer: [peer: ChainPeer]
  /** a gossiped block whose parent this node lacks: sync fetches its ancestors from `from` */
  unknownParent: [block: Block, from: PeerId]
}

/** How a failed import reflects on the peer that sent the block. */
export function importFailureKind(err: unknown): 'unknown-ancestor' | 'not-its-fault' | 'invalid' {
  if (!(err instanceof BlockImportError)) return 'not-its-fault'
  if (err.reason === 'unknown ancestor') return 'unknown-ancestor'
  // this node's clock or state, not the block: a peer's clock runs ahead, or a parent's state is not here
  if (err.reason === 'block in the future' || err.reason.startsWith('missing trie node')) return 'not-its-fault'
  return 'invalid'
}

/** Why a peer lost standing; after MAX_STRIKES it is banned. */
const MAX_STRIKES = 10
const STATUS_TIMEOUT_MS = 5_000
/** peers on another chain are kept away this long so static-node redials do not spin */
const MISMATCH_BAN_MS = 5 * 60_000

type Services = BaseServices & { pubsub: GossipSub }

/** gossipsub's own class: the package exports only the interface, without these two */
interface ValidatingGossipSub extends GossipSub {
  reportMessageValidationResult(msgId: string, propagationSource: string, acceptance: TopicValidatorResult): void
  getScore(peerId: string): number
}

/**
 * The node's libp2p network: the status handshake (peers on another chain or fork are dropped, naming the
 * difference), block and transaction gossip over gossipsub (validated by the chain and the pool before gossipsub
 * forwards them), request/response serving with a per-peer rate limit, bans, and the peer exchange that makes
 * bootnodes and static nodes work. Sync (src/sync) uses `request`, `serve` and the chain peers.
 */
export class Network extends EventEmitter<NetworkEvents> {
  readonly node: Libp2p<Services>
  readonly gate: PeerGate
  readonly blockTopic: string
  readonly txTopic: string
  private readonly opts: NetworkOptions
  private readonly log: Logger
  private readonly schedule: ForkSchedule
  private readonly peersById = new Map<string, ChainPeer>()
  private readonly strikes: Map<string, number>
  private readonly limiter = new RateLimiter({ burst: 2048, perSecond: 512 })
  private readonly exchange: PeerExchange
  /** pending transactions at the front of their account's queue, by hash: since when they wait (or were announced) */
  private waiting = new Map<string, number>()
  private announceTimer: ReturnType<typeof setInterval> | undefined
  /** The transactions of the blocks the last reorg removed: gossipsub has seen them, so it would not resend them. */
  private reorgedTxs = new Set<string>()
  private readonly onHead = (_head: Block, removed: Block[]) => {
    if (removed.length > 0) this.reorgedTxs = new Set(removed.flatMap((b) => b.transactions.map((tx) => bytesToHex(tx.hash()))))
  }
  private readonly onPoolReset = () => this.announceStalled(Date.now(), true)
  /** a block's transactions as the pool holds them (decoded, their senders recovered at admission), for decodeBlock */
  readonly pooledTx: KnownTx = (hash) => this.opts.txpool?.get(hash)?.tx
  /** transactions waiting to go out in the next gossip message, and their size */
  private outgoingTxs: Uint8Array[] = []
  private outgoingBytes = 0
  private outgoingTimer: ReturnType<typeof setTimeout> | undefined
  /** hashes of transactions received by gossip: gossipsub forwards their message, so they are not published again */
  private readonly gossipedTxs = new Set<string>()
  private readonly onPendingTxs = (txs: { hash: string; tx: TypedTransaction }[]) => {
    for (const { hash, tx } of txs) if (!this.gossipedTxs.delete(hash)) this.queueTxGossip(txBytes(tx))
    // the pool took back transactions a reorg removed: they go to every peer directly
    const reinjected = txs.filter(({ hash }) => this.reorgedTxs.delete(hash)).map(({ tx }) => tx)
    if (reinjected.length > 0) for (const peer of this.chainPeers()) void this.pushTxs(peer.id, reinjected)
  }

  private constructor(opts: NetworkOptions, node: Libp2p<Services>, gate: PeerGate, topics: { block: string; tx: string }, strikes: Map<string, number>) {
    super()
    this.strikes = strikes
    this.opts = opts
    this.log = opts.log
    this.node = node
    this.gate = gate
    this.blockTopic = topics.block
    this.txTopic = topics.tx
    const { chain } = opts
    this.schedule = forkSchedule(chain.common, chain.genesis.hash(), chain.genesis.header.timestamp)
    this.exchange = new PeerExchange(node, opts.host, gate, opts.log, opts.peerExchangeMs)
  }

  static async create(opts: NetworkOptions): Promise<Network> {
    const genesis = bytesToHex(opts.chain.genesis.hash()).slice(2)
    const topics = { block: `/cairn/${genesis}/blocks/1`, tx: `/cairn/${genesis}/txs/2` }
    const gate = new PeerGate(opts.host.allow)
    // created before the node: gossipsub's app-specific score reads it
    const strikes = new Map<string, number>()
    const node = await createHost<{ pubsub: GossipSub }>(opts.host, gate, {
      pubsub: gossipsub({
        // messages carry no author: a block or transaction speaks for itself, and its id is its content hash
        globalSignaturePolicy: 'StrictNoSign',
        msgIdFn: (msg) => sha256(msg.data),
        asyncValidation: true,
        allowPublishToZeroTopicPeers: true,
        ignoreDuplicatePublishError: true,
        emitSelf: false,
        scoreParams: scoreParams([topics.block, topics.tx], (peer) => -(strikes.get(peer) ?? 0)),
        scoreThresholds: { gossipThreshold: -100, publishThreshold: -200, graylistThreshold: -400, acceptPXThreshold: 10, opportunisticGraftThreshold: 1 },
      }),
    })
    return new Network(opts, node as Libp2p<Services>, gate, topics, strikes)
  }

  get peerId(): PeerId {
    return this.node.peerId
  }

  async start(): Promise<void> {
    const { node } = this
    await serve(node, STATUS_PROTOCOL, (payload, peer) => this.answerStatus(payload, peer), { timeoutMs: STATUS_TIMEOUT_MS })
    await this.exchange.serve()
    if (this.opts.txpool !== undefined) {
      await this.serve(POOLED_TXS_PROTOCOL, (payload, peer) => this.receivePooledTxs(payload, peer), (payload) => Math.ceil(payload.length / 4096))
      await this.serve(TX_ANNOUNCE_PROTOCOL, (payload, peer) => this.answerAnnouncement(payload, peer), (payload) => Math.ceil(payload.length / 4096))
      this.announceTimer = setInterval(() => this.announceStalled(), ANNOUNCE_EVERY_MS)
      this.announceTimer.unref()
    }
    node.addEventListener('peer:connect', (e) => void this.handshake(e.detail))
    node.addEventListener('peer:disconnect', (e) => this.dropPeer(e.detail))
    await node.start()
    const pubsub = node.services.pubsub
    pubsub.addEventListener('gossipsub:message', (e) => void this.onGossip(e.detail))
    pubsub.subscribe(this.blockTopic)
    pubsub.subscribe(this.txTopic)
    this.opts.txpool?.on('pending', this.onPendingTxs)
    this.opts.txpool?.on('reset', this.onPoolReset)
    this.opts.chain.on('head', this.onHead)
    this.exchange.start()
    this.log.info('Started P2P networking', { self: selfAddrs(node).join(','), maxpeers: this.opts.host.maxPeers, discovery: this.opts.host.discovery })
  }

  async stop(): Promise<void> {
    clearInterval(this.announceTimer)
    clearTimeout(this.outgoingTimer)
    this.opts.txpool?.off('pending', this.onPendingTxs)
    this.opts.txpool?.off('reset', this.onPoolReset)
    this.opts.chain.off('head', this.onHead)
    this.exchange.stop()
    await this.node.stop()
  }

  /** Connected peers that passed the handshake. */
  chainPeers(): ChainPeer[] {
    return [...this.peersById.values()]
  }

  /** How each chain peer is connected. */
  peerConnections(): PeerConnectionInfo[] {
    return this.chainPeers().flatMap((peer) => {
      const conn = this.node.getConnections(peer.id)[0]
      if (conn === undefined) return []
      return [{ peer, inbound: conn.direction === 'inbound', remoteAddress: conn.remoteAddr.toString(), static: this.exchange.isStatic(peer.id) }]
    })
  }

  /** admin_addPeer: keeps `addr` (a multiaddr with /p2p/PEERID) connected, as a static node. */
  addPeer(addr: string): void {
    peerOf(addr)
    this.exchange.addStatic(addr)
  }

  /** admin_removePeer: stops keeping `addr` connected and disconnects its peer. */
  async removePeer(addr: string): Promise<void> {
    const peer = peerOf(addr)
    this.exchange.removeStatic(addr)
    this.dropPeer(peer)
    await this.node.hangUp(peer).catch(() => {})
  }

  /** Disconnects a peer and refuses it, either way, until unblockPeer (cairn's admin_blockPeer). */
  async blockPeer(peer: PeerId): Promise<void> {
    this.gate.block(peer.toString())
    this.log.info('Blocked peer', { peer: peer.toString() })
    this.dropPeer(peer)
    await this.node.hangUp(peer).catch(() => {})
  }

  /** Lets a blocked (or banned) peer connect again; the peer exchange and static nodes redial it. */
  unblockPeer(peer: PeerId): void {
    this.gate.unblock(peer.toString())
    this.log.info('Unblocked peer', { peer: peer.toString() })
  }

  /** Announces a block this node sealed (peers forward it once their chain accepted it). */
  async publishBlock(block: Block): Promise<void> {
    await this.publish(this.blockTopic, encodeBlock(block))
  }

  /** Registers a request/response protocol whose requests cost `cost(payload)` of the peer's rate budget. */
  async serve(protocol: string, handler: RequestHandler, cost: (payload: Uint8Array) => number): Promise<void> {
    await serve(this.node, protocol, async (payload, peer) => {
      if (!this.limiter.take(peer.toString(), Math.max(1, cost(payload)))) {
        this.penalise(peer, `rate limit exceeded on ${protocol}`)
        throw new Error('rate limited')
      }
      return handler(payload, peer)
    }, { timeoutMs: 30_000 })
  }

  request(peer: PeerId, protocol: string, payload: Uint8Array, opts: { timeoutMs: number; maxChunks: number }): Promise<Uint8Array[]> {
    return request(this.node, peer, protocol, payload, opts)
  }

  /** Asks a peer for its current status (head and total difficulty), updating what `chainPeers` reports. */
  async refreshStatus(peer: PeerId): Promise<ChainPeer | undefined> {
    try {
      const [reply] = await request(this.node, peer, STATUS_PROTOCOL, encodeStatus(await this.localStatus()), { timeoutMs: STATUS_TIMEOUT_MS, maxChunks: 1 })
      if (reply === undefined) throw new Error('no status reply')
      return this.acceptStatus(peer, decodeStatus(reply))
    } catch (err) {
      this.log.debug('Status request failed', { peer: peer.toString(), err: (err as Error).message })
      return undefined
    }
  }

  /** A strike against a peer (garbage, abuse); enough of them and it is banned. */
  penalise(peer: PeerId, reason: string): void {
    const id = peer.toString()
    const n = (this.strikes.get(id) ?? 0) + 1
    this.strikes.set(id, n)
    this.log.debug('Penalised peer', { peer: id, reason, strikes: n })
    if (n >= MAX_STRIKES) this.ban(peer, `${n} strikes, last: ${reason}`)
  }

  /** Disconnects a peer and refuses it, either way, for the ban period. */
  ban(peer: PeerId, reason: string, ms = this.opts.banMs ?? 30 * 60_000): void {
    this.gate.ban(peer.toString(), ms)
    this.log.warn('Banned peer', { peer: peer.toString(), reason, seconds: Math.round(ms / 1000) })
    this.dropPeer(peer)
    void this.node.hangUp(peer).catch(() => {})
  }

  /** gossipsub's score of a peer (negative after invalid messages or strikes). */
  score(peer: PeerId): number {
    return (this.node.services.pubsub as ValidatingGossipSub).getScore(peer.toString())
  }

  strikesOf(peer: PeerId): number {
    return this.strikes.get(peer.toString()) ?? 0
  }

  async localStatus(): Promise<Status> {
    const { chain } = this.opts
    const head = chain.heads().latest
    return {
      version: STATUS_VERSION,
      chainId: chain.chainId,
      networkId: chain.networkId,
      genesisHash: chain.genesis.hash(),
      forkId: forkIdAt(this.schedule, head.number, head.timestamp),
      headHash: head.hash(),
      headNumber: head.number,
      td: (await chain.getTotalDifficulty(head.hash())) ?? 0n,
    }
  }

  // ---------------------------------------------------------------- handshake

  /** Each side asks the other for its status as soon as a connection opens (a bootnode has none to give). */
  private async handshake(peer: PeerId): Promise<void> {
    if (this.gate.denies(peer)) {
      void this.node.hangUp(peer).catch(() => {})
      return
    }
    await this.refreshStatus(peer)
  }

  private async answerStatus(payload: Uint8Array, peer: PeerId): Promise<Uint8Array[]> {
    if (!this.limiter.take(peer.toString())) throw new Error('rate limited')
    const local = encodeStatus(await this.localStatus())
    let remote: Status
    try {
      remote = decodeStatus(payload)
    } catch (err) {
      this.penalise(peer, (err as Error).message)
      throw err
    }
    // answer first, so a peer on another chain learns why it is dropped
    setImmediate(() => this.acceptStatus(peer, remote))
    return [local]
  }

  private acceptStatus(peer: PeerId, remote: Status): ChainPeer | undefined {
    const { chain } = this.opts
    const identity = { version: STATUS_VERSION, chainId: chain.chainId, networkId: chain.networkId, genesisHash: chain.genesis.hash() }
    const mismatch = statusMismatch(identity, this.schedule, chain.heads().latest, remote)
    const id = peer.toString()
    if (mismatch !== undefined) {
      if (!this.gate.isBanned(id)) this.log.warn('Peer is on another chain, disconnecting', { peer: id, reason: mismatch })
      this.gate.ban(id, MISMATCH_BAN_MS)
      this.dropPeer(peer)
      setTimeout(() => void this.node.hangUp(peer).catch(() => {}), 200)
      return undefined
    }
    if (this.node.getConnections(peer).length === 0) return undefined
    const isNew = !this.peersById.has(id)
    const chainPeer = { id: peer, status: remote }
    this.peersById.set(id, chainPeer)
    if (isNew) {
      this.log.info('Peer connected', { peer: id, head: Number(remote.headNumber), td: remote.td, peers: this.peersById.size })
      // geth sends its pool to a new peer too: gossip reached only the peers of its moment
      const pending = this.opts.txpool?.content().pending
      if (pending !== undefined) void this.pushTxs(peer, [...pending.values()].flatMap((byNonce) => [...byNonce.values()].map(({ tx }) => tx)))
    }
    this.emit('peer', chainPeer)
    return chainPeer
  }

  private dropPeer(peer: PeerId): void {
    const id = peer.toString()
    if (this.peersById.delete(id)) this.log.info('Peer disconnected', { peer: id, peers: this.peersById.size })
    this.limiter.forget(id)
  }

  // ---------------------------------------------------------------- gossip

  private async publish(topic: string, data: Uint8Array): Promise<void> {
    try {
      await this.node.services.pubsub.publish(topic, data)
    } catch (err) {
      this.log.debug('Gossip publish failed', { topic, err: (err as Error).message })
    }
  }

  private queueTxGossip(raw: Uint8Array): void {
    if (this.outgoingBytes + raw.length > TX_GOSSIP_MAX_BYTES) this.flushTxGossip()
    this.outgoingTxs.push(raw)
    this.outgoingBytes += raw.length
    this.outgoingTimer ??= setTimeout(() => this.flushTxGossip(), TX_GOSSIP_WAIT_MS)
  }

  private flushTxGossip(): void {
    clearTimeout(this.outgoingTimer)
    this.outgoingTimer = undefined
    if (this.outgoingTxs.length === 0) return
    const message = RLP.encode(this.outgoingTxs)
    this.outgoingTxs = []
    this.outgoingBytes = 0
    void this.publish(this.txTopic, message)
  }

  private async onGossip({ msgId, propagationSource, msg }: GossipsubMessage): Promise<void> {
    let verdict: TopicValidatorResult
    if (msg.topic === this.blockTopic) verdict = await this.validateBlock(msg.data, propagationSource)
    else if (msg.topic === this.txTopic) verdict = await this.validateTxs(msg.data, propagationSource)
    else verdict = 'ignore' as TopicValidatorResult
    ;(this.node.services.pubsub as ValidatingGossipSub).reportMessageValidationResult(msgId, propagationSource.toString(), verdict)
  }

  /** The chain decides; this maps its verdict onto gossipsub acceptance and the sender's standing. */
  private async validateBlock(data: Uint8Array, from: PeerId): Promise<TopicValidatorResult> {
    const { chain } = this.opts
    let block: Block
    try {
      block = decodeBlock(data, chain.common, this.pooledTx)
    } catch (err) {
      this.penalise(from, `undecodable block: ${(err as Error).message}`)
      return 'reject' as TopicValidatorResult
    }
    // with 'Imported gossiped block', the bench splits propagation into the gossip's transit and this node's import
    const number = Number(block.header.number)
    const hash = bytesToHex(block.hash())
    this.log.debug('Received gossiped block', { number, hash, peer: from.toString() })
    try {
      const outcome = await chain.importBlock(block)
      if (outcome === 'known') return 'ignore' as TopicValidatorResult
      this.log.debug('Imported gossiped block', { number, hash, outcome, peer: from.toString() })
      return 'accept' as TopicValidatorResult
    } catch (err) {
      const kind = importFailureKind(err)
      if (kind === 'unknown-ancestor') {
        this.emit('unknownParent', block, from)
        return 'ignore' as TopicValidatorResult
      }
      if (kind === 'not-its-fault') {
        this.log.debug('Gossiped block not imported', { number, err: (err as Error).message })
        return 'ignore' as TopicValidatorResult
      }
      this.ban(from, (err as Error).message)
      return 'reject' as TopicValidatorResult
    }
  }

  /**
   * Gossip reaches each peer once: a peer whose pool was full, or that was busy, drops what it could not take, and an
   * account whose transaction it missed can never run there (a nonce gap). So the transactions at the front of each
   * account's queue that have waited STALLED_AFTER_MS are announced again by hash, and each peer gets those it lacks.
   * So are those a new block (`afterBlock`) went without though they were at the front before it: its producer may
   * lack them, and a sealer whose pool was full runs dry of an account after one block, not after seconds.
   */
  announceStalled(now = Date.now(), afterBlock = false): void {
    const pool = this.opts.txpool
    if (pool === undefined) return
    const waiting = new Map<string, number>()
    const due: TypedTransaction[] = []
    for (const { hash, tx } of pool.pendingHeads(ANNOUNCE_PER_ACCOUNT, ANNOUNCE_MAX)) {
      const since = this.waiting.get(hash)
      if (since === undefined || (!afterBlock && now - since < STALLED_AFTER_MS)) waiting.set(hash, since ?? now)
      else {
        due.push(tx)
        waiting.set(hash, now)
      }
    }
    this.waiting = waiting
    if (due.length === 0) return
    for (const peer of this.chainPeers()) void this.announceTxs(peer.id, due)
  }

  private async announceTxs(peer: PeerId, txs: TypedTransaction[]): Promise<void> {
    try {
      const [reply] = await this.request(peer, TX_ANNOUNCE_PROTOCOL, RLP.encode(txs.map((tx) => tx.hash())), { timeoutMs: STATUS_TIMEOUT_MS, maxChunks: 1 })
      const wanted = new Set((reply === undefined ? [] : (RLP.decode(reply) as Uint8Array[])).map((h) => bytesToHex(h)))
      const missing = txs.filter((tx) => wanted.has(bytesToHex(tx.hash())))
      if (missing.length > 0) await this.pushTxs(peer, missing)
    } catch (err) {
      this.log.debug('Transaction announcement failed', { peer: peer.toString(), err: (err as Error).message })
    }
  }

  private async answerAnnouncement(payload: Uint8Array, from: PeerId): Promise<Uint8Array[]> {
    const pool = this.opts.txpool
    if (pool === undefined) return []
    let hashes: Uint8Array[]
    try {
      const list = RLP.decode(payload) as unknown
      if (!Array.isArray(list) || !list.every((h) => h instanceof Uint8Array && h.length === 32)) throw new Error('expected a list of 32-byte hashes')
      if (list.length > ANNOUNCE_MAX) throw new Error(`${list.length} hashes, at most ${ANNOUNCE_MAX}`)
      hashes = list
    } catch (err) {
      this.penalise(from, `bad transaction announcement: ${(err as Error).message}`)
      throw err
    }
    return [RLP.encode(hashes.filter((h) => !pool.has(bytesToHex(h))))]
  }

  /** Sends transactions to one peer over POOLED_TXS_PROTOCOL, in batches of at most POOLED_TXS_BATCH_BYTES. */
  private async pushTxs(peer: PeerId, txs: TypedTransaction[]): Promise<void> {
    let batch: Uint8Array[] = []
    let size = 0
    const send = async () => {
      if (batch.length > 0) await this.request(peer, POOLED_TXS_PROTOCOL, RLP.encode(batch), { timeoutMs: STATUS_TIMEOUT_MS, maxChunks: 1 })
      batch = []
      size = 0
    }
    try {
      for (const tx of txs) {
        const raw = txBytes(tx)
        if (size + raw.length > POOLED_TXS_BATCH_BYTES) await send()
        batch.push(raw)
        size += raw.length
      }
      await send()
    } catch (err) {
      this.log.debug('Transaction push failed', { peer: peer.toString(), err: (err as Error).message })
    }
  }

  /** A peer's pending transactions, into the pool (which gossips the new ones on). */
  private async receivePooledTxs(payload: Uint8Array, from: PeerId): Promise<Uint8Array[]> {
    const pool = this.opts.txpool
    if (pool === undefined) return []
    // blocks first: see Chain.importsDone
    await this.opts.chain.importsDone()
    let txs: TypedTransaction[]
    try {
      txs = this.decodeTxs(payload)
    } catch (err) {
      this.penalise(from, `undecodable pooled transactions: ${(err as Error).message}`)
      throw err
    }
    await this.recoverNewSenders(pool, txs, txs.map((tx) => bytesToHex(tx.hash())))
    const refused = await pool.addRemotes(txs)
    if (refused.some((r) => r !== undefined && INVALID_TX_CODES.has(r.code))) this.penalise(from, 'invalid pooled transaction')
    return []
  }

  /** A gossiped message of transactions: accepted (and forwarded) when the pool took any of them. */
  private async validateTxs(data: Uint8Array, from: PeerId): Promise<TopicValidatorResult> {
    const pool = this.opts.txpool
    if (pool === undefined) return 'ignore' as TopicValidatorResult
    // blocks first: see Chain.importsDone
    await this.opts.chain.importsDone()
    let txs: TypedTransaction[]
    try {
      txs = this.decodeTxs(data)
    } catch (err) {
      this.penalise(from, `undecodable transactions: ${(err as Error).message}`)
      return 'reject' as TopicValidatorResult
    }
    const hashes = txs.map((tx) => bytesToHex(tx.hash()))
    await this.recoverNewSenders(pool, txs, hashes)
    // before the pool takes them: it may announce them as pending before it answers
    for (const hash of hashes) this.rememberGossiped(hash)
    const refused = await pool.addRemotes(txs)
    refused.forEach((r, i) => r !== undefined && this.gossipedTxs.delete(hashes[i]))
    if (refused.some((r) => r !== undefined && INVALID_TX_CODES.has(r.code))) return 'reject' as TopicValidatorResult
    return (refused.some((r) => r === undefined) ? 'accept' : 'ignore') as TopicValidatorResult
  }

  /** the senders of those of `txs` the pool lacks, recovered off the main thread (the pool refuses the others unread) */
  private async recoverNewSenders(pool: GossipTxPool, txs: TypedTransaction[], hashes: string[]): Promise<void> {
    const recover = this.opts.recoverSenders
    if (recover === undefined) return
    const fresh = txs.filter((_, i) => !pool.has(hashes[i]))
    if (fresh.length > 0) await recover(fresh)
  }

  private rememberGossiped(hash: string): void {
    this.gossipedTxs.add(hash)
    if (this.gossipedTxs.size > GOSSIPED_TXS_REMEMBERED) this.gossipedTxs.delete(this.gossipedTxs.values().next().value!)
  }

  /** A list of transactions in their canonical encoding (the tx topic's messages, pooled_txs requests). */
  private decodeTxs(payload: Uint8Array): TypedTransaction[] {
    const list = RLP.decode(payload) as unknown
    if (!Array.isArray(list) || list.length === 0 || !list.every((x) => x instanceof Uint8Array)) throw new Error('expected a list of transactions')
    const common = this.opts.chain.heads().latest.common
    return list.map((raw: Uint8Array) => decodeTx(raw, common))
  }
}

/**
 * Gossipsub scoring for a small permissioned network: invalid messages weigh heavily (three push a peer under the
 * graylist), strikes from the request/response side count through the app score, and the delivery-rate and
 * same-IP penalties are off: a quiet PoA chain delivers few messages, and many nodes often share one host.
 */
function scoreParams(topics: string[], appScore: (peer: string) => number) {
  const topic = {
    topicWeight: 1,
    timeInMeshWeight: 0.01,
    timeInMeshQuantum: 1000,
    timeInMeshCap: 100,
    firstMessageDeliveriesWeight: 1,
    firstMessageDeliveriesDecay: 0.9,
    firstMessageDeliveriesCap: 20,
    meshMessageDeliveriesWeight: 0,
    meshMessageDeliveriesDecay: 0.5,
    meshMessageDeliveriesCap: 100,
    meshMessageDeliveriesThreshold: 1,
    meshMessageDeliveriesWindow: 10,
    meshMessageDeliveriesActivation: 5000,
    meshFailurePenaltyWeight: 0,
    meshFailurePenaltyDecay: 0.5,
    invalidMessageDeliveriesWeight: -60,
    invalidMessageDeliveriesDecay: 0.99,
  }
  return {
    topics: Object.fromEntries(topics.map((t) => [t, topic])),
    topicScoreCap: 50,
    appSpecificScore: appScore,
    appSpecificWeight: 20,
    IPColocationFactorWeight: 0,
    behaviourPenaltyWeight: -10,
    behaviourPenaltyDecay: 0.9,
    decayInterval: 1000,
    decayToZero: 0.01,
    retainScore: 10 * 60_000,
  }
}
