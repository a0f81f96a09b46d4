import { createServer } from 'node:http'
import type { ServerResponse } from 'node:http'

import type { Registry } from 'prom-client'

import { listen } from '../util/listen.ts'

/** What readiness is judged on; `blocksBehind` is 0 when no sync runs. */
export interface HealthSources {
  /** connected peers, or undefined when the node runs without a network (--dev, --maxpeers 0): peers are not required then */
  peers(): number | undefined
  blocksBehind(): bigint
}

export interface MetricsServerOptions {
  host: string
  /** 0 picks a free port */
  port: number
  registry: Registry
  health: HealthSources
}

export interface MetricsServer {
  url: string
  close(): Promise<void>
}

/** Besu's readiness defaults. */
const DEFAULT_MIN_PEERS = 1
const DEFAULT_MAX_BLOCKS_BEHIND = 2

/**
 * The operations endpoint: `/metrics` (Prometheus text; also at geth's `/debug/metrics/prometheus`), `/liveness`
 * and `/readiness?minPeers=&maxBlocksBehind=` with Besu's semantics: 200 `{"status":"UP"}` when ready, 503
 * `{"status":"DOWN"}` otherwise, 400 for a bad parameter.
 */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end()
      return
    }
    switch (url.pathname) {
      case '/metrics':
      case '/debug/metrics/prometheus':
        opts.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': opts.registry.contentType }).end(text),
          (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(err.message),
        )
        return
      case '/liveness':
        status(res, true)
        return
      case '/readiness': {
        const minPeers = countParam(url.searchParams.get('minPeers'), DEFAULT_MIN_PEERS)
        const maxBehind = countParam(url.searchParams.get('maxBlocksBehind'), DEFAULT_MAX_BLOCKS_BEHIND)
        if (minPeers === undefined || maxBehind === undefined) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('minPeers and maxBlocksBehind must be non-negative integers')
          return
        }
        const peers = opts.health.peers()
        status(res, (peers === undefined || peers >= minPeers) && opts.health.blocksBehind() <= BigInt(maxBehind))
        return
      }
      default:
        res.writeHead(404).end()
    }
  })
  const { url } = await listen(server, opts.port, opts.host, 'http')
  return {
    url,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

function status(res: ServerResponse, up: boolean): void {
  res.writeHead(up ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify({ status: up ? 'UP' : 'DOWN' }))
}

function countParam(v: string | null, fallback: number): number | undefined {
  if (v === null || v === '') return fallback
  return /^\d+$/.test(v) ? Number(v) : undefined
}
