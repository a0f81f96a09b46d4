import type { ChainReader } from '../chain/types.ts'
import type { CliqueEngine } from '../consensus/clique/engine.ts'
import type { BlockAuthor } from './format.ts'

/** What the RPC namespaces read from the node. */
export interface RpcContext {
  readonly chain: ChainReader
  /** web3_clientVersion, geth style: `cairn/v0.1.0/linux-x64/nodejs24` (see clientVersion in web3.ts) */
  readonly clientVersion: string
  /** connected peers, for net_peerCount */
  peerCount(): number
  /** The block producer reported as `miner`; absent means header.coinbase (Clique chains report the sealer). */
  readonly author?: BlockAuthor
  /** The clique namespace's engine and votes; present on Clique chains only. */
  readonly clique?: CliqueContext
}

export interface CliqueContext {
  readonly engine: CliqueEngine
  /** Where clique_propose votes go: the sealer's, or a holder of their own on a node that does not seal. */
  readonly proposals: CliqueProposals
}

/** The votes this node casts in the blocks it seals (the Sealer implements it). */
export interface CliqueProposals {
  /** Throws CliqueError on a vote the node refuses (dropping the last signer). */
  propose(address: string, authorize: boolean): Promise<void>
  discard(address: string): void
  currentProposals(): Record<string, boolean>
}
