/**
 * Parameter validators with geth's decoding rules and error messages (hexutil, common.Address/Hash, rpc.BlockNumber,
 * rpc.BlockNumberOrHash). Each validator sees one raw JSON value; a failure throws ParamError with the message geth's
 * decoder gives, and the registry prefixes it with "invalid argument N: ".
 */
import type { BlockOverrides } from '../execution/call.ts'


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

// ---------------------------------------------------------------- Go structs, lists and maps

/**
 * encoding/json names the struct field of a type error found inside a struct ("into Go struct field
 * TransactionArgs.gas of type hexutil.Uint64"); an error from deeper down is renamed by each enclosing struct.
 */
function inField<T>(structName: string, field: string, parse: () => T): T {
  try {
    return parse()
  } catch (err) {
    const m = err instanceof ParamError ? /^json: cannot unmarshal (.*) into Go (?:value|struct field \S+) of type (.*)$/s.exec(err.message) : null
    if (m) throw new ParamError(`json: cannot unmarshal ${m[1]} into Go struct field ${structName}.${field} of type ${m[2]}`)
    throw err
  }
}

type Fields<T> = { readonly [K in keyof T]-?: Param<NonNullable<T[K]>> }

/**
 * A Go struct as encoding/json decodes it: members matched to fields by name, case-insensitively; unknown members
 * ignored; null leaving a field unset; null for the whole struct giving the zero value.
 */
export function goStruct<T extends object>(goType: string, fields: Fields<T>): Param<T> {
  const structName = goType.slice(goType.lastIndexOf('.') + 1)
  const names = Object.keys(fields) as (keyof T & string)[]
  return {
    optional: false,
    parse(value) {
      if (value === null) return {} as T
      if (typeof value !== 'object' || Array.isArray(value)) throw typeError(jsonKind(value), goType)
      const out: Partial<T> = {}
      for (const [key, v] of Object.entries(value)) {
        const field = names.find((n) => n === key) ?? names.find((n) => n.toLowerCase() === key.toLowerCase())
        if (field === undefined) continue
        if (v === null) delete out[field]
        else out[field] = inField(structName, field, () => fields[field].parse(v)) as T[typeof field]
      }
      return out as T
    },
  }
}

/** A Go slice: null is nil (here: undefined, which a struct field then leaves unset). */
export function goList<T>(goType: string, element: Param<T>): Param<T[]> {
  return {
    optional: false,
    parse(value) {
      if (!Array.isArray(value)) throw typeError(jsonKind(value), goType)
      return value.map((v) => element.parse(v))
    },
  }
}

/** hexutil.UnmarshalFixedText, for map keys: errors come out unwrapped. */
function fixedText(goType: string, size: number): (key: string) => Uint8Array {
  return (key) => {
    if (!has0xPrefix(key)) throw new ParamError(MISSING_PREFIX)
    const digits = key.slice(2)
    if (digits.length % 2 !== 0) throw new ParamError(ODD_LENGTH)
    if (digits.length !== size * 2) throw new ParamError(`hex string has length ${digits.length}, want ${size * 2} for ${goType}`)
    if (!isHexDigits(digits)) throw new ParamError(SYNTAX)
    return Buffer.from(digits, 'hex')
  }
}

const addressKey = fixedText('common.Address', 20)
const hashKey = fixedText('common.Hash', 32)

/** A Go map with text-decoded keys; keys come back as lower-case 0x hex, and a later duplicate replaces an earlier one. */
function goMap<V>(goType: string, key: (k: string) => Uint8Array, element: Param<V>): Param<Map<string, V>> {
  return {
    optional: false,
    parse(value) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw typeError(jsonKind(value), goType)
      const out = new Map<string, V>()
      for (const [k, v] of Object.entries(value)) out.set(`0x${Buffer.from(key(k)).toString('hex')}`, element.parse(v))
      return out
    },
  }
}

/** math.HexOrDecimal64: a JSON number or string, in decimal or 0x hex, at most 64 bits. */
export const hexOrDecimal64: Param<bigint> = {
  optional: false,
  parse(value) {
    const text = typeof value === 'string' ? value : JSON.stringify(value)
    const valid = text === '' || /^[0-9]+$/.test(text) || /^0[xX][0-9a-fA-F]+$/.test(text)
    const n = text === '' ? 0n : valid ? BigInt(/^0[xX]/.test(text) ? `0x${text.slice(2)}` : text) : undefined
    if (n === undefined || n > (1n << 64n) - 1n) throw new ParamError(`invalid hex or decimal integer ${JSON.stringify(text)}`)
    return n
  },
}

/** Go float64 */
const float64: Param<number> = {
  optional: false,
  parse(value) {
    // null leaves a Go float64 at zero
    if (value === null) return 0
    if (typeof value !== 'number') throw typeError(jsonKind(value), 'float64')
    return value
  },
}

/** []float64, null decoding to an empty (nil) list */
export const float64List: Param<number[]> = {
  optional: false,
  parse: (value) => (value === null ? [] : goList('[]float64', float64).parse(value)),
}

/** hexutil.U256 */
const u256 = hexQuantity('*hexutil.U256', 64, BIG256_RANGE)

/** gencodec's required fields: a missing one is named */
function required<T extends object>(struct: Param<T>, typeName: string, names: (keyof T & string)[]): Param<T> {
  return {
    optional: false,
    parse(value) {
      const decoded = struct.parse(value)
      for (const name of names) if (decoded[name] === undefined) throw new ParamError(`missing required field '${name}' for ${typeName}`)
      return decoded
    },
  }
}

