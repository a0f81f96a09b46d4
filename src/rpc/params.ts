/**
 * Parameter validators with geth's decoding rules and error messages (hexutil, common.Address/Hash, rpc.BlockNumber,
 * rpc.BlockNumberOrHash). Each validator sees one raw JSON value; a failure throws ParamError with the message geth's
 * decoder gives, and the registry prefixes it with "invalid argument N: ".
 */

export class ParamError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ParamError'
  }
}

export interface Param<T> {
  /** geth's pointer-typed arguments: may be omitted, and null means omitted */
  readonly optional: boolean
  parse(value: unknown): T
}

export type BlockTag = 'earliest' | 'latest' | 'pending' | 'safe' | 'finalized'
/** rpc.BlockNumber: a tag or a number (at most int64, as geth) */
export type BlockNumberParam = BlockTag | bigint
/** rpc.BlockNumberOrHash (EIP-1898) */
export type BlockRef = { number: BlockNumberParam } | { hash: Uint8Array; requireCanonical: boolean }

const BLOCK_TAGS: readonly string[] = ['earliest', 'latest', 'pending', 'safe', 'finalized'] satisfies BlockTag[]
const MAX_INT64 = (1n << 63n) - 1n

// hexutil's decError messages
const MISSING_PREFIX = 'hex string without 0x prefix'
const ODD_LENGTH = 'hex string of odd length'
const SYNTAX = 'invalid hex string'
const EMPTY_NUMBER = 'hex string "0x"'
const LEADING_ZERO = 'hex number with leading zero digits'
const EMPTY_STRING = 'empty hex string'
const UINT64_RANGE = 'hex number > 64 bits'
const BIG256_RANGE = 'hex number > 256 bits'

const isHexDigits = (s: string) => /^[0-9a-fA-F]*$/.test(s)
const has0xPrefix = (s: string) => s.length >= 2 && s[0] === '0' && (s[1] === 'x' || s[1] === 'X')

/** The JSON kind Go's encoding/json names in "cannot unmarshal <kind> into ...". */
function jsonKind(value: unknown): string {
  if (Array.isArray(value)) return 'array'
  if (value === null) return 'null'
  if (typeof value === 'boolean') return 'bool'
  return typeof value
}

/** json.UnmarshalTypeError as geth's decoders wrap their errors */
const typeError = (what: string, goType: string) => new ParamError(`json: cannot unmarshal ${what} into Go value of type ${goType}`)

function requireString(value: unknown, goType: string): string {
  if (typeof value !== 'string') throw typeError('non-string', goType)
  return value
}

/** hexutil's checkNumberText: "" is zero, as geth's JSON decoding of quantities allows */
function numberDigits(text: string, goType: string): string {
  if (text === '') return '0'
  if (!has0xPrefix(text)) throw typeError(MISSING_PREFIX, goType)
  const digits = text.slice(2)
  if (digits === '') throw typeError(EMPTY_NUMBER, goType)
  if (digits.length > 1 && digits[0] === '0') throw typeError(LEADING_ZERO, goType)
  return digits
}

function hexQuantity(goType: string, maxDigits: number, rangeMessage: string): Param<bigint> {
  return {
    optional: false,
    parse(value) {
      const digits = numberDigits(requireString(value, goType), goType)
      // geth checks the length before the digits
      if (digits.length > maxDigits) throw typeError(rangeMessage, goType)
      if (!isHexDigits(digits)) throw typeError(SYNTAX, goType)
      return BigInt(`0x${digits}`)
    },
  }
}

/** hexutil.Big: a quantity of at most 256 bits */
export const quantity = hexQuantity('*hexutil.Big', 64, BIG256_RANGE)
/** hexutil.Uint64 */
export const uint64Quantity = hexQuantity('hexutil.Uint64', 16, UINT64_RANGE)
/** hexutil.Uint (indexes) */
export const uintQuantity = hexQuantity('hexutil.Uint', 16, UINT64_RANGE)

/** hexutil's checkText with the 0x prefix required ("" is empty data) */
function dataDigits(text: string, goType: string): string {
  if (text === '') return ''
  if (!has0xPrefix(text)) throw typeError(MISSING_PREFIX, goType)
  const digits = text.slice(2)
  if (digits.length % 2 !== 0) throw typeError(ODD_LENGTH, goType)
  return digits
}

/** hexutil.Bytes */
export const bytes: Param<Uint8Array> = {
  optional: false,
  parse(value) {
    const digits = dataDigits(requireString(value, 'hexutil.Bytes'), 'hexutil.Bytes')
    if (!isHexDigits(digits)) throw typeError(SYNTAX, 'hexutil.Bytes')
    return Buffer.from(digits, 'hex')
  },
}

function fixedBytes(goType: string, size: number): Param<Uint8Array> {
  return {
    optional: false,
    parse(value) {
      const digits = dataDigits(requireString(value, goType), goType)
      // geth leaves this one unwrapped
      if (digits.length !== size * 2) throw new ParamError(`hex string has length ${digits.length}, want ${size * 2} for ${goType}`)
      if (!isHexDigits(digits)) throw typeError(SYNTAX, goType)
      return Buffer.from(digits, 'hex')
    },
  }
}

