/**
 * The debug namespace as geth serves it: consensus encodings of blocks, headers, receipts and transactions
 * (internal/ethapi DebugAPI) and transaction tracing (eth/tracers API) with the default struct logger or the
 * callTracer. Tracing errors come as geth's, in geth's order: the block is looked up first, the tracer is made (and
 * its configuration checked) only when there is a transaction to trace.
 */
import type { Block } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'

import { encodeBlock } from '../chain/bodyRlp.ts'
import { encodeReceipt } from '../chain/receipts.ts'
import { txBytes } from '../chain/txBytes.ts'
import type { ChainReader } from '../chain/types.ts'
import { CallError } from '../execution/call.ts'
import type { CallExecution } from '../execution/call.ts'
import { TraceError, traceCall } from '../execution/trace.ts'
import type { ChainTracer, Json, StructLoggerConfig, TraceOptions, TracerChoice } from '../execution/trace.ts'
import type { TxPoolRpc } from './context.ts'
import { headerByNumber } from './eth.ts'
import { methodNotFound, serverError } from './errors.ts'
import { toData } from './format.ts'
import { ParamError, blockNumber, blockOverrides, blockRef, boolean, goStruct, hash, optional, stateOverride, string, toBlockOverrides, transactionArgs, uintQuantity } from './params.ts'
import type { AccountOverrideParam, BlockNumberParam, BlockOverridesParam, BlockRef, Param } from './params.ts'
import { methodsOver, namespace } from './registry.ts'

/**
 * What the debug namespace reads: the chain, the tracer, the call runner (for debug_traceCall) and the pool (for
 * transactions not yet in a block).
 */
export interface DebugContext {
  readonly chain: ChainReader
  readonly tracer: ChainTracer
  readonly execution?: CallExecution
  readonly txpool?: Pick<TxPoolRpc, 'get'>
}

const method = methodsOver<DebugContext>()

// ---------------------------------------------------------------- trace configuration

/** geth's TraceConfig (logger.Config embedded) as decoded from JSON: Go's field names, no JSON tags. */
export interface TraceConfigParam {
  EnableMemory?: boolean
  DisableStack?: boolean
  DisableStorage?: boolean
  EnableReturnData?: boolean
  Limit?: number
  Tracer?: string
  Timeout?: string
  /** raw JSON, which the named tracer decodes when it is made */
  TracerConfig?: RawJson
}

/** TraceCallConfig: a TraceConfig with the overrides of eth_call and the transaction to run after. */
export interface TraceCallConfigParam extends TraceConfigParam {
  StateOverrides?: Map<string, AccountOverrideParam>
  BlockOverrides?: BlockOverridesParam
  TxIndex?: bigint
}

/** The JSON kind Go's encoding/json names in "cannot unmarshal <kind> into ...". */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'boolean') return 'bool'
  return typeof value
}

/** Go int */
const goInt: Param<number> = {
  optional: false,
  parse(value) {
    if (typeof value !== 'number') throw new ParamError(`json: cannot unmarshal ${jsonKind(value)} into Go value of type int`)
    if (!Number.isInteger(value)) throw new ParamError(`json: cannot unmarshal number ${value} into Go value of type int`)
    return value
  },
}

/** a JSON value other than null */
type RawJson = object | string | number | boolean

/** json.RawMessage (null never reaches it: a struct leaves the field unset) */
const rawJson: Param<RawJson> = { optional: false, parse: (value) => value as RawJson }

const traceConfigFields = {
  EnableMemory: boolean,
  DisableStack: boolean,
  DisableStorage: boolean,
  EnableReturnData: boolean,
  Limit: goInt,
  Tracer: string,
  Timeout: string,
  TracerConfig: rawJson,
}

export const traceConfig = goStruct<TraceConfigParam>('tracers.TraceConfig', traceConfigFields)
export const traceCallConfig = goStruct<TraceCallConfigParam>('tracers.TraceCallConfig', {
  ...traceConfigFields,
  StateOverrides: stateOverride,
  BlockOverrides: blockOverrides,
  TxIndex: uintQuantity,
})

const callTracerConfig = goStruct<{ onlyTopCall?: boolean; withLog?: boolean }>('native.callTracerConfig', { onlyTopCall: boolean, withLog: boolean })

const DEFAULT_TIMEOUT_MS = 5_000

