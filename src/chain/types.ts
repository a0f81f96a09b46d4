import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { Account, Address } from '@ethereumjs/util'

import type { Genesis } from '../config/genesis.ts'

/** Where a transaction sits in the canonical chain. */
export interface TxLocation {
  blockHash: Uint8Array
  blockNumber: bigint
  index: number
}

/** A receipt as consensus encodes it (what geth stores); RPC derives the rest (gasUsed, logIndex, ...). */
export interface ConsensusReceipt {
  /** 0 for legacy, else the EIP-2718 transaction type */
  type: number
  /** 1 success, 0 failure (post-Byzantium); pre-Byzantium receipts carry a state root instead */
  status?: 0 | 1
  stateRoot?: Uint8Array
  cumulativeGasUsed: bigint
  logsBloom: Uint8Array
  logs: ConsensusLog[]
}

export type ConsensusLog = [address: Uint8Array, topics: Uint8Array[], data: Uint8Array]

/** What a log query reads of a block: its transactions' hashes and its logs, no transaction decoded. */
export interface BlockLogs {
  header: BlockHeader
  blockHash: Uint8Array
  /** by transaction index */
  txHashes: Uint8Array[]
  /** every log of the block in order (a log's logIndex is its position here), with its transaction's index */
  logs: { log: ConsensusLog; txIndex: number }[]
  /** positions in `logs`, ascending, of the logs from an address or with a topic at a position (keys: chain/blockLogs.ts) */
  index: Map<string, number[]>
}

/** Read-only state at one block. */
export interface StateView {
  getAccount(address: Address): Promise<Account | undefined>
  getCode(address: Address): Promise<Uint8Array>
  getStorage(address: Address, slot: Uint8Array): Promise<Uint8Array>
}

/** Head pointers a node keeps. */
export interface Heads {
  latest: BlockHeader
  safe: BlockHeader
  finalized: BlockHeader
}

/**
 * The narrow read surface chain/ offers to rpc/, sync/ and the rest. Everything returned is canonical
 * unless the method takes a hash.
 */
export interface ChainReader {
  readonly common: Common
  /** the genesis the chain was initialised with: its fork schedule, blob schedule and contracts (eth_config) */
  readonly genesisSpec: Genesis
  readonly chainId: bigint
  readonly networkId: bigint
  readonly genesis: Block
  heads(): Heads
  getCanonicalHash(number: bigint): Promise<Uint8Array | undefined>
  getBlockByNumber(number: bigint): Promise<Block | undefined>
  getBlockByHash(hash: Uint8Array): Promise<Block | undefined>
  getHeaderByHash(hash: Uint8Array): Promise<BlockHeader | undefined>
  getTotalDifficulty(hash: Uint8Array): Promise<bigint | undefined>
  getReceipts(blockHash: Uint8Array): Promise<ConsensusReceipt[] | undefined>
  /** the logs of the block with this header, if it is stored */
  getBlockLogs(header: BlockHeader): Promise<BlockLogs | undefined>
  getTxLocation(txHash: Uint8Array): Promise<TxLocation | undefined>
  stateAt(header: BlockHeader): Promise<StateView>
}
