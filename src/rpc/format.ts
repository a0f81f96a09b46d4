/**
 * geth's JSON result shapes (internal/ethapi: RPCMarshalBlock, RPCTransaction, MarshalReceipt; core/types Log,
 * Withdrawal, SetCodeAuthorization) built from ethereumjs objects. Blocks and receipts are Go maps in geth, so their
 * keys come out sorted; transactions and logs are structs, with keys in field order.
 */
import type { Block, BlockHeader } from '@ethereumjs/block'
import { TransactionType } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToBigInt, bytesToHex, createAddressFromString, createContractAddress } from '@ethereumjs/util'

import { blockSize } from '../chain/blockSize.ts'
import type { ConsensusLog, ConsensusReceipt } from '../chain/types.ts'
import { senderAddress } from '../crypto/senders.ts'

export type Json = string | number | boolean | null | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

/** hexutil quantity: 0x-prefixed, no leading zeros */
export const toQuantity = (n: bigint | number): string => `0x${n.toString(16)}`
/** hexutil.Bytes */
export const toData = (b: Uint8Array): string => bytesToHex(b)

/** EIP-4844: blob gas per blob, the same in every fork since */
const GAS_PER_BLOB = 131072n

/** Where a transaction was included; absent for pending transactions. */
export interface TxInclusion {
  blockHash: Uint8Array
  blockNumber: bigint
  blockTimestamp: bigint
  index: number
  baseFee: bigint | undefined
}

export const inclusionIn = (block: Block, index: number): TxInclusion => ({
  blockHash: block.hash(),
  blockNumber: block.header.number,
  blockTimestamp: block.header.timestamp,
  index,
  baseFee: block.header.baseFeePerGas,
})