/** geth's traceTx: the tracer the configuration names (the struct logger when none), and the timeout. */
function traceOptions(config: TraceConfigParam | undefined): TraceOptions {
  const timeoutMs = config?.Timeout === undefined ? DEFAULT_TIMEOUT_MS : parseDuration(config.Timeout)
  return { tracer: tracerChoice(config ?? {}), timeoutMs }
}

function tracerChoice(config: TraceConfigParam): TracerChoice {
  if (config.Tracer === undefined) {
    const logger: StructLoggerConfig = {
      enableMemory: config.EnableMemory ?? false,
      disableStack: config.DisableStack ?? false,
      disableStorage: config.DisableStorage ?? false,
      enableReturnData: config.EnableReturnData ?? false,
      limit: config.Limit ?? 0,
    }
    return { name: 'structLogger', config: logger }
  }
  if (config.Tracer !== 'callTracer') throw serverError(`tracer not found: ${config.Tracer}`)
  let decoded: { onlyTopCall?: boolean; withLog?: boolean }
  try {
    decoded = callTracerConfig.parse(config.TracerConfig ?? {})
  } catch (err) {
    if (err instanceof ParamError) throw serverError(err.message)
    throw err
  }
  return { name: 'callTracer', config: { onlyTopCall: decoded.onlyTopCall ?? false, withLog: decoded.withLog ?? false } }
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 }

/** Go's time.ParseDuration ("5s", "1m30s", "250ms"), in milliseconds, with its error messages. */
function parseDuration(text: string): number {
  const quoted = JSON.stringify(text)
  let rest = text
  let sign = 1
  if (rest[0] === '-' || rest[0] === '+') {
    sign = rest[0] === '-' ? -1 : 1
    rest = rest.slice(1)
  }
  if (rest === '0') return 0
  if (rest === '') throw serverError(`time: invalid duration ${quoted}`)
  let total = 0
  while (rest !== '') {
    const number = /^(\d*)(\.\d*)?/.exec(rest)![0]
    if (number === '' || number === '.') throw serverError(`time: invalid duration ${quoted}`)
    rest = rest.slice(number.length)
    const unit = /^[^\d.]*/.exec(rest)![0]
    if (unit === '') throw serverError(`time: missing unit in duration ${quoted}`)
    const scale = DURATION_UNITS[unit]
    if (scale === undefined) throw serverError(`time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`)
    total += Number(number) * scale
    rest = rest.slice(unit.length)
  }
  return sign * total
}

// ---------------------------------------------------------------- lookups

/** Go's %d of a common.Hash: its bytes in decimal, as geth's raw-data errors print them. */
const goBytes = (b: Uint8Array) => `[${[...b].join(' ')}]`

/**
 * The block hash a reference names, as the DebugAPI resolves it: a hash as given (canonical or not), a number or tag
 * through the canonical chain; undefined when there is no such block number.
 */
async function blockHashOf(chain: ChainReader, ref: BlockRef): Promise<Uint8Array | undefined> {
  if ('hash' in ref) return ref.hash
  return (await headerByNumber(chain, ref.number))?.hash()
}

/** geth's tracers API blockByNumber: an error when the block is not there. */
async function blockByNumber(chain: ChainReader, number: BlockNumberParam): Promise<Block> {
  const header = await headerByNumber(chain, number)
  const block = header === undefined ? undefined : await chain.getBlockByHash(header.hash())
  if (block === undefined) throw serverError(`block #${number} not found`)
  return block
}

async function blockByHash(chain: ChainReader, blockHash: Uint8Array): Promise<Block> {
  const block = await chain.getBlockByHash(blockHash)
  if (block === undefined) throw serverError(`block ${bytesToHex(blockHash)} not found`)
  return block
}

/** Traces `block`'s transactions (or the one at `txIndex`) on its parent's state, as geth's traceBlock. */
async function traceBlock(ctx: DebugContext, block: Block, config: TraceConfigParam | undefined, txIndex?: number): Promise<Json[]> {
  if (block.header.number === 0n) throw serverError('genesis is not traceable')
  const parent = await ctx.chain.getHeaderByHash(block.header.parentHash)
  if (parent === undefined) throw serverError(`block ${bytesToHex(block.header.parentHash)} not found`)
  if (block.transactions.length === 0) return []
  try {
    return await ctx.tracer.traceBlock(block, parent, traceOptions(config), txIndex)
  } catch (err) {
    if (err instanceof TraceError) throw serverError(err.message)
    throw err
  }
}

