import type { TypedTransaction } from '@ethereumjs/tx'

import type { Chain } from '../chain/chain.ts'
import type { Flags } from '../cli/flags.ts'
import { UsageError, intFlag } from '../cli/flags.ts'
import type { Logger } from '../cli/log.ts'
import { CliqueEngine } from '../consensus/clique/engine.ts'
import type { SenderRecovery } from '../crypto/senders.ts'
import type { Sealer } from '../consensus/clique/sealer.ts'
import { ChainTracer } from '../execution/trace.ts'
import { cliqueRpcContext } from '../rpc/clique.ts'
import type { AdminNetwork } from '../rpc/admin.ts'
import type { RpcContext } from '../rpc/context.ts'
import { createRegistry } from '../rpc/index.ts'
import type { CallObserver } from '../rpc/jsonrpc.ts'
import type { Registry } from '../rpc/registry.ts'
import { startHttpServer } from '../rpc/server.ts'
import { startWsServer } from '../rpc/ws.ts'
import type { TxPool } from '../txpool/txpool.ts'
import type { UnlockedAccounts } from '../rpc/accounts.ts'
import type { PooledTransaction } from '../txpool/validation.ts'
import { clientVersion } from '../rpc/web3.ts'
import { withPortAdvice } from './ports.ts'
import { VERSION } from './version.ts'

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)

/** The node's parts RPC serves besides the chain. */
export interface RpcParts {
  /** where clique_propose votes go when the node seals */
  sealer?: Sealer
  txpool?: TxPool
  /** sender recovery off the main thread, for batches of raw transactions */
  recoverSenders?: SenderRecovery
  /** unlocked keys for eth_accounts / eth_sign / eth_sendTransaction */
  accounts?: UnlockedAccounts
  /** peers and sync progress (absent with --dev or --maxpeers 0) */
  p2p?: { network: AdminNetwork & { chainPeers(): unknown[] }; sync: { progress(): { startingBlock: bigint; currentBlock: bigint; highestBlock: bigint } | undefined } }
  /** told about every call's duration and outcome (--metrics) */
  onCall?: CallObserver
}

interface RpcService {
  name: string
  url: string
  stop(): Promise<void>
}

/**
 * Builds the RPC registry over the node's parts and starts its transports: HTTP from the --http.* flags (also with
 * --dev), WebSocket from the --ws.* flags, on its own port as geth does by default.
 */
export async function startRpc(chain: Chain, flags: Flags, log: Logger, parts: RpcParts = {}): Promise<RpcService[]> {
  const { txpool } = parts
  const limits = { gasCap: BigInt(intFlag(flags['rpc.gascap'], 'rpc.gascap')), evmTimeoutMs: durationMs(flags['rpc.evmtimeout'] ?? '5s', 'rpc.evmtimeout') }
  const ctx: RpcContext = {
    chain,
    clientVersion: clientVersion(VERSION),
    peerCount: () => parts.p2p?.network.chainPeers().length ?? 0,
    syncProgress: () => parts.p2p?.sync.progress(),
    execution: chain.callExecution(limits),
    simulation: chain.simulation(limits),
    proofs: chain.stateProofs(),
    tracer: new ChainTracer(chain),
    chainEvents: chain,
    ...(chain.engine instanceof CliqueEngine ? cliqueRpcContext(chain, chain.engine, parts.sealer) : {}),
    ...(txpool !== undefined ? { txpool, pendingTxs: { onPending: (listener) => forwardPending(txpool, listener) } } : {}),
    ...(parts.recoverSenders !== undefined ? { recoverSenders: parts.recoverSenders } : {}),
    ...(parts.accounts !== undefined ? { accounts: parts.accounts } : {}),
    ...(parts.p2p !== undefined ? { admin: { network: parts.p2p.network, chainConfig: chain.genesisSpec.config } } : {}),
    txFeeCap: BigInt(Math.round(Number(flags['rpc.txfeecap'] ?? '1') * 1e18)),
    ...(flags['miner.gaslimit'] !== undefined ? { minerGasCeil: BigInt(intFlag(flags['miner.gaslimit'], 'miner.gaslimit', 5000)) } : {}),
  }
  const registry = createRegistry(ctx)
  const onInternalError = (method: string, err: unknown) => log.error(`RPC handler failed`, { method, error: (err as Error).message })
  const onCall = parts.onCall !== undefined ? { onCall: parts.onCall } : {}
  const services: RpcService[] = []
  try {
    if (flags.http || flags.dev) {
      const server = await withPortAdvice('HTTP-RPC address', '--http.port', () =>
        startHttpServer({
          host: flags['http.addr'],
          port: intFlag(flags['http.port'], 'http.port', 0, 65535),
          methods: selectApis(registry, flags['http.api'], log),
          cors: list(flags['http.corsdomain']),
          vhosts: list(flags['http.vhosts']),
          onInternalError,
          ...onCall,
        }),
      )
      log.info('HTTP server started', { endpoint: server.url.replace(/^http:\/\//, ''), prefix: '', cors: flags['http.corsdomain'] || '', vhosts: flags['http.vhosts'] })
      services.push({ name: 'http-rpc', url: server.url, stop: () => server.close() })
    }
    if (flags.ws) {
      const port = intFlag(flags['ws.port'], 'ws.port', 0, 65535)
      // geth would serve both on one listener; cairn's WebSocket server has its own
      if (services.length > 0 && port !== 0 && port === intFlag(flags['http.port'], 'http.port', 0, 65535)) {
        throw new UsageError('--ws.port must differ from --http.port: cairn serves WebSocket on a port of its own')
      }
      const server = await withPortAdvice('WebSocket-RPC address', '--ws.port', () =>
        startWsServer({
          host: flags['ws.addr'],
          port,
          methods: selectApis(registry, flags['ws.api'], log),
          origins: list(flags['ws.origins']),
          onInternalError,
          ...onCall,
          log,
        }),
      )
      log.info('WebSocket enabled', { url: server.url })
      services.push({ name: 'ws-rpc', url: server.url, stop: () => server.close() })
    }
  } catch (err) {
    for (const s of services) await s.stop()
    throw err
  }
  return services
}

/** A transport's namespaces (--http.api, --ws.api); unknown ones are skipped with geth's warning. */
function selectApis(registry: Registry, flag: string | undefined, log: Logger) {
  const apis = list(flag)
  for (const api of apis) if (!registry.names().includes(api)) log.warn(`Unavailable modules in HTTP API list: ${api}`)
  return registry.select(apis)
}

/** The pool's `pending` event as the narrow feed RPC listens to. */
function forwardPending(txpool: TxPool, listener: (txs: readonly TypedTransaction[]) => void): () => void {
  const forward = (txs: PooledTransaction[]) => listener(txs.map((p) => p.tx))
  txpool.on('pending', forward)
  return () => txpool.off('pending', forward)
}

/** A Go-style duration as geth's flags take it (`5s`, `300ms`, `1m`); a bare number is seconds. */
function durationMs(v: string, name: string): number {
  const m = /^(\d+)(ms|s|m)?$/.exec(v)
  if (m === null) throw new UsageError(`--${name}: expected a duration such as 5s or 300ms, got ${JSON.stringify(v)}`)
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000)
}
