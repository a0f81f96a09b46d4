import type { Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'

import type { Logger } from '../cli/log.ts'
import { connectedPeers, peerOf } from './host.ts'
import type { HostConfig, PeerGate } from './host.ts'
import { request, serve } from './wire.ts'

export const PEERS_PROTOCOL = '/cairn/peers/1'
/** peers returned by one answer */
const MAX_PEERS_PER_ANSWER = 32

/**
 * Peer discovery without a DHT: every node (and `cairn bootnode`) answers `/cairn/peers/1` with the addresses of
 * the peers it is connected to. A node keeps its static nodes connected, dials its bootnodes while it is connected
 * to none of them, and while below --maxpeers asks one connected peer per round for more and dials the new ones.
 */
export class PeerExchange {
  private readonly node: Libp2p
  private readonly cfg: HostConfig
  private readonly gate: PeerGate
  private readonly log: Logger
  private readonly intervalMs: number
  private timer: NodeJS.Timeout | undefined
  private round = 0
  private running = false
  /** --staticnodes and those added with admin_addPeer: kept connected */
  private readonly staticNodes: Set<string>

  constructor(node: Libp2p, cfg: HostConfig, gate: PeerGate, log: Logger, intervalMs = 2_000) {
    this.node = node
    this.cfg = cfg
    this.gate = gate
    this.log = log
    this.intervalMs = intervalMs
    this.staticNodes = new Set(cfg.staticNodes)
  }

  isStatic(peer: PeerId): boolean {
    return [...this.staticNodes].some((a) => peerOf(a).equals(peer))
  }

  /** Keeps `addr` (with /p2p/PEERID) connected from now on, dialling it at once. */
  addStatic(addr: string): void {
    this.staticNodes.add(addr)
    this.dial(addr)
  }

  removeStatic(addr: string): void {
    this.staticNodes.delete(addr)
  }

  /** Registers the answering side (before the node starts). */
  async serve(): Promise<void> {
    await serve(this.node, PEERS_PROTOCOL, async (_payload, asker) => this.knownPeers(asker), { timeoutMs: 5_000, maxInboundStreams: 8 })
  }

  start(): void {
    this.running = true
    const tick = () => {
      this.tick()
        .catch((err) => this.log.debug('Peer exchange round failed', { err: (err as Error).message }))
        .finally(() => {
          if (this.running) this.timer = setTimeout(tick, this.intervalMs)
        })
    }
    this.timer = setTimeout(tick, 200)
  }

  stop(): void {
    this.running = false
    clearTimeout(this.timer)
  }

  /** Where connected peers other than the asker listen (what identify told this node), one chunk per peer. */
  private async knownPeers(asker: PeerId): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for (const peer of connectedPeers(this.node)) {
      if (out.length >= MAX_PEERS_PER_ANSWER) break
      if (peer.equals(asker)) continue
      const addrs = await this.node.peerStore.get(peer).then((p) => p.addresses, () => [])
      if (addrs.length === 0) continue
      out.push(new TextEncoder().encode(addrs.map((a) => `${a.multiaddr.toString()}/p2p/${peer}`).join(',')))
    }
    return out
  }

  private connected(peer: PeerId): boolean {
    return this.node.getConnections(peer).length > 0
  }

  private dial(addr: string): void {
    let peer: PeerId
    try {
      peer = peerOf(addr)
    } catch {
      return
    }
    if (peer.equals(this.node.peerId) || this.connected(peer) || this.gate.denies(peer)) return
    this.node.dial(multiaddr(addr), { signal: AbortSignal.timeout(5_000) }).catch((err) => this.log.debug('Dial failed', { addr, err: (err as Error).message }))
  }

  private async tick(): Promise<void> {
    for (const addr of this.staticNodes) this.dial(addr)
    if (!this.cfg.discovery) return
    const peers = connectedPeers(this.node)
    if (peers.length >= this.cfg.maxPeers) return
    const bootPeers = this.cfg.bootnodes.map((a) => peerOf(a).toString())
    if (!peers.some((p) => bootPeers.includes(p.toString()))) for (const addr of this.cfg.bootnodes) this.dial(addr)
    if (peers.length === 0) return
    const asked = peers[this.round++ % peers.length]
    const answer = await request(this.node, asked, PEERS_PROTOCOL, new Uint8Array(), { timeoutMs: 5_000, maxChunks: MAX_PEERS_PER_ANSWER })
    let budget = this.cfg.maxPeers - peers.length
    for (const chunk of answer) {
      if (budget <= 0) break
      const addrs = new TextDecoder().decode(chunk).split(',')
      let peer: PeerId
      try {
        peer = peerOf(addrs[0])
      } catch {
        continue
      }
      if (peer.equals(this.node.peerId) || this.connected(peer) || this.gate.denies(peer)) continue
      budget--
      this.node.dial(addrs.map((a) => multiaddr(a)), { signal: AbortSignal.timeout(5_000) }).catch((err) => this.log.debug('Dial failed', { peer: peer.toString(), err: (err as Error).message }))
    }
  }
}
