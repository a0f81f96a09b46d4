/**
 * geth's testing namespace (eth/catalyst's testingAPI): testing_buildBlockV1 builds a block on the head as the engine
 * API's forkchoiceUpdated + getPayload would, in one call, and stores nothing. Served only when a transport asks for
 * `testing`, as geth.
 */
import type { BlockHeader } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToBigInt, bytesToHex, equalsBytes } from '@ethereumjs/util'

import { decodeTx } from '../chain/decode.ts'
import { childBaseFee } from '../config/genesis.ts'
import { nextGasLimit } from '../consensus/clique/sealer.ts'
import type { CallArgs } from '../execution/call.ts'
import { SimulationError } from '../execution/simulate.ts'
import type { BlockBuild, Simulation, SignedCall, SimulatedBlock, SimulatedTransaction, Withdrawal } from '../execution/simulate.ts'
import type { ChainReader } from '../chain/types.ts'
import type { TxPoolRpc } from './context.ts'
import { serverError } from './errors.ts'
import { toData, toQuantity } from './format.ts'
import type { JsonObject } from './format.ts'
import { ParamError, address, bytes, goList, goStruct, hash, optional, uint64Quantity } from './params.ts'
import type { Param } from './params.ts'
import { methodsOver, namespace } from './registry.ts'
import { withdrawal } from './simulate.ts'

export interface TestingContext {
  readonly chain: ChainReader
  readonly simulation: Simulation
  /** the pool a build without transactions takes them from */
  readonly txpool?: Pick<TxPoolRpc, 'pendingByPriceAndNonce'>
  /** the gas limit built blocks move towards (--miner.gaslimit) */
  readonly gasCeil?: bigint
}

/** geth's --miner.gaslimit default */
const GETH_GAS_CEIL = 60_000_000n

interface PayloadAttributesParam {
  timestamp?: bigint
  prevRandao?: Uint8Array
  suggestedFeeRecipient?: Uint8Array
  withdrawals?: Withdrawal[]
  parentBeaconBlockRoot?: Uint8Array
}

const payloadAttributesStruct = goStruct<PayloadAttributesParam>('engine.PayloadAttributes', {
  timestamp: uint64Quantity,
  prevRandao: hash,
  suggestedFeeRecipient: address,
  withdrawals: goList('[]*types.Withdrawal', withdrawal),
  parentBeaconBlockRoot: hash,
})

type PayloadAttributes = Required<Omit<PayloadAttributesParam, 'parentBeaconBlockRoot'>> & { parentBeaconBlockRoot: Uint8Array | undefined }

/** engine.PayloadAttributes: gencodec requires timestamp, prevRandao and suggestedFeeRecipient */
const payloadAttributes: Param<PayloadAttributes> = {
  optional: false,
  parse(value) {
    const a = payloadAttributesStruct.parse(value)
    for (const field of ['timestamp', 'prevRandao', 'suggestedFeeRecipient'] as const) {
      if (a[field] === undefined) throw new ParamError(`missing required field '${field}' for PayloadAttributes`)
    }
    return { ...(a as PayloadAttributes), withdrawals: a.withdrawals ?? [], parentBeaconBlockRoot: a.parentBeaconBlockRoot }
  },
}

const method = methodsOver<TestingContext>()

export const testing = namespace<TestingContext>('testing', [
  method({
    name: 'testing_buildBlockV1',
    params: [hash, payloadAttributes, optional(goList('[]hexutil.Bytes', bytes)), optional(bytes)],
    handler: async (ctx, parentHash, attributes, rawTransactions, extraData) => {
      const parent = ctx.chain.heads().latest
      if (!equalsBytes(parent.hash(), parentHash)) throw serverError('parentHash is not current head')
      const common = ctx.chain.common.copy()
      common.setHardforkBy({ blockNumber: parent.number + 1n, timestamp: attributes.timestamp })
      // null takes the pool's transactions; given ones (an empty list builds an empty block) must all fit
      const offered = new Map<string, TypedTransaction>()
      const source = rawTransactions === undefined ? poolTransactions(ctx, parent) : rawTransactions.map((raw, i) => decodeTransaction(raw, i, common))
      const build: BlockBuild = {
        time: attributes.timestamp,
        feeRecipient: attributes.suggestedFeeRecipient,
        prevRandao: attributes.prevRandao,
        withdrawals: attributes.withdrawals,
        beaconRoot: attributes.parentBeaconBlockRoot,
        gasLimit: nextGasLimit(parent.gasLimit, ctx.gasCeil ?? GETH_GAS_CEIL),
        extraData: extraData ?? new Uint8Array(),
        transactions: signedCalls(source, offered),
        onRefused: rawTransactions === undefined ? 'skip' : 'fail',
      }
      return formatEnvelope(await building(() => ctx.simulation.build(parent, build)), offered)
    },
  }),
])

/** Runs a build; geth's miner errors are plain ones (-32000), unlike eth_simulateV1's coded refusals. */
async function building<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    if (err instanceof SimulationError) throw serverError(err.message)
    throw err
  }
}

/** The pool's pending transactions, by price and nonce at the built block's base fee (geth's miner). */
function poolTransactions(ctx: TestingContext, parent: BlockHeader): Iterable<TypedTransaction> {
  if (ctx.txpool === undefined) return []
  return ctx.txpool.pendingByPriceAndNonce(parent.baseFeePerGas === undefined ? undefined : childBaseFee(parent))
}

