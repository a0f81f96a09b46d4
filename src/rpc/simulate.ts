/**
 * eth_simulateV1's parameters (geth's simOpts, decoded as Go decodes them) and results (simBlockResult: the block as
 * RPCMarshalBlock shows it, with the calls' results), and geth's codes for the errors a simulation ends with.
 */
import type { BlockHeader } from '@ethereumjs/block'

import { SimulationErrorKind } from '../execution/simulate.ts'
import type { SimBlock, SimulateRequest, SimulatedBlock, SimulatedCall, SimulatedLog, SimulatedTransaction, Withdrawal } from '../execution/simulate.ts'
import { MAX_CALLS_PER_BLOCK, MAX_SIMULATE_BLOCKS, MAX_TOTAL_CALLS, SimulationError } from '../execution/simulate.ts'
import { RpcError, RpcErrorKind, gethCode, invalidParams } from './errors.ts'
import { formatHeader, toData, toQuantity } from './format.ts'
import type { Json, JsonObject } from './format.ts'
import { ParamError, address, blockOverrides, toBlockOverrides, boolean, goList, goStruct, stateOverride, transactionArgs, uint64Quantity } from './params.ts'
import type { BlockOverridesParam, Param, TransactionArgsParam } from './params.ts'

interface WithdrawalParam {
  index?: bigint
  validatorIndex?: bigint
  address?: Uint8Array
  amount?: bigint
}

const withdrawalStruct = goStruct<WithdrawalParam>('types.Withdrawal', { index: uint64Quantity, validatorIndex: uint64Quantity, address, amount: uint64Quantity })

/** types.Withdrawal: gencodec requires every field */
export const withdrawal: Param<Withdrawal> = {
  optional: false,
  parse(value) {
    const w = withdrawalStruct.parse(value)
    for (const field of ['index', 'validatorIndex', 'address', 'amount'] as const) {
      if (w[field] === undefined) throw new ParamError(`missing required field '${field}' for Withdrawal`)
    }
    return w as Withdrawal
  },
}

interface SimBlockParam {
  blockOverrides?: BlockOverridesParam
  stateOverrides?: SimBlock['state']
  calls?: TransactionArgsParam[]
}

interface SimOptsParam {
  blockStateCalls?: SimBlockParam[]
  traceTransfers?: boolean
  validation?: boolean
  returnFullTransactions?: boolean
}

/** geth's simOpts */
export const simulateOptions: Param<SimOptsParam> = goStruct<SimOptsParam>('ethapi.simOpts', {
  blockStateCalls: goList(
    '[]ethapi.simBlock',
    goStruct<SimBlockParam>('ethapi.simBlock', { blockOverrides, stateOverrides: stateOverride, calls: goList('[]ethapi.TransactionArgs', transactionArgs) }),
  ),
  traceTransfers: boolean,
  validation: boolean,
  returnFullTransactions: boolean,
})

/** SimulateV1's checks before it looks for the base block: at least one block, and geth's limits. */
export function simulateRequest(opts: SimOptsParam): SimulateRequest {
  const blocks = opts.blockStateCalls ?? []
  if (blocks.length === 0) throw invalidParams('empty input')
  if (blocks.length > MAX_SIMULATE_BLOCKS) throw new RpcError(RpcErrorKind.ClientLimitExceeded, 'too many blocks')
  let total = 0
  for (const block of blocks) {
    const calls = block.calls?.length ?? 0
    if (calls > MAX_CALLS_PER_BLOCK) throw new RpcError(RpcErrorKind.ClientLimitExceeded, `too many calls in block: ${calls} > ${MAX_CALLS_PER_BLOCK}`)
    total += calls
    if (total > MAX_TOTAL_CALLS) throw new RpcError(RpcErrorKind.ClientLimitExceeded, `too many calls: ${total} > ${MAX_TOTAL_CALLS}`)
  }
  return {
    blocks: blocks.map((b) => ({ block: simBlockOverrides(b.blockOverrides), state: b.stateOverrides, calls: b.calls ?? [] })),
    traceTransfers: opts.traceTransfers ?? false,
    validation: opts.validation ?? false,
  }
}

/** eth_call's block overrides, with the withdrawals a simulated block pays decoded. */
function simBlockOverrides(o: BlockOverridesParam | undefined): SimBlock['block'] {
  const overrides = toBlockOverrides(o)
  return overrides === undefined ? undefined : { ...overrides, withdrawals: o?.Withdrawals?.map((w) => withdrawal.parse(w)) }
}

const ERROR_KINDS: Record<SimulationErrorKind, RpcErrorKind> = {
  [SimulationErrorKind.NonceTooHigh]: RpcErrorKind.NonceTooHigh,
  [SimulationErrorKind.NonceTooLow]: RpcErrorKind.NonceTooLow,
  [SimulationErrorKind.BaseFeeTooLow]: RpcErrorKind.BaseFeeTooLow,
  [SimulationErrorKind.IntrinsicGas]: RpcErrorKind.IntrinsicGas,
  [SimulationErrorKind.InsufficientFunds]: RpcErrorKind.InsufficientFunds,
  [SimulationErrorKind.BlockGasLimitReached]: RpcErrorKind.BlockGasLimitReached,
  [SimulationErrorKind.BlockNumberInvalid]: RpcErrorKind.BlockNumberInvalid,
  [SimulationErrorKind.BlockTimestampInvalid]: RpcErrorKind.BlockTimestampInvalid,
  [SimulationErrorKind.MaxInitCodeSizeExceeded]: RpcErrorKind.MaxInitCodeSizeExceeded,
  [SimulationErrorKind.ClientLimitExceeded]: RpcErrorKind.ClientLimitExceeded,
  [SimulationErrorKind.InvalidParams]: RpcErrorKind.InvalidParams,
  [SimulationErrorKind.Internal]: RpcErrorKind.Internal,
  [SimulationErrorKind.Other]: RpcErrorKind.Server,
}

