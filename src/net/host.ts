import { readFileSync } from 'node:fs'

import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { identify } from '@libp2p/identify'
import type { Identify } from '@libp2p/identify'
import type { ConnectionGater, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { ping } from '@libp2p/ping'
import type { Ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'

import { installYamuxHalfWindowUpdates } from './yamuxWindow.ts'

/** Everything the p2p flags decide, shared by the node and `cairn bootnode`. */
export interface HostConfig {
  privateKey: PrivateKey
  /** multiaddrs to listen on */
  listen: string[]
  /** multiaddrs to advertise instead of the listen addresses (--announce) */
  announce: string[]
  /** --nat extip:IP: advertise the listen addresses with this IP */
  externalIp?: string
  /** bootnode multiaddrs (each with /p2p/PEERID); dialled at start and whenever no bootnode is connected */
  bootnodes: string[]
  /** static peers (each with /p2p/PEERID), kept connected whatever the discovery setting */
  staticNodes: string[]
  maxPeers: number
  /** false: no bootnodes and no peer exchange (--nodiscover) */
  discovery: boolean
  /** --network.psk: the libp2p private-network key file (go-ipfs swarm.key format) */
  pskFile?: string
  /** --network.allow: only these peers may connect, either way */
  allow?: Set<string>
}

/**
 * Who may connect: the allowlist when there is one, and never a banned peer until its ban ends. The peer id of an
 * inbound connection is known once it is encrypted, so that is where inbound peers are checked.
 */
export class PeerGate {
  private readonly banned = new Map<string, number>()
  /** peers the operator blocked (admin_blockPeer) until unblocked */
  private readonly blocked = new Set<string>()
  private readonly allow: Set<string> | undefined
  private readonly now: () => number

  constructor(allow: Set<string> | undefined, now: () => number = Date.now) {
    this.allow = allow
    this.now = now
  }

  ban(peer: string, ms: number): void {
    this.banned.set(peer, this.now() + ms)
  }

  block(peer: string): void {
    this.blocked.add(peer)
  }

  /** Lifts an operator's block and any ban. */
  unblock(peer: string): void {
    this.blocked.delete(peer)
    this.banned.delete(peer)
  }

  isBanned(peer: string): boolean {
    const until = this.banned.get(peer)
    if (until === undefined) return false
    if (until > this.now()) return true
    this.banned.delete(peer)
    return false
  }

  denies(peer: PeerId): boolean {
    const id = peer.toString()
    return (this.allow !== undefined && !this.allow.has(id)) || this.blocked.has(id) || this.isBanned(id)
  }

  gater(): ConnectionGater {
    const deny = (peer: PeerId) => this.denies(peer)
    return {
      denyDialPeer: deny,
      denyInboundEncryptedConnection: deny,
      denyOutboundEncryptedConnection: deny,
      // keep libp2p's default of dialling any address: private networks live on private and loopback addresses
      denyDialMultiaddr: () => false,
    }
  }
}

export type BaseServices = { identify: Identify; ping: Ping }

/** Builds (without starting) a libp2p node: TCP, noise, yamux, identify, ping, bootstrap, pnet, the gate. */
export async function createHost<S extends Record<string, unknown>>(
  cfg: HostConfig,
  gate: PeerGate,
  services: { [K in keyof S]: (components: any) => S[K] } = {} as never,
): Promise<Libp2p<BaseServices & S>> {
  const bootnodes = cfg.discovery ? cfg.bootnodes : []
  installYamuxHalfWindowUpdates()
  return createLibp2p<BaseServices & S>({
    start: false,
    privateKey: cfg.privateKey,
    addresses: {
      listen: cfg.listen,
      ...(cfg.announce.length > 0 ? { announce: cfg.announce } : {}),
      ...(cfg.externalIp !== undefined ? { announceFilter: (addrs: Multiaddr[]) => withExternalIp(addrs, cfg.externalIp as string) } : {}),
    },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: gate.gater(),
    connectionManager: { maxConnections: cfg.maxPeers },
    ...(cfg.pskFile !== undefined ? { connectionProtector: preSharedKey({ psk: readPsk(cfg.pskFile) }) } : {}),
    peerDiscovery: bootnodes.length > 0 ? [bootstrap({ list: bootnodes, timeout: 100 })] : [],
    services: { identify: identify(), ping: ping(), ...services } as never,
  })
}

/** The listen addresses with their IP replaced by `ip` (loopback addresses dropped: no peer can use them). */
function withExternalIp(addrs: Multiaddr[], ip: string): Multiaddr[] {
  const out = new Map<string, Multiaddr>()
  const family = ip.includes(':') ? 'ip6' : 'ip4'
  for (const a of addrs) {
    const parts = a.getComponents()
    const tcpPart = parts.find((c) => c.name === 'tcp')
    if (tcpPart === undefined) continue
    const rest = parts.slice(parts.indexOf(tcpPart) + 1).map((c) => `/${c.name}${c.value !== undefined ? `/${c.value}` : ''}`).join('')
    const m = multiaddr(`/${family}/${ip}/tcp/${tcpPart.value}${rest}`)
    out.set(m.toString(), m)
  }
  return [...out.values()]
}

/** Reads a go-ipfs style swarm key file (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex characters). */
export function readPsk(file: string): Uint8Array {
  const text = readFileSync(file, 'utf8')
  const lines = text.trim().split(/\r?\n/)
  if (lines.length !== 3 || lines[0] !== '/key/swarm/psk/1.0.0/' || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2])) {
    throw new Error(`invalid --network.psk file ${file}: expected /key/swarm/psk/1.0.0/, /base16/ and 64 hex characters on three lines`)
  }
  return new TextEncoder().encode(`${lines.join('\n')}\n`)
}