/** engine.DecodeTransactions: a raw transaction in its canonical (block) encoding. */
function decodeTransaction(raw: Uint8Array, index: number, common: ChainReader['common']): TypedTransaction {
  try {
    return decodeTx(raw, common)
  } catch (err) {
    throw serverError(`invalid transaction ${index}: ${(err as Error).message.replace(/ \(tx type=.*$/s, '')}`)
  }
}

/** The transactions as the calls they make, lazily (the pool's are only read as far as the block takes them). */
function* signedCalls(txs: Iterable<TypedTransaction>, offered: Map<string, TypedTransaction>): Generator<SignedCall> {
  for (const tx of txs) {
    const call = signedCall(tx)
    offered.set(bytesToHex(tx.hash()), tx)
    yield call
  }
}

function signedCall(tx: TypedTransaction): SignedCall {
  const call: SignedCall = {
    from: tx.getSenderAddress().bytes,
    to: tx.to?.bytes,
    nonce: tx.nonce,
    gas: tx.gasLimit,
    value: tx.value,
    input: tx.data,
    type: tx.type as SignedCall['type'],
    signed: tx.serialize(),
  }
  const fields = tx as Partial<{
    gasPrice: bigint
    maxFeePerGas: bigint
    maxPriorityFeePerGas: bigint
    accessList: [Uint8Array, Uint8Array[]][]
    maxFeePerBlobGas: bigint
    blobVersionedHashes: Uint8Array[]
    authorizationList: Uint8Array[][]
  }>
  const fees: CallArgs =
    fields.maxFeePerGas !== undefined ? { maxFeePerGas: fields.maxFeePerGas, maxPriorityFeePerGas: fields.maxPriorityFeePerGas } : { gasPrice: fields.gasPrice }
  return {
    ...call,
    ...fees,
    ...(fields.accessList !== undefined ? { accessList: fields.accessList.map(([a, storageKeys]) => ({ address: a, storageKeys })) } : {}),
    ...(fields.blobVersionedHashes !== undefined ? { maxFeePerBlobGas: fields.maxFeePerBlobGas, blobVersionedHashes: fields.blobVersionedHashes } : {}),
    ...(fields.authorizationList !== undefined
      ? {
          authorizationList: fields.authorizationList.map(([chainId, a, nonce, yParity, r, s]) => ({
            chainId: bytesToBigInt(chainId),
            address: a,
            nonce: bytesToBigInt(nonce),
            yParity: bytesToBigInt(yParity),
            r: bytesToBigInt(r),
            s: bytesToBigInt(s),
          })),
        }
      : {}),
  }
}

/** engine.ExecutionPayloadEnvelope as geth's getPayload answers (V4: with the requests). */
function formatEnvelope(block: SimulatedBlock, offered: Map<string, TypedTransaction>): JsonObject {
  const h = block.header
  const payload: JsonObject = {
    parentHash: toData(h.parentHash),
    feeRecipient: toData(h.coinbase.bytes),
    stateRoot: toData(h.stateRoot),
    receiptsRoot: toData(h.receiptTrie),
    logsBloom: toData(h.logsBloom),
    prevRandao: toData(h.mixHash),
    blockNumber: toQuantity(h.number),
    gasLimit: toQuantity(h.gasLimit),
    gasUsed: toQuantity(h.gasUsed),
    timestamp: toQuantity(h.timestamp),
    extraData: toData(h.extraData),
    baseFeePerGas: toQuantity(h.baseFeePerGas ?? 0n),
    blockHash: toData(h.hash()),
    transactions: block.transactions.map((tx) => toData(tx.signed!)),
  }
  if (block.withdrawals !== undefined) {
    payload.withdrawals = block.withdrawals.map((w) => ({ index: toQuantity(w.index), validatorIndex: toQuantity(w.validatorIndex), address: toData(w.address), amount: toQuantity(w.amount) }))
  }
  if (h.blobGasUsed !== undefined) payload.blobGasUsed = toQuantity(h.blobGasUsed)
  if (h.excessBlobGas !== undefined) payload.excessBlobGas = toQuantity(h.excessBlobGas)
  const blockValue = block.transactions.reduce((sum, tx, i) => sum + effectiveTip(tx, h.baseFeePerGas) * block.calls[i].gasUsed, 0n)
  return {
    executionPayload: payload,
    blockValue: toQuantity(blockValue),
    blobsBundle: blobsBundle(block.transactions.map((tx) => offered.get(bytesToHex(tx.hash))!)),
    ...(block.requests !== undefined ? { executionRequests: block.requests.map(toData) } : {}),
    shouldOverrideBuilder: false,
  }
}

/** What the fee recipient earns per gas. */
function effectiveTip(tx: SimulatedTransaction, baseFee: bigint | undefined): bigint {
  if (baseFee === undefined) return tx.gasPrice
  const cap = tx.maxFeePerGas - baseFee
  return tx.maxPriorityFeePerGas < cap ? tx.maxPriorityFeePerGas : cap
}

/** The blobs of the block's blob transactions, from the sidecars the pool keeps. */
function blobsBundle(txs: TypedTransaction[]): JsonObject {
  const sidecars = txs.map((tx) => tx as Partial<{ blobs: string[]; kzgCommitments: string[]; kzgProofs: string[] }>)
  return {
    commitments: sidecars.flatMap((s) => s.kzgCommitments ?? []),
    proofs: sidecars.flatMap((s) => s.kzgProofs ?? []),
    blobs: sidecars.flatMap((s) => s.blobs ?? []),
  }
}
