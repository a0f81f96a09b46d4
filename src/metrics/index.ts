import type { Block } from '@ethereumjs/block'

import type { Chain } from '../chain/chain.ts'
import type { Logger } from '../cli/log.ts'
import { recoverSigner } from '../consensus/clique/seal.ts'
import type { Sealer } from '../consensus/clique/sealer.ts'
import { RpcError, RpcErrorKind } from '../rpc/errors.ts'
import type { CallObserver } from '../rpc/jsonrpc.ts'
import type { TxPool } from '../txpool/txpool.ts'
import { NodeMetrics } from './metrics.ts'
import { startMetricsServer } from './server.ts'

export interface MetricsParts {
  chain: Chain
  txpool: TxPool
  p2p?: { network: { chainPeers(): unknown[] }; sync: { progress(): { currentBlock: bigint; highestBlock: bigint } | undefined } }
  sealer?: Sealer
}

export interface MetricsService {
  name: string
  url: string
  /** the RPC servers' call observer */
  onCall: CallObserver
  stop(): Promise<void>
}

/** Starts `/metrics`, `/liveness` and `/readiness` (--metrics) on host:port and hooks the node's parts into them. */
export async function startMetrics(parts: MetricsParts, host: string, port: number, log: Logger): Promise<MetricsService> {
  const { chain, txpool, p2p, sealer } = parts
  const metrics = new NodeMetrics({
    chain,
    txpool,
    ...(p2p !== undefined ? { network: p2p.network } : {}),
    ...(chain.isClique ? { signerOf: (block: Block) => recoverSigner(block.header) } : {}),
  })
  const unhook = [timeImports(chain, metrics), ...(sealer !== undefined ? [timeSeals(chain, sealer, metrics)] : [])]
  const server = await startMetricsServer({
    host,
    port,
    registry: metrics.registry,
    health: {
      peers: () => p2p?.network.chainPeers().length,
      blocksBehind: () => {
        const progress = p2p?.sync.progress()
        return progress !== undefined && progress.highestBlock > progress.currentBlock ? progress.highestBlock - progress.currentBlock : 0n
      },
    },
  })
  log.info('Metrics server started', { endpoint: server.url.replace(/^http:\/\//, ''), paths: '/metrics,/liveness,/readiness' })
  return {
    name: 'metrics',
    url: server.url,
    onCall: (method, seconds, err) => {
      const known = !(err instanceof RpcError && err.kind === RpcErrorKind.MethodNotFound)
      metrics.observeRpc(method, seconds, err === undefined, known)
    },
    stop: async () => {
      for (const u of unhook) u()
      metrics.close()
      await server.close()
    },
  }
}

/**
 * Times Chain.importBlock, which network gossip and sync call. The chain has no timing event of its own, so the
 * method is wrapped on this instance for the node's lifetime; the returned function restores it.
 */
function timeImports(chain: Chain, metrics: NodeMetrics): () => void {
  const original = chain.importBlock
  chain.importBlock = async (block: Block) => {
    const started = performance.now()
    const outcome = await original.call(chain, block)
    metrics.observeImport((performance.now() - started) / 1000)
    return outcome
  }
  return () => {
    chain.importBlock = original
  }
}

/** Times a sealed block from the start of its assembly (Chain.buildBlock) to the sealer's `sealed` event. */
function timeSeals(chain: Chain, sealer: Sealer, metrics: NodeMetrics): () => void {
  const original = chain.buildBlock
  let building: { number: bigint; started: number } | undefined
  chain.buildBlock = (parent, header, candidates, seal) => {
    building = { number: parent.number + 1n, started: performance.now() }
    return original.call(chain, parent, header, candidates, seal)
  }
  const onSealed = (block: Block) => {
    if (building?.number === block.header.number) metrics.observeSeal((performance.now() - building.started) / 1000)
    building = undefined
  }
  sealer.on('sealed', onSealed)
  return () => {
    chain.buildBlock = original
    sealer.off('sealed', onSealed)
  }
}