/** The block debug_traceCall runs on, as geth's TraceCall finds it. */
async function traceCallBlock(chain: ChainReader, ref: BlockRef): Promise<Block> {
  if ('hash' in ref) return blockByHash(chain, ref.hash)
  if (ref.number === 'pending') throw serverError('tracing on top of pending is not supported')
  return blockByNumber(chain, ref.number)
}

async function traceBlockResults(ctx: DebugContext, block: Block, config: TraceConfigParam | undefined): Promise<Json[]> {
  const traces = await traceBlock(ctx, block, config)
  return traces.map((result, i) => ({ txHash: toData(block.transactions[i].hash()), result }))
}

// ---------------------------------------------------------------- the namespace

export const debug = namespace<DebugContext>('debug', [
  method({
    name: 'debug_getRawHeader',
    params: [blockRef],
    handler: async (ctx, ref) => {
      const blockHash = await blockHashOf(ctx.chain, ref)
      if (blockHash === undefined) return null
      const header = await ctx.chain.getHeaderByHash(blockHash)
      if (header === undefined) throw serverError(`header #${goBytes(blockHash)} not found`)
      return toData(header.serialize())
    },
  }),
  method({
    name: 'debug_getRawBlock',
    params: [blockRef],
    handler: async (ctx, ref) => {
      const blockHash = await blockHashOf(ctx.chain, ref)
      if (blockHash === undefined) return null
      const block = await ctx.chain.getBlockByHash(blockHash)
      if (block === undefined) throw serverError(`block #${goBytes(blockHash)} not found`)
      return toData(encodeBlock(block))
    },
  }),
  method({
    name: 'debug_getRawReceipts',
    params: [blockRef],
    handler: async (ctx, ref) => {
      const blockHash = await blockHashOf(ctx.chain, ref)
      if (blockHash === undefined) return null
      const receipts = (await ctx.chain.getReceipts(blockHash)) ?? []
      return receipts.map((r) => toData(encodeReceipt(r)))
    },
  }),
  method({
    // a mined transaction, else one waiting in the pool, else null
    name: 'debug_getRawTransaction',
    params: [hash],
    handler: async (ctx, txHash) => {
      const at = await ctx.chain.getTxLocation(txHash)
      if (at === undefined) {
        const pooled = ctx.txpool?.get(bytesToHex(txHash))
        return pooled === undefined ? null : toData(txBytes(pooled.tx))
      }
      const block = await ctx.chain.getBlockByHash(at.blockHash)
      const tx = block?.transactions[at.index]
      return tx === undefined ? null : toData(txBytes(tx))
    },
  }),

  method({
    name: 'debug_traceTransaction',
    params: [hash, optional(traceConfig)],
    handler: async (ctx, txHash, config) => {
      const at = await ctx.chain.getTxLocation(txHash)
      if (at === undefined) throw serverError('transaction not found')
      const block = await blockByHash(ctx.chain, at.blockHash)
      const [trace] = await traceBlock(ctx, block, config, at.index)
      return trace
    },
  }),
  method({
    name: 'debug_traceBlockByNumber',
    params: [blockNumber, optional(traceConfig)],
    handler: async (ctx, number, config) => traceBlockResults(ctx, await blockByNumber(ctx.chain, number), config),
  }),
  method({
    name: 'debug_traceBlockByHash',
    params: [hash, optional(traceConfig)],
    handler: async (ctx, blockHash, config) => traceBlockResults(ctx, await blockByHash(ctx.chain, blockHash), config),
  }),
  method({
    // the call as eth_call makes it, on the state after the block
    name: 'debug_traceCall',
    params: [transactionArgs, blockRef, optional(traceCallConfig)],
    handler: async (ctx, args, ref, config) => {
      const execution = ctx.execution
      if (execution === undefined) throw methodNotFound('debug_traceCall')
      const { header } = await traceCallBlock(ctx.chain, ref)
      if (config?.TxIndex !== undefined) throw serverError('tracing after a transaction of the block (txIndex) is not supported')
      const overrides = { state: config?.StateOverrides, block: toBlockOverrides(config?.BlockOverrides) }
      try {
        return await traceCall(() => traceOptions(config), (attach) => execution.traceCall(header, args, overrides, attach))
      } catch (err) {
        if (err instanceof TraceError || err instanceof CallError) throw serverError(err.message)
        throw err
      }
    },
  }),
])