/** Runs a simulation, answering the errors it ends with by geth's codes. */
export async function simulating<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (err) {
    if (err instanceof SimulationError) throw new RpcError(ERROR_KINDS[err.kind], err.message)
    throw err
  }
}

/** simBlockResult: RPCMarshalBlock of the simulated block (keys sorted, as a Go map), with `calls`. */
export function formatSimulatedBlock(block: SimulatedBlock, fullTx: boolean): JsonObject {
  const { header } = block
  const hash = header.hash()
  const fields: JsonObject = {
    ...formatHeader(header),
    size: toQuantity(block.size),
    transactions: block.transactions.map((tx, i) => (fullTx ? formatSimulatedTransaction(tx, header, hash, i) : toData(tx.hash))),
    uncles: [],
    calls: block.calls.map((call) => formatCall(call, header, hash)),
  }
  if (block.withdrawals !== undefined) {
    fields.withdrawals = block.withdrawals.map((w) => ({ index: toQuantity(w.index), validatorIndex: toQuantity(w.validatorIndex), address: toData(w.address), amount: toQuantity(w.amount) }))
  }
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** simCallResult */
function formatCall(call: SimulatedCall, header: BlockHeader, blockHash: Uint8Array): JsonObject {
  const fields: JsonObject = {
    returnData: toData(call.returnData),
    logs: call.logs.map((log) => formatLog(log, header, blockHash)),
    gasUsed: toQuantity(call.gasUsed),
    maxUsedGas: toQuantity(call.maxUsedGas),
    status: toQuantity(call.status),
  }
  const error = call.error
  if (error?.reverted === true) {
    const message = error.reason === undefined ? 'execution reverted' : `execution reverted: ${error.reason}`
    fields.error = { message, code: gethCode(RpcErrorKind.Reverted), data: toData(error.data) }
  } else if (error !== undefined) {
    fields.error = { message: error.message, code: gethCode(RpcErrorKind.VmError) }
  }
  return fields
}

/** core/types.Log as the simulation's tracer fills it in */
function formatLog(log: SimulatedLog, header: BlockHeader, blockHash: Uint8Array): JsonObject {
  return {
    address: toData(log.address),
    topics: log.topics.map(toData),
    data: toData(log.data),
    blockNumber: toQuantity(header.number),
    transactionHash: toData(log.txHash),
    transactionIndex: toQuantity(log.txIndex),
    blockHash: toData(blockHash),
    blockTimestamp: toQuantity(header.timestamp),
    logIndex: toQuantity(log.logIndex),
    removed: false,
  }
}

/** RPCTransaction of an unsigned simulated transaction: the sender is the call's, every signature value zero. */
function formatSimulatedTransaction(tx: SimulatedTransaction, header: BlockHeader, blockHash: Uint8Array, index: number): JsonObject {
  const baseFee = header.baseFeePerGas
  const tipPlusBase = baseFee === undefined ? undefined : tx.maxPriorityFeePerGas + baseFee
  const effectivePrice = tipPlusBase === undefined || tipPlusBase > tx.maxFeePerGas ? tx.maxFeePerGas : tipPlusBase
  const fields: JsonObject = {
    blockHash: toData(blockHash),
    blockNumber: toQuantity(header.number),
    blockTimestamp: toQuantity(header.timestamp),
    from: toData(tx.from),
    gas: toQuantity(tx.gasLimit),
    gasPrice: toQuantity(tx.type === 0 ? tx.gasPrice : effectivePrice),
  }
  if (tx.type !== 0) {
    fields.maxFeePerGas = toQuantity(tx.maxFeePerGas)
    fields.maxPriorityFeePerGas = toQuantity(tx.maxPriorityFeePerGas)
  }
  if (tx.type === 3) fields.maxFeePerBlobGas = toQuantity(tx.maxFeePerBlobGas)
  Object.assign(fields, {
    hash: toData(tx.hash),
    input: toData(tx.data),
    nonce: toQuantity(tx.nonce),
    to: tx.to === undefined ? null : toData(tx.to),
    transactionIndex: toQuantity(index),
    value: toQuantity(tx.value),
    type: toQuantity(tx.type),
  })
  // a legacy transaction with v = 0 has no chain id (it is not EIP-155 protected)
  if (tx.type !== 0) {
    fields.accessList = tx.accessList.map((e) => ({ address: toData(e.address), storageKeys: e.storageKeys.map(toData) }))
    fields.chainId = toQuantity(tx.chainId)
  }
  if (tx.type === 3) fields.blobVersionedHashes = tx.blobVersionedHashes.map(toData)
  if (tx.type === 4) {
    fields.authorizationList = tx.authorizationList.map((a) => ({
      chainId: toQuantity(a.chainId),
      address: toData(a.address),
      nonce: toQuantity(a.nonce),
      yParity: toQuantity(a.yParity),
      r: toQuantity(a.r),
      s: toQuantity(a.s),
    })) as Json[]
  }
  fields.v = toQuantity(0)
  fields.r = toQuantity(0)
  fields.s = toQuantity(0)
  if (tx.type !== 0) fields.yParity = toQuantity(0)
  return fields
}
