import { ethAccounts } from './accounts.ts'
import { admin } from './admin.ts'
import { clique } from './clique.ts'
import type { RpcContext } from './context.ts'
import { debug } from './debug.ts'
import { eth } from './eth.ts'
import { FilterSystem, ethFilters } from './filters.ts'
import { net } from './net.ts'
import { txpool } from './txpool.ts'
import { Registry } from './registry.ts'
import { ChainEvents } from './subscriptions.ts'
import { testing } from './testing.ts'
import { web3 } from './web3.ts'

export type { RpcContext } from './context.ts'
export { startHttpServer } from './server.ts'
export type { HttpServer, HttpServerOptions } from './server.ts'
export { startWsServer } from './ws.ts'
export type { WsServer, WsServerOptions } from './ws.ts'
export { clientVersion } from './web3.ts'
export { cliqueRpcContext } from './clique.ts'

/** Every namespace cairn serves, bound to the node; transports pick theirs with `select(['eth', 'net', ...])`. */
export function createRegistry(ctx: RpcContext): Registry {
  const registry = new Registry().add(eth, ctx).add(ethAccounts, ctx).add(net, ctx).add(web3, ctx)
  // as geth, whose Clique engine alone brings the clique API
  if (ctx.clique !== undefined) registry.add(clique, { chain: ctx.chain, clique: ctx.clique })
  if (ctx.txpool !== undefined) registry.add(txpool, ctx)
  // served only where a transport asks for it (--http.api ...,testing), as geth
  if (ctx.simulation !== undefined) registry.add(testing, { chain: ctx.chain, simulation: ctx.simulation, txpool: ctx.txpool, gasCeil: ctx.minerGasCeil })
  if (ctx.admin !== undefined) registry.add(admin, { chain: ctx.chain, clientVersion: ctx.clientVersion, ...ctx.admin })
  if (ctx.tracer !== undefined) registry.add(debug, { chain: ctx.chain, tracer: ctx.tracer, execution: ctx.execution, txpool: ctx.txpool })
  // geth's FilterAPI: polling filters on every transport, subscriptions on those that carry notifications
  if (ctx.chainEvents !== undefined) {
    const events = new ChainEvents({ chain: ctx.chain, chainEvents: ctx.chainEvents, pendingTxs: ctx.pendingTxs, author: ctx.author })
    registry.add(ethFilters, new FilterSystem(events))
  }
  return registry
}
