import type { Libp2p } from '@libp2p/interface'

import type { Logger } from '../cli/log.ts'
import { PeerGate, connectedPeers, createHost, selfAddrs } from './host.ts'
import type { HostConfig } from './host.ts'
import { PeerExchange } from './peerExchange.ts'

/**
 * A libp2p node without a chain: peers connect to it and ask it (`/cairn/peers/1`) where the others are. It dials
 * nobody but the other bootnodes it is given, which it keeps connected so their peer lists meet.
 */
export class Bootnode {
  readonly node: Libp2p
  private readonly exchange: PeerExchange
  private readonly log: Logger

  private constructor(node: Libp2p, exchange: PeerExchange, log: Logger) {
    this.node = node
    this.exchange = exchange
    this.log = log
  }

  static async start(cfg: HostConfig, log: Logger): Promise<Bootnode> {
    const peers = { ...cfg, discovery: false, staticNodes: [...cfg.staticNodes, ...cfg.bootnodes], bootnodes: [] }
    const gate = new PeerGate(cfg.allow)
    const node = await createHost(peers, gate)
    const exchange = new PeerExchange(node, peers, gate, log)
    await exchange.serve()
    node.addEventListener('peer:connect', (e) => log.debug('Peer connected', { peer: e.detail.toString(), peers: connectedPeers(node).length }))
    node.addEventListener('peer:disconnect', (e) => log.debug('Peer disconnected', { peer: e.detail.toString(), peers: connectedPeers(node).length }))
    await node.start()
    exchange.start()
    log.info('Started bootnode', { self: selfAddrs(node).join(','), maxpeers: cfg.maxPeers })
    return new Bootnode(node, exchange, log)
  }

  async stop(): Promise<void> {
    this.exchange.stop()
    await this.node.stop()
    this.log.debug('Stopped bootnode')
  }
}
