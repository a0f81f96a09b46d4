import type { Chain } from '../chain/chain.ts'
import type { Flags } from '../cli/flags.ts'
import { intFlag } from '../cli/flags.ts'
import type { Logger } from '../cli/log.ts'
import { CliqueEngine } from '../consensus/clique/engine.ts'
import type { Sealer } from '../consensus/clique/sealer.ts'
import { cliqueRpcContext } from '../rpc/clique.ts'
import type { RpcContext } from '../rpc/context.ts'
import { createRegistry } from '../rpc/index.ts'
import { startHttpServer } from '../rpc/server.ts'
import type { TxPool } from '../txpool/txpool.ts'
import { clientVersion } from '../rpc/web3.ts'
import { VERSION } from './version.ts'

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)

/** The node's parts RPC serves besides the chain. */
export interface RpcParts {
  /** where clique_propose votes go when the node seals */
  sealer?: Sealer
  txpool?: TxPool
}

/** Builds the RPC registry over the node's parts and starts the HTTP transport from the --http.* flags. */
export async function startRpc(chain: Chain, flags: Flags, log: Logger, parts: RpcParts = {}): Promise<{ name: string; url: string; stop(): Promise<void> }> {
  const ctx: RpcContext = {
    chain,
    clientVersion: clientVersion(VERSION),
    peerCount: () => 0,
    execution: chain.callExecution(),
    ...(chain.engine instanceof CliqueEngine ? cliqueRpcContext(chain, chain.engine, parts.sealer) : {}),
    ...(parts.txpool !== undefined ? { txpool: parts.txpool } : {}),
    txFeeCap: BigInt(Math.round(Number(flags['rpc.txfeecap'] ?? '1') * 1e18)),
  }
  const registry = createRegistry(ctx)
  const apis = list(flags['http.api'])
  for (const api of apis) if (!registry.names().includes(api)) log.warn(`Unavailable modules in HTTP API list: ${api}`)
  const server = await startHttpServer({
    host: flags['http.addr'],
    port: intFlag(flags['http.port'], 'http.port', 0, 65535),
    methods: registry.select(apis),
    cors: list(flags['http.corsdomain']),
    vhosts: list(flags['http.vhosts']),
    onInternalError: (method, err) => log.error(`RPC handler failed`, { method, error: (err as Error).message }),
  })
  log.info('HTTP server started', { endpoint: server.url.replace(/^http:\/\//, ''), prefix: '', cors: flags['http.corsdomain'] || '', vhosts: flags['http.vhosts'] })
  return { name: 'http-rpc', url: server.url, stop: () => server.close() }
}