function sortedKeys(fields: JsonObject): JsonObject {
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Who produced a block, for `miner`: header.coinbase unless an engine says otherwise (Clique: the sealer). */
export type BlockAuthor = (header: BlockHeader) => string

/** RPCMarshalHeader */
export function formatHeader(h: BlockHeader, author?: BlockAuthor): JsonObject {
  const fields: JsonObject = {
    number: toQuantity(h.number),
    hash: toData(h.hash()),
    parentHash: toData(h.parentHash),
    nonce: toData(h.nonce),
    mixHash: toData(h.mixHash),
    sha3Uncles: toData(h.uncleHash),
    logsBloom: toData(h.logsBloom),
    stateRoot: toData(h.stateRoot),
    miner: author === undefined ? h.coinbase.toString() : author(h),
    difficulty: toQuantity(h.difficulty),
    extraData: toData(h.extraData),
    gasLimit: toQuantity(h.gasLimit),
    gasUsed: toQuantity(h.gasUsed),
    timestamp: toQuantity(h.timestamp),
    transactionsRoot: toData(h.transactionsTrie),
    receiptsRoot: toData(h.receiptTrie),
  }
  if (h.baseFeePerGas !== undefined) fields.baseFeePerGas = toQuantity(h.baseFeePerGas)
  if (h.withdrawalsRoot !== undefined) fields.withdrawalsRoot = toData(h.withdrawalsRoot)
  if (h.blobGasUsed !== undefined) fields.blobGasUsed = toQuantity(h.blobGasUsed)
  if (h.excessBlobGas !== undefined) fields.excessBlobGas = toQuantity(h.excessBlobGas)
  if (h.parentBeaconBlockRoot !== undefined) fields.parentBeaconBlockRoot = toData(h.parentBeaconBlockRoot)
  if (h.requestsHash !== undefined) fields.requestsHash = toData(h.requestsHash)
  if (h.blockAccessListHash !== undefined) fields.blockAccessListHash = toData(h.blockAccessListHash)
  if (h.slotNumber !== undefined) fields.slotNumber = toQuantity(h.slotNumber)
  return sortedKeys(fields)
}

/** RPCMarshalBlock with transactions: their hashes, or full objects when `fullTx`. */
export function formatBlock(block: Block, fullTx: boolean, author?: BlockAuthor): JsonObject {
  const fields: JsonObject = {
    ...formatHeader(block.header, author),
    size: toQuantity(blockSize(block)),
    transactions: block.transactions.map((tx, i) => (fullTx ? formatTransaction(tx, inclusionIn(block, i)) : toData(tx.hash()))),
    uncles: block.uncleHeaders.map((u) => toData(u.hash())),
  }
  if (block.withdrawals !== undefined) {
    fields.withdrawals = block.withdrawals.map((w) => ({
      index: toQuantity(w.index),
      validatorIndex: toQuantity(w.validatorIndex),
      address: w.address.toString(),
      amount: toQuantity(w.amount),
    }))
  }
  return sortedKeys(fields)
}

/** price = min(maxPriorityFeePerGas + baseFee, maxFeePerGas) */
function effectiveGasPrice(maxFee: bigint, maxPriorityFee: bigint, baseFee: bigint): bigint {
  const price = maxPriorityFee + baseFee
  return price < maxFee ? price : maxFee
}

/** What the sender paid per gas: for fee-market transactions it depends on the block's base fee. */
function gasPriceOf(tx: TypedTransaction, baseFee: bigint | undefined): bigint {
  if (tx.type === TransactionType.Legacy || tx.type === TransactionType.AccessListEIP2930) return tx.gasPrice
  return baseFee === undefined ? tx.maxFeePerGas : effectiveGasPrice(tx.maxFeePerGas, tx.maxPriorityFeePerGas, baseFee)
}

const accessListJson = (list: [Uint8Array, Uint8Array[]][]): Json[] =>
  list.map(([addr, keys]) => ({ address: toData(addr), storageKeys: keys.map(toData) }))

/** RPCTransaction, fields in geth's order and present per type as geth's omitempty leaves them. */
export function formatTransaction(tx: TypedTransaction, at?: TxInclusion): JsonObject {
  const v = tx.v ?? 0n
  const fields: JsonObject = {
    blockHash: at ? toData(at.blockHash) : null,
    blockNumber: at ? toQuantity(at.blockNumber) : null,
    blockTimestamp: at ? toQuantity(at.blockTimestamp) : null,
    from: senderAddress(tx),
    gas: toQuantity(tx.gasLimit),
    // pending fee-market transactions show their fee cap, as geth
    gasPrice: toQuantity(gasPriceOf(tx, at?.baseFee)),
  }
  if (tx.type !== TransactionType.Legacy && tx.type !== TransactionType.AccessListEIP2930) {
    fields.maxFeePerGas = toQuantity(tx.maxFeePerGas)
    fields.maxPriorityFeePerGas = toQuantity(tx.maxPriorityFeePerGas)
  }
  if (tx.type === TransactionType.BlobEIP4844) fields.maxFeePerBlobGas = toQuantity(tx.maxFeePerBlobGas)
  Object.assign(fields, {
    hash: toData(tx.hash()),
    input: toData(tx.data),
    nonce: toQuantity(tx.nonce),
    to: tx.to ? tx.to.toString() : null,
    transactionIndex: at ? toQuantity(at.index) : null,
    value: toQuantity(tx.value),
    type: toQuantity(tx.type),
  })
  if (tx.type === TransactionType.Legacy) {
    // only EIP-155 signatures carry a chain id: v = chainId * 2 + 35 + yParity
    if (v >= 35n) fields.chainId = toQuantity((v - 35n) / 2n)
  } else {
    fields.accessList = accessListJson(tx.accessList)
    fields.chainId = toQuantity(tx.chainId)
  }
  if (tx.type === TransactionType.BlobEIP4844) fields.blobVersionedHashes = tx.blobVersionedHashes
  if (tx.type === TransactionType.EOACodeEIP7702) {
    fields.authorizationList = tx.authorizationList.map(([chainId, address, nonce, yParity, r, s]) => ({
      chainId: toQuantity(bytesToBigInt(chainId)),
      address: toData(address),
      nonce: toQuantity(bytesToBigInt(nonce)),
      yParity: toQuantity(bytesToBigInt(yParity)),
      r: toQuantity(bytesToBigInt(r)),
      s: toQuantity(bytesToBigInt(s)),
    }))
  }
  fields.v = toQuantity(v)
  fields.r = toQuantity(tx.r ?? 0n)
  fields.s = toQuantity(tx.s ?? 0n)
  if (tx.type !== TransactionType.Legacy) fields.yParity = toQuantity(v)
  return fields
}

/** core/types.Log with its derived location fields */
export function formatLog([address, topics, data]: ConsensusLog, header: BlockHeader, blockHash: Uint8Array, txHash: Uint8Array, txIndex: number, logIndex: number): JsonObject {
  return {
    address: toData(address),
    topics: topics.map(toData),
    data: toData(data),
    blockNumber: toQuantity(header.number),
    transactionHash: toData(txHash),
    transactionIndex: toQuantity(txIndex),
    blockHash: toData(blockHash),
    blockTimestamp: toQuantity(header.timestamp),
    logIndex: toQuantity(logIndex),
    removed: false,
  }
}

/**
 * MarshalReceipt for the receipt at `index`, deriving what consensus receipts leave out: gasUsed from the cumulative
 * gas, log indexes across the block (`firstLogIndex` = logs of earlier receipts), the sender, the created contract.
 */
function formatReceipt(block: Block, receipts: ConsensusReceipt[], index: number, firstLogIndex: number): JsonObject {
  const tx = block.transactions[index]
  const receipt = receipts[index]
  const from = senderAddress(tx)
  const previousCumulative = index === 0 ? 0n : receipts[index - 1].cumulativeGasUsed
  const fields: JsonObject = {
    blockHash: toData(block.hash()),
    blockNumber: toQuantity(block.header.number),
    transactionHash: toData(tx.hash()),
    transactionIndex: toQuantity(index),
    from,
    to: tx.to ? tx.to.toString() : null,
    gasUsed: toQuantity(receipt.cumulativeGasUsed - previousCumulative),
    cumulativeGasUsed: toQuantity(receipt.cumulativeGasUsed),
    // geth derives it for every creation, failed ones included
    contractAddress: tx.to === undefined ? createContractAddress(createAddressFromString(from), tx.nonce).toString() : null,
    logs: receipt.logs.map((log, i) => formatLog(log, block.header, block.hash(), tx.hash(), index, firstLogIndex + i)),
    logsBloom: toData(receipt.logsBloom),
    type: toQuantity(tx.type),
    effectiveGasPrice: toQuantity(gasPriceOf(tx, block.header.baseFeePerGas)),
  }
  // pre-Byzantium receipts carry the post-state root instead of a status
  if (receipt.stateRoot !== undefined) fields.root = toData(receipt.stateRoot)
  else fields.status = toQuantity(receipt.status ?? 0)
  if (tx.type === TransactionType.BlobEIP4844) {
    fields.blobGasUsed = toQuantity(BigInt(tx.blobVersionedHashes.length) * GAS_PER_BLOB)
    fields.blobGasPrice = toQuantity(block.header.getBlobGasPrice())
  }
  return sortedKeys(fields)
}

/** The receipt of the transaction at `index` of `block`, given the block's consensus receipts. */
export function formatReceiptAt(block: Block, receipts: ConsensusReceipt[], index: number): JsonObject {
  let firstLogIndex = 0
  for (let i = 0; i < index; i++) firstLogIndex += receipts[i].logs.length
  return formatReceipt(block, receipts, index, firstLogIndex)
}

/** Every receipt of `block` (eth_getBlockReceipts). */
export function formatBlockReceipts(block: Block, receipts: ConsensusReceipt[]): JsonObject[] {
  let firstLogIndex = 0
  return receipts.map((receipt, index) => {
    const formatted = formatReceipt(block, receipts, index, firstLogIndex)
    firstLogIndex += receipt.logs.length
    return formatted
  })
}
