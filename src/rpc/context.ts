import type { ChainReader } from '../chain/types.ts'

/** What the RPC namespaces read from the node. */
export interface RpcContext {
  readonly chain: ChainReader
  /** web3_clientVersion, geth style: `cairn/v0.1.0/linux-x64/nodejs24` (see clientVersion in web3.ts) */
  readonly clientVersion: string
  /** connected peers, for net_peerCount */
  peerCount(): number
}
