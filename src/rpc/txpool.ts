import { bytesToHex, toChecksumAddress } from '@ethereumjs/util'

import type { RpcContext, TxPoolRpc } from './context.ts'
import { formatTransaction, toQuantity } from './format.ts'
import type { Json, JsonObject } from './format.ts'
import { address } from './params.ts'
import { methodsOver, namespace } from './registry.ts'

const method = methodsOver<RpcContext>()

type ByNonce<T> = Map<bigint, T>

/** geth's txpool JSON: { "0xChecksummedSender": { "<nonce>": value } }. */
function byAccount<T>(accounts: Map<string, ByNonce<T>>, value: (t: T) => Json): JsonObject {
  const out: JsonObject = {}
  for (const [sender, txs] of accounts) out[toChecksumAddress(sender)] = byNonce(txs, value)
  return out
}

function byNonce<T>(txs: ByNonce<T>, value: (t: T) => Json): JsonObject {
  const out: JsonObject = {}
  for (const [nonce, t] of [...txs].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out[nonce.toString()] = value(t)
  return out
}

const pool = (ctx: RpcContext): TxPoolRpc => {
  if (ctx.txpool === undefined) throw new Error('this node has no transaction pool')
  return ctx.txpool
}

const asJson = (p: { tx: Parameters<typeof formatTransaction>[0] }) => formatTransaction(p.tx)

/** geth's txpool namespace (TxPoolAPI): what waits in the pool, pending (executable) and queued (nonce gaps). */
export const txpool = namespace<RpcContext>('txpool', [
  method({
    name: 'txpool_content',
    params: [],
    handler: (ctx) => {
      const { pending, queued } = pool(ctx).content()
      return { pending: byAccount(pending, asJson), queued: byAccount(queued, asJson) }
    },
  }),
  method({
    name: 'txpool_contentFrom',
    params: [address],
    handler: (ctx, sender) => {
      const { pending, queued } = pool(ctx).contentFrom(bytesToHex(sender))
      return { pending: byNonce(pending, asJson), queued: byNonce(queued, asJson) }
    },
  }),
  method({
    name: 'txpool_status',
    params: [],
    handler: (ctx) => {
      const { pending, queued } = pool(ctx).status()
      return { pending: toQuantity(pending), queued: toQuantity(queued) }
    },
  }),
  method({
    name: 'txpool_inspect',
    params: [],
    handler: (ctx) => {
      const { pending, queued } = pool(ctx).inspect()
      return { pending: byAccount(pending, (s) => s), queued: byAccount(queued, (s) => s) }
    },
  }),
])
