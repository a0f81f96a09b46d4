import type { Chain } from '../chain/chain.ts'
import type { Flags } from '../cli/flags.ts'
import { intFlag } from '../cli/flags.ts'
import type { Logger } from '../cli/log.ts'
import type { RpcContext } from '../rpc/context.ts'
import { eth } from '../rpc/eth.ts'
import { net } from '../rpc/net.ts'
import { Registry } from '../rpc/registry.ts'
import { startHttpServer } from '../rpc/server.ts'
import { clientVersion, web3 } from '../rpc/web3.ts'
import { VERSION } from './version.ts'

const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)

/** Builds the RPC registry over the chain and starts the HTTP transport from the --http.* flags. */
export async function startRpc(chain: Chain, flags: Flags, log: Logger): Promise<{ name: string; url: string; stop(): Promise<void> }> {
  const ctx: RpcContext = { chain, clientVersion: clientVersion(VERSION), peerCount: () => 0 }
  const registry = new Registry().add(eth, ctx).add(net, ctx).add(web3, ctx)
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
