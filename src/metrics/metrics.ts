import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'

import type { Block } from '@ethereumjs/block'

/** The node's parts the metrics read; each is optional because --dev and --maxpeers 0 run without a network. */
export interface MetricsSources {
  chain: {
    heads(): { latest: { number: bigint } }
    on(event: 'head', listener: (head: Block, removed: Block[]) => void): unknown
    off(event: 'head', listener: (head: Block, removed: Block[]) => void): unknown
  }
  txpool?: { status(): { pending: number; queued: number } }
  network?: { chainPeers(): unknown[] }
  /** the signer of a canonical block (Clique: recovered from its seal) */
  signerOf?: (block: Block) => string
}

/** Seconds-scale buckets from 1 ms to 10 s: block import, sealing and RPC calls all land in this range. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

/**
 * The node's Prometheus metrics in a registry of its own (so several nodes in one process, as in tests, do not
 * collide). Gauges read their sources when scraped; histograms and counters are fed by the `observe*` methods.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  private readonly importSeconds: Histogram
  private readonly sealSeconds: Histogram
  private readonly rpcSeconds: Histogram<'method' | 'outcome'>
  private readonly signedBlocks: Counter<'signer'>
  private readonly detach: () => void

  constructor(sources: MetricsSources) {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry, prefix: 'cairn_' })
    const { chain, txpool, network, signerOf } = sources
    new Gauge({ name: 'cairn_chain_head_block', help: 'Number of the canonical head block', registers, collect() {
      this.set(Number(chain.heads().latest.number))
    } })
    new Gauge({ name: 'cairn_p2p_peers', help: 'Connected peers on this chain (handshake done)', registers, collect() {
      this.set(network?.chainPeers().length ?? 0)
    } })
    new Gauge({ name: 'cairn_txpool_pending', help: 'Executable transactions in the pool', registers, collect() {
      this.set(txpool?.status().pending ?? 0)
    } })
    new Gauge({ name: 'cairn_txpool_queued', help: 'Transactions in the pool waiting for a nonce gap to close', registers, collect() {
      this.set(txpool?.status().queued ?? 0)
    } })
    this.importSeconds = new Histogram({ name: 'cairn_block_import_seconds', help: 'Time to import a block from a peer or sync (validation, execution, write; queueing included)', buckets: LATENCY_BUCKETS, registers })
    this.sealSeconds = new Histogram({ name: 'cairn_block_seal_seconds', help: 'Time to assemble, execute, seal and write a block this node sealed', buckets: LATENCY_BUCKETS, registers })
    this.rpcSeconds = new Histogram({ name: 'cairn_rpc_duration_seconds', help: 'JSON-RPC call latency by method and outcome (success or error)', labelNames: ['method', 'outcome'], buckets: LATENCY_BUCKETS, registers })
    this.signedBlocks = new Counter({ name: 'cairn_clique_signed_blocks_total', help: 'Canonical blocks by their signer, as this node saw them become head (sealer activity of the whole network)', labelNames: ['signer'], registers })
    const onHead = (head: Block) => {
      if (signerOf !== undefined && head.header.number > 0n) this.signedBlocks.inc({ signer: signerOf(head) })
    }
    chain.on('head', onHead)
    this.detach = () => chain.off('head', onHead)
  }

  observeImport(seconds: number): void {
    this.importSeconds.observe(seconds)
  }

  observeSeal(seconds: number): void {
    this.sealSeconds.observe(seconds)
  }

  /** The RPC layer's call observer. Unknown method names share one label so clients cannot grow the series without bound. */
  observeRpc(method: string, seconds: number, ok: boolean, known: boolean): void {
    this.rpcSeconds.observe({ method: known ? method : 'unknown', outcome: ok ? 'success' : 'error' }, seconds)
  }

  close(): void {
    this.detach()
    this.registry.clear()
  }
}
