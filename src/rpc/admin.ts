import { peerIdFromString } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'

import type { ChainReader } from '../chain/types.ts'
import type { ChainParams } from '../config/genesis.ts'
import type { Network } from '../net/network.ts'
import { invalidParams } from './errors.ts'
import { toData } from './format.ts'
import { string } from './params.ts'
import { methodsOver, namespace } from './registry.ts'

/** What the admin namespace drives: the node's libp2p network (src/net Network). */
export type AdminNetwork = Pick<Network, 'peerId' | 'node' | 'peerConnections' | 'addPeer' | 'removePeer' | 'blockPeer' | 'unblockPeer'>

/** The node's network and chain parameters (RpcContext.admin), with the chain and the client's name. */
export interface AdminContext {
  readonly chain: ChainReader
  readonly clientVersion: string
  readonly network: AdminNetwork
  readonly chainConfig: ChainParams
}

const method = methodsOver<AdminContext>()

/**
 * geth's admin namespace over libp2p, served only where a transport lists `admin` (--http.api ...,admin). Peers are
 * named by libp2p multiaddrs ending in /p2p/PEERID where geth takes enode URLs; `enode` in admin_nodeInfo is such a
 * multiaddr, so `admin_addPeer(other.admin_nodeInfo().enode)` works as on geth. admin_blockPeer and
 * admin_unblockPeer are cairn extensions: the connection gate refuses a blocked peer both ways until unblocked.
 */
export const admin = namespace<AdminContext>('admin', [
  method({
    name: 'admin_nodeInfo',
    params: [],
    handler: async (ctx) => {
      const addrs = ctx.network.node.getMultiaddrs()
      const first = addrs[0]?.getComponents() ?? []
      const head = ctx.chain.heads().latest
      const genesis = await ctx.chain.getCanonicalHash(0n)
      return {
        id: ctx.network.peerId.toString(),
        name: ctx.clientVersion,
        enode: addrs[0]?.toString() ?? '',
        ip: first.find((c) => c.name === 'ip4' || c.name === 'ip6')?.value ?? '',
        ports: { listener: Number(first.find((c) => c.name === 'tcp')?.value ?? 0) },
        listenAddr: addrs.map((a) => a.toString()),
        protocols: {
          eth: {
            network: Number(ctx.chain.networkId),
            difficulty: Number((await ctx.chain.getTotalDifficulty(head.hash())) ?? 0n),
            genesis: genesis !== undefined ? toData(genesis) : null,
            config: chainConfigJson(ctx.chainConfig),
            head: toData(head.hash()),
          },
        },
      }
    },
  }),
  method({
    name: 'admin_peers',
    params: [],
    handler: (ctx) => {
      const local = ctx.network.node.getMultiaddrs()[0]?.toString() ?? ''
      return ctx.network.peerConnections().map(({ peer, inbound, remoteAddress, static: isStatic }) => ({
        id: peer.id.toString(),
        network: { localAddress: local, remoteAddress, inbound, trusted: false, static: isStatic },
        protocols: { eth: { version: peer.status.version, difficulty: Number(peer.status.td), head: toData(peer.status.headHash) } },
      }))
    },
  }),
  method({
    name: 'admin_addPeer',
    params: [string],
    handler: (ctx, addr) => {
      ctx.network.addPeer(peerAddr(addr))
      return true
    },
  }),
  method({
    name: 'admin_removePeer',
    params: [string],
    handler: async (ctx, addr) => {
      await ctx.network.removePeer(peerAddr(addr))
      return true
    },
  }),
  method({
    name: 'admin_blockPeer',
    params: [string],
    handler: async (ctx, peer) => {
      await ctx.network.blockPeer(peerIdOf(peer))
      return true
    },
  }),
  method({
    name: 'admin_unblockPeer',
    params: [string],
    handler: (ctx, peer) => {
      ctx.network.unblockPeer(peerIdOf(peer))
      return true
    },
  }),
])

/** A multiaddr naming its peer (/p2p/PEERID), or invalid params. */
function peerAddr(addr: string): string {
  peerIdOf(addr)
  return addr
}

/** A peer id, given bare or as the /p2p/ part of a multiaddr. */
function peerIdOf(peer: string): PeerId {
  try {
    const id = peer.startsWith('/') ? multiaddr(peer).getComponents().findLast((c) => c.name === 'p2p')?.value : peer
    if (id === undefined) throw new Error('no /p2p/PEERID part')
    return peerIdFromString(id)
  } catch (err) {
    throw invalidParams(`invalid peer ${JSON.stringify(peer)}: ${(err as Error).message}`)
  }
}

/** The chain config in geth's genesis.json `config` shape. */
function chainConfigJson(c: ChainParams): Record<string, unknown> {
  const num = (v: bigint | undefined) => (v === undefined ? undefined : Number(v))
  return {
    ...c.raw,
    chainId: Number(c.chainId),
    ...Object.fromEntries(Object.entries(c.blockForks).map(([k, v]) => [k, num(v)])),
    ...Object.fromEntries(Object.entries(c.timeForks).map(([k, v]) => [k, num(v)])),
    ...(c.terminalTotalDifficulty !== undefined ? { terminalTotalDifficulty: Number(c.terminalTotalDifficulty) } : {}),
    ...(c.clique !== undefined ? { clique: { period: c.clique.period, epoch: c.clique.epoch } } : {}),
    ...(c.ethash ? { ethash: {} } : {}),
    ...(Object.keys(c.blobSchedule).length > 0 ? { blobSchedule: c.blobSchedule } : {}),
  }
}
