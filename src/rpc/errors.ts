/**
 * Errors the RPC layer answers with. Code inside rpc/ names what went wrong (an `RpcErrorKind`); only
 * `toJsonError`, at the transport boundary, turns that into geth's JSON-RPC code, so every geth code lives here.
 */

export const RpcErrorKind = {
  /** the body is not JSON (-32700) */
  Parse: 'parse',
  /** well-formed JSON that is not a valid request, an empty or too large batch (-32600) */
  InvalidRequest: 'invalidRequest',
  /** unknown method, or its namespace is not enabled on this transport (-32601) */
  MethodNotFound: 'methodNotFound',
  /** parameters that do not decode (-32602) */
  InvalidParams: 'invalidParams',
  /** a handler failed unexpectedly, or its result did not serialise (-32603) */
  Internal: 'internal',
  /** geth's default for errors a method returns: "header not found", ... (-32000) */
  Server: 'server',
  /** a batch answer grew past batchResponseMaxSize (-32003) */
  ResponseTooLarge: 'responseTooLarge',
  /** EVM revert, with the revert data (3) */
  Reverted: 'reverted',
  /** a call that failed in the EVM, reported inside a result: eth_simulateV1's calls (-32015) */
  VmError: 'vmError',
  /** a request over a method's limits: blocks or calls to simulate, storage slots (-38026) */
  ClientLimitExceeded: 'clientLimitExceeded',
  // eth_simulateV1's refused transactions and blocks (-38010 ... -38025)
  NonceTooLow: 'nonceTooLow',
  NonceTooHigh: 'nonceTooHigh',
  BaseFeeTooLow: 'baseFeeTooLow',
  IntrinsicGas: 'intrinsicGas',
  InsufficientFunds: 'insufficientFunds',
  BlockGasLimitReached: 'blockGasLimitReached',
  BlockNumberInvalid: 'blockNumberInvalid',
  BlockTimestampInvalid: 'blockTimestampInvalid',
  MaxInitCodeSizeExceeded: 'maxInitCodeSizeExceeded',
} as const
export type RpcErrorKind = (typeof RpcErrorKind)[keyof typeof RpcErrorKind]

const GETH_CODES: Record<RpcErrorKind, number> = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
  internal: -32603,
  server: -32000,
  responseTooLarge: -32003,
  reverted: 3,
  vmError: -32015,
  clientLimitExceeded: -38026,
  nonceTooLow: -38010,
  nonceTooHigh: -38011,
  baseFeeTooLow: -38012,
  intrinsicGas: -38013,
  insufficientFunds: -38014,
  blockGasLimitReached: -38015,
  blockNumberInvalid: -38020,
  blockTimestampInvalid: -38021,
  maxInitCodeSizeExceeded: -38025,
}

/** geth's code for an error reported inside a result rather than thrown (eth_simulateV1's failed calls). */
export const gethCode = (kind: RpcErrorKind): number => GETH_CODES[kind]

export class RpcError extends Error {
  readonly kind: RpcErrorKind
  /** geth's `data` member (revert data as 0x-hex) */
  readonly data: unknown

  constructor(kind: RpcErrorKind, message: string, data?: unknown) {
    super(message)
    this.name = 'RpcError'
    this.kind = kind
    this.data = data
  }

  get code(): number {
    return GETH_CODES[this.kind]
  }
}

/** The JSON-RPC error object, members in geth's order. */
export interface JsonError {
  code: number
  message: string
  data?: unknown
}

/**
 * Maps anything a handler threw to the JSON error sent. Only RpcErrors carry their message out; anything else is
 * a bug or an internal failure and is answered as geth answers a panicking handler, so no internals or stack leak.
 */
export function toJsonError(err: unknown): JsonError {
  if (!(err instanceof RpcError)) return { code: GETH_CODES.internal, message: 'method handler crashed' }
  return err.data === undefined ? { code: err.code, message: err.message } : { code: err.code, message: err.message, data: err.data }
}

// ---- geth's messages, one constructor each so no message is spelled twice

export const parseError = () => new RpcError(RpcErrorKind.Parse, 'parse error')
export const invalidRequest = (message = 'invalid request') => new RpcError(RpcErrorKind.InvalidRequest, message)
export const emptyBatch = () => invalidRequest('empty batch')
export const batchTooLarge = () => invalidRequest('batch too large')
export const methodNotFound = (method: string) => new RpcError(RpcErrorKind.MethodNotFound, `the method ${method} does not exist/is not available`)
/** geth answers *_subscribe over HTTP this way */
export const notificationsUnsupported = () => new RpcError(RpcErrorKind.MethodNotFound, 'notifications not supported')
export const invalidParams = (message: string) => new RpcError(RpcErrorKind.InvalidParams, message)
export const responseTooLarge = () => new RpcError(RpcErrorKind.ResponseTooLarge, 'response too large')
export const serverError = (message: string) => new RpcError(RpcErrorKind.Server, message)
export const headerNotFound = () => serverError('header not found')
export const headerForHashNotFound = () => serverError('header for hash not found')
export const hashNotCanonical = () => serverError('hash is not currently canonical')
export const unknownBlock = () => serverError('unknown block')
/** geth: "execution reverted" plus ": <reason>" when the revert data is an Error(string) */
export const executionReverted = (data: string, reason?: string) =>
  new RpcError(RpcErrorKind.Reverted, reason === undefined ? 'execution reverted' : `execution reverted: ${reason}`, data)