/** Splits a comma separated multiaddr list; each must end in /p2p/PEERID. */
export function parsePeerAddrs(list: string | undefined, flag: string): string[] {
  const out: string[] = []
  for (const s of (list ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    let peer: string | undefined
    try {
      peer = multiaddr(s).getComponents().findLast((c) => c.name === 'p2p')?.value
    } catch (err) {
      throw new Error(`--${flag}: invalid multiaddr ${JSON.stringify(s)}: ${(err as Error).message}`)
    }
    if (peer === undefined) throw new Error(`--${flag}: ${s} has no /p2p/PEERID part`)
    out.push(s)
  }
  return out
}

/**
 * Peer ids parsed from text, by their text. Parsing a secp256k1 peer id checks its key's point in pure JS, ~140 us;
 * peer exchange meets the same few ids every round. Bounded: peers' answers can name any id.
 */
const parsedPeerIds = new Map<string, PeerId>()
const PARSED_PEER_IDS_KEPT = 1024

/** The peer id a /p2p/ multiaddr names. */
export function peerOf(addr: string): PeerId {
  const id = multiaddr(addr).getComponents().findLast((c) => c.name === 'p2p')?.value
  if (id === undefined) throw new Error(`${addr} has no /p2p/PEERID part`)
  let peer = parsedPeerIds.get(id)
  if (peer === undefined) {
    peer = peerIdFromString(id)
    if (parsedPeerIds.size >= PARSED_PEER_IDS_KEPT) parsedPeerIds.clear()
    parsedPeerIds.set(id, peer)
  }
  return peer
}

/**
 * The peers `node` has connections to, as libp2p's getPeers() lists them but without parsing each id again from its
 * text (~140 us each for a secp256k1 id): the connections hold their peers' ids.
 */
export function connectedPeers(node: Libp2p): PeerId[] {
  const peers = new Map<string, PeerId>()
  for (const conn of node.getConnections()) peers.set(conn.remotePeer.toString(), conn.remotePeer)
  return [...peers.values()]
}

/** The node's dialable addresses, each ending in /p2p/PEERID. */
export function selfAddrs(node: Libp2p): string[] {
  return node.getMultiaddrs().map((a) => a.toString())
}
