import { keccak_256 } from '@noble/hashes/sha3.js'

import type { RpcContext } from './context.ts'
import { toData } from './format.ts'
import { bytes } from './params.ts'
import { methodsOver, namespace } from './registry.ts'

const method = methodsOver<RpcContext>()

/** geth's node name layout (`Geth/v1.13.15-stable/linux-amd64/go1.21.6`) for cairn. */
export function clientVersion(version: string): string {
  return `cairn/v${version}/${process.platform}-${process.arch}/nodejs${process.versions.node.split('.')[0]}`
}

export const web3 = namespace<RpcContext>('web3', [
  method({ name: 'web3_clientVersion', params: [], handler: (ctx) => ctx.clientVersion }),
  method({ name: 'web3_sha3', params: [bytes], handler: (_ctx, input) => toData(keccak_256(input)) }),
])
