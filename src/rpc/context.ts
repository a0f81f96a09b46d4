import type { Block } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'

import type { ChainReader } from '../chain/types.ts'
import type { SenderRecovery } from '../crypto/senders.ts'
import type { AdminContext } from './admin.ts'
import type { UnlockedAccounts } from './accounts.ts'
import type { CallExecution } from '../execution/call.ts'
import type { StateProofs } from '../execution/proof.ts'
import type { Simulation } from '../execution/simulate.ts'
import type { ChainTracer } from '../execution/trace.ts'
import type { CliqueEngine } from '../consensus/clique/engine.ts'
import type { BlockAuthor } from './format.ts'

/** What the RPC namespaces read from the node. */
export interface RpcContext {
  readonly chain: ChainReader
  /** web3_clientVersion, geth style: `cairn/v0.1.0/linux-x64/nodejs24` (see clientVersion in web3.ts) */
  readonly clientVersion: string
  /** connected peers, for net_peerCount */
  peerCount(): number
  /** eth_syncing: the range being downloaded, undefined when in sync (or with no network) */
  syncProgress?(): { startingBlock: bigint; currentBlock: bigint; highestBlock: bigint } | undefined
  /** Calls on the state of a block (eth_call, eth_estimateGas, eth_createAccessList): the Chain's callExecution(). */
  readonly execution?: CallExecution
  /** Blocks simulated on the state of a block (eth_simulateV1): the Chain's simulation(). */
  readonly simulation?: Simulation
  /** EIP-1186 proofs (eth_getProof): the Chain's stateProofs(). */
  readonly proofs?: StateProofs
  /** Re-execution with tracers, for the debug namespace (served only with it). */
  readonly tracer?: ChainTracer
  /** Head changes, for subscriptions and polling filters (the Chain emits them); without it neither is served. */
  readonly chainEvents?: HeadEvents
  /** Transactions becoming pending in the pool, for newPendingTransactions and pending-transaction filters. */
  readonly pendingTxs?: PendingTxFeed
  /** The block producer reported as `miner`; absent means header.coinbase (Clique chains report the sealer). */
  readonly author?: BlockAuthor
  /** The clique namespace's engine and votes; present on Clique chains only. */
  readonly clique?: CliqueContext
  /** The transaction pool: eth_sendRawTransaction, pending nonces and transactions, the txpool namespace. */
  readonly txpool?: TxPoolRpc
  /** Recovers the senders of decoded transactions off the main thread (a batch's eth_sendRawTransaction calls). */
  readonly recoverSenders?: SenderRecovery
  /** keys the operator unlocked (--unlock, or --dev's accounts): eth_accounts, eth_sign, eth_sendTransaction */
  readonly accounts?: UnlockedAccounts
  /** The network and chain parameters for the admin namespace (absent without p2p). */
  readonly admin?: Pick<AdminContext, 'network' | 'chainConfig'>
  /** geth --rpc.txfeecap in wei (default 1 ether); 0 disables the check */
  readonly txFeeCap?: bigint
  /** geth --miner.gaslimit: the gas limit testing_buildBlockV1's blocks move towards (geth's 60M by default) */
  readonly minerGasCeil?: bigint
}

/** What RPC needs of the pool (src/txpool TxPool implements it). */
export interface TxPoolRpc {
  /** Admits a transaction; throws TxPoolError with geth's message when refused. */
  add(tx: TypedTransaction, opts: { local: boolean }): Promise<void>
  pendingNonce(address: string): Promise<bigint>
  get(hash: string): { tx: TypedTransaction } | undefined
  content(): { pending: Map<string, Map<bigint, { tx: TypedTransaction }>>; queued: Map<string, Map<bigint, { tx: TypedTransaction }>> }
  contentFrom(address: string): { pending: Map<bigint, { tx: TypedTransaction }>; queued: Map<bigint, { tx: TypedTransaction }> }
  status(): { pending: number; queued: number }
  inspect(): { pending: Map<string, Map<bigint, string>>; queued: Map<string, Map<bigint, string>> }
  /** The pending transactions a block takes, best paying first, each account's in nonce order (testing_buildBlockV1). */
  pendingByPriceAndNonce(baseFee?: bigint): Iterable<TypedTransaction>
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

/** The Chain's `head` event: the new head, and the blocks a reorg took off the canonical chain (newest first). */
export type HeadListener = (head: Block, removed: Block[]) => void

export interface HeadEvents {
  on(event: 'head', listener: HeadListener): unknown
  off(event: 'head', listener: HeadListener): unknown
}

/** Where the pool announces transactions that became executable. */
export interface PendingTxFeed {
  /** Calls `listener` with each group of newly pending transactions; returns the function that stops it. */
  onPending(listener: (txs: readonly TypedTransaction[]) => void): () => void
}
