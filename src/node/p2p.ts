import { isIP } from 'node:net'
import { join, resolve } from 'node:path'

import { peerIdFromString } from '@libp2p/peer-id'

import type { Chain } from '../chain/chain.ts'
import { UsageError, intFlag } from '../cli/flags.ts'
import type { Flags } from '../cli/flags.ts'
import type { Logger } from '../cli/log.ts'
import type { SenderRecovery } from '../crypto/senders.ts'
import { parsePeerAddrs } from '../net/host.ts'
import type { HostConfig } from '../net/host.ts'
import { Network } from '../net/network.ts'
import type { GossipTxPool } from '../net/network.ts'
import { loadOrCreateNodeKey } from '../net/nodekey.ts'
import { Synchronizer } from '../sync/synchronizer.ts'

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')

/** The listen multiaddr for --addr (an IP, or a whole multiaddr) and --port. */
export function listenAddr(addr: string, port: number): string {
  if (addr.startsWith('/')) return addr
  const family = isIP(addr)
  if (family === 0) throw new UsageError(`--addr: expected an IP address or a multiaddr, got ${JSON.stringify(addr)}`)
  return `/ip${family}/${addr}/tcp/${port}`
}

/** --nat: geth's values; only extip:IP changes anything (cairn does no UPnP or NAT-PMP). */
function externalIp(nat: string | undefined): string | undefined {
  if (nat === undefined || nat === '' || nat === 'none' || nat === 'any') return undefined
  const m = /^extip:(.+)$/.exec(nat)
  if (m === null || isIP(m[1]) === 0) throw new UsageError(`--nat: expected extip:IP, none or any, got ${JSON.stringify(nat)}`)
  return m[1]
}

/** The p2p flags shared by the node and `cairn bootnode`, as a host config (the key loaded or created). */
export async function hostConfigFromFlags(flags: Pick<Flags, 'addr' | 'port' | 'nat' | 'announce' | 'bootnodes' | 'staticnodes' | 'maxpeers' | 'nodiscover' | 'network.psk' | 'network.allow'>, nodeKeyFile: string, log: Logger): Promise<HostConfig> {
  try {
    const port = intFlag(flags.port, 'port', 0, 65535)
    const allow = list(flags['network.allow'])
    for (const id of allow) {
      try {
        peerIdFromString(id)
      } catch {
        throw new UsageError(`--network.allow: ${JSON.stringify(id)} is not a peer id`)
      }
    }
    const { key, created } = await loadOrCreateNodeKey(nodeKeyFile)
    if (created) log.info('Generated node key', { file: nodeKeyFile })
    const ext = externalIp(flags.nat)
    return {
      privateKey: key,
      listen: [listenAddr(flags.addr ?? '0.0.0.0', port)],
      announce: list(flags.announce),
      ...(ext !== undefined ? { externalIp: ext } : {}),
      bootnodes: parsePeerAddrs(flags.bootnodes, 'bootnodes'),
      staticNodes: parsePeerAddrs(flags.staticnodes, 'staticnodes'),
      maxPeers: intFlag(flags.maxpeers, 'maxpeers', 1),
      discovery: !flags.nodiscover,
      ...(flags['network.psk'] !== undefined ? { pskFile: resolve(flags['network.psk']) } : {}),
      ...(allow.length > 0 ? { allow: new Set(allow) } : {}),
    }
  } catch (err) {
    if (err instanceof UsageError) throw err
    throw new UsageError((err as Error).message)
  }
}

export interface P2p {
  network: Network
  sync: Synchronizer
  stop(): Promise<void>
}

/**
 * Starts the network and sync for a node, or nothing with --dev or --maxpeers 0 (geth's dev mode has no p2p
 * either). The node key is --nodekey, default DATADIR/nodekey, created on first start.
 */
export async function startP2p(chain: Chain, txpool: GossipTxPool, recoverSenders: SenderRecovery, flags: Flags, datadir: string, log: Logger): Promise<P2p | undefined> {
  if (flags.dev || flags.maxpeers === '0') {
    log.info('P2P networking disabled', { reason: flags.dev ? '--dev' : '--maxpeers 0' })
    return undefined
  }
  const host = await hostConfigFromFlags(flags, flags.nodekey !== undefined ? resolve(flags.nodekey) : join(datadir, 'nodekey'), log)
  // peers' transactions and synced blocks have their senders recovered off the main thread
  const network = await Network.create({ chain, host, log, txpool, recoverSenders })
  // with no peer to wait for, a sealer need not wait for one
  const lonely = host.staticNodes.length === 0 && (!host.discovery || host.bootnodes.length === 0)
  const sync = new Synchronizer({ chain, network, log, recoverSenders, ...(lonely ? { startupWaitMs: 0 } : {}) })
  const stop = async () => {
    sync.stop()
    await network.stop()
  }
  try {
    await sync.serve()
    await network.start()
  } catch (err) {
    // the start's own error is the one to report
    await stop().catch(() => {})
    throw err
  }
  sync.start()
  return { network, sync, stop }
}
