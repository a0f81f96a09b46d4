import type { RpcContext } from './context.ts'
import { toQuantity } from './format.ts'
import { methodsOver, namespace } from './registry.ts'

const method = methodsOver<RpcContext>()

export const net = namespace<RpcContext>('net', [
  // the network id in decimal, as geth
  method({ name: 'net_version', params: [], handler: (ctx) => ctx.chain.networkId.toString() }),
  method({ name: 'net_listening', params: [], handler: () => true }),
  method({ name: 'net_peerCount', params: [], handler: (ctx) => toQuantity(ctx.peerCount()) }),
])