interface AccessTupleParam {
  address?: Uint8Array
  storageKeys?: Uint8Array[]
}

/** types.AccessTuple */
const accessTuple = required(goStruct<AccessTupleParam>('types.AccessTuple', { address, storageKeys: goList('[]common.Hash', hash) }), 'AccessTuple', ['address', 'storageKeys'])

interface AuthorizationParam {
  chainId?: bigint
  address?: Uint8Array
  nonce?: bigint
  yParity?: bigint
  r?: bigint
  s?: bigint
}

/** types.SetCodeAuthorization; yParity is a uint8 in Go, so larger values wrap */
const authorization = required(
  goStruct<AuthorizationParam>('types.SetCodeAuthorization', { chainId: u256, address, nonce: uint64Quantity, yParity: uint64Quantity, r: u256, s: u256 }),
  'SetCodeAuthorization',
  ['chainId', 'address', 'nonce', 'yParity', 'r', 's'],
)

/** geth's TransactionArgs (eth_call, eth_estimateGas, eth_createAccessList) */
export interface TransactionArgsParam {
  from?: Uint8Array
  to?: Uint8Array
  gas?: bigint
  gasPrice?: bigint
  maxFeePerGas?: bigint
  maxPriorityFeePerGas?: bigint
  value?: bigint
  nonce?: bigint
  data?: Uint8Array
  input?: Uint8Array
  accessList?: { address: Uint8Array; storageKeys: Uint8Array[] }[]
  chainId?: bigint
  maxFeePerBlobGas?: bigint
  blobVersionedHashes?: Uint8Array[]
  authorizationList?: { chainId: bigint; address: Uint8Array; nonce: bigint; yParity: bigint; r: bigint; s: bigint }[]
}

const transactionArgsStruct = goStruct<TransactionArgsParam>('ethapi.TransactionArgs', {
  from: address,
  to: address,
  gas: uint64Quantity,
  gasPrice: quantity,
  maxFeePerGas: quantity,
  maxPriorityFeePerGas: quantity,
  value: quantity,
  nonce: uint64Quantity,
  data: bytes,
  input: bytes,
  accessList: goList('types.AccessList', accessTuple) as Param<NonNullable<TransactionArgsParam['accessList']>>,
  chainId: quantity,
  maxFeePerBlobGas: quantity,
  blobVersionedHashes: goList('[]common.Hash', hash),
  authorizationList: goList('[]types.SetCodeAuthorization', authorization) as Param<NonNullable<TransactionArgsParam['authorizationList']>>,
})

export const transactionArgs: Param<TransactionArgsParam> = {
  optional: false,
  parse(value) {
    const args = transactionArgsStruct.parse(value)
    for (const auth of args.authorizationList ?? []) auth.yParity &= 0xffn
    return args
  },
}

/** override.OverrideAccount */
export interface AccountOverrideParam {
  nonce?: bigint
  code?: Uint8Array
  balance?: bigint
  state?: Map<string, Uint8Array>
  stateDiff?: Map<string, Uint8Array>
  movePrecompileToAddress?: Uint8Array
}

const storageMap = goMap('map[common.Hash]common.Hash', hashKey, hash)

/** eth_getStorageValues' slots per account, keyed by lower-case 0x address */
export const storageRequests: Param<Map<string, Uint8Array[]>> = goMap('map[common.Address][]common.Hash', addressKey, goList('[]common.Hash', hash))

/** override.StateOverride, keyed by lower-case 0x address */
export const stateOverride: Param<Map<string, AccountOverrideParam>> = goMap(
  'override.StateOverride',
  addressKey,
  goStruct<AccountOverrideParam>('override.OverrideAccount', { nonce: uint64Quantity, code: bytes, balance: quantity, state: storageMap, stateDiff: storageMap, movePrecompileToAddress: address }),
)

/** override.BlockOverrides: Go field names, no JSON tags */
export interface BlockOverridesParam {
  Number?: bigint
  Difficulty?: bigint
  Time?: bigint
  GasLimit?: bigint
  FeeRecipient?: Uint8Array
  PrevRandao?: Uint8Array
  BaseFeePerGas?: bigint
  BlobBaseFee?: bigint
  BeaconRoot?: Uint8Array
  Withdrawals?: unknown[]
}

export const blockOverrides = goStruct<BlockOverridesParam>('override.BlockOverrides', {
  Number: quantity,
  Difficulty: quantity,
  Time: uint64Quantity,
  GasLimit: uint64Quantity,
  FeeRecipient: address,
  PrevRandao: hash,
  BaseFeePerGas: quantity,
  BlobBaseFee: quantity,
  BeaconRoot: hash,
  Withdrawals: goList('types.Withdrawals', { optional: false, parse: (v: unknown) => v }),
})

/** The decoded block overrides as execution takes them (eth_call, eth_estimateGas, debug_traceCall, simulateV1). */
export function toBlockOverrides(o: BlockOverridesParam | undefined): BlockOverrides | undefined {
  if (o === undefined) return undefined
  return {
    number: o.Number,
    difficulty: o.Difficulty,
    time: o.Time,
    gasLimit: o.GasLimit,
    feeRecipient: o.FeeRecipient,
    prevRandao: o.PrevRandao,
    baseFeePerGas: o.BaseFeePerGas,
    blobBaseFee: o.BlobBaseFee,
    beaconRoot: o.BeaconRoot,
    withdrawals: o.Withdrawals,
  }
}