/** common.Address */
export const address = fixedBytes('common.Address', 20)
/** common.Hash */
export const hash = fixedBytes('common.Hash', 32)

/** Go bool: null decodes to false */
export const boolean: Param<boolean> = {
  optional: false,
  parse(value) {
    if (value === null) return false
    if (typeof value !== 'boolean') throw typeError(jsonKind(value), 'bool')
    return value
  },
}

/** Go string, for arguments geth decodes itself (storage keys): null decodes to "" */
export const string: Param<string> = {
  optional: false,
  parse(value) {
    if (value === null) return ''
    if (typeof value !== 'string') throw typeError(jsonKind(value), 'string')
    return value
  },
}

/** hexutil.DecodeUint64, whose errors rpc.BlockNumber passes on unwrapped */
function decodeUint64(text: string): bigint {
  if (text === '') throw new ParamError(EMPTY_STRING)
  if (!has0xPrefix(text)) throw new ParamError(MISSING_PREFIX)
  const digits = text.slice(2)
  if (digits === '') throw new ParamError(EMPTY_NUMBER)
  if (digits.length > 1 && digits[0] === '0') throw new ParamError(LEADING_ZERO)
  // strconv.ParseUint reports whichever comes first, a bad digit or the overflow
  for (let i = 0; i < digits.length; i++) {
    if (!isHexDigits(digits[i])) throw new ParamError(SYNTAX)
    if (i === 16) throw new ParamError(UINT64_RANGE)
  }
  return BigInt(`0x${digits}`)
}

/** rpc.BlockNumber.UnmarshalJSON: it strips the quotes of the raw JSON, so every non-string lacks the 0x prefix. */
function parseBlockNumber(value: unknown, tooHigh: string): BlockNumberParam {
  if (typeof value !== 'string') throw new ParamError(MISSING_PREFIX)
  if (BLOCK_TAGS.includes(value)) return value as BlockTag
  const n = decodeUint64(value)
  if (n > MAX_INT64) throw new ParamError(tooHigh)
  return n
}

/** rpc.BlockNumber */
export const blockNumber: Param<BlockNumberParam> = {
  optional: false,
  parse: (value) => parseBlockNumber(value, 'block number larger than int64'),
}

/**
 * rpc.BlockNumberOrHash: a tag, a number, a 32-byte hash, or an EIP-1898 object. geth first decodes an object form
 * and, when that fails for any reason, retries as a string; so a malformed object is reported as not being a string.
 */
export const blockRef: Param<BlockRef> = {
  optional: false,
  parse(value) {
    if (value === null || (typeof value === 'object' && !Array.isArray(value))) {
      const ref = blockRefObject(value ?? {})
      if (ref === undefined) throw typeError('object', 'string')
      return ref
    }
    if (typeof value !== 'string') throw typeError(jsonKind(value), 'string')
    if (!BLOCK_TAGS.includes(value) && value.length === 66) {
      if (!has0xPrefix(value)) throw new ParamError(MISSING_PREFIX)
      if (!isHexDigits(value.slice(2))) throw new ParamError(SYNTAX)
      return { hash: Buffer.from(value.slice(2), 'hex'), requireCanonical: false }
    }
    return { number: parseBlockNumber(value, 'blocknumber too high') }
  },
}

/**
 * The object form as Go decodes it into struct fields (case-insensitive names, unknown ones ignored, null leaving a
 * field unset). Returns undefined where Go's decoding fails; throws geth's own checks on a decoded object.
 */
function blockRefObject(obj: object): BlockRef | undefined {
  let number: BlockNumberParam | undefined
  let blockHash: Uint8Array | undefined
  let requireCanonical = false
  try {
    for (const [key, v] of Object.entries(obj)) {
      const field = key.toLowerCase()
      if (v === null) continue
      if (field === 'blocknumber') number = parseBlockNumber(v, 'block number larger than int64')
      else if (field === 'blockhash') blockHash = hash.parse(v)
      else if (field === 'requirecanonical') requireCanonical = boolean.parse(v)
    }
  } catch (err) {
    if (err instanceof ParamError) return undefined
    throw err
  }
  // JSON null decodes as an empty object does, and fails here
  if (number === undefined && blockHash === undefined) throw new ParamError('must specify either BlockHash or BlockNumber')
  if (number !== undefined && blockHash !== undefined) throw new ParamError('cannot specify both BlockHash and BlockNumber, choose one or the other')
  return blockHash !== undefined ? { hash: blockHash, requireCanonical } : { number: number! }
}

/** A pointer-typed argument: omitted or null gives undefined. */
export function optional<T>(param: Param<T>): Param<T | undefined> {
  return {
    optional: true,
    parse: (value) => (value === null || value === undefined ? undefined : param.parse(value)),
  }
}
