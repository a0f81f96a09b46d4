import type { BlockHeader } from '@ethereumjs/block'
import { Common, Hardfork } from '@ethereumjs/common'
import type { ChainConfig, CustomCrypto, HardforkTransitionConfig } from '@ethereumjs/common'
import { isHexString } from '@ethereumjs/util'

import { ChainCommon } from './common.ts'

/**
 * A geth genesis.json, parsed and checked. Field names follow geth's so a file written by geth, puppeth or
 * `cairn genesis new` reads unchanged.
 */
export interface Genesis {
  config: ChainParams
  nonce: bigint
  timestamp: bigint
  extraData: Uint8Array
  gasLimit: bigint
  difficulty: bigint
  mixHash: Uint8Array
  coinbase: Uint8Array
  baseFeePerGas?: bigint
  excessBlobGas?: bigint
  blobGasUsed?: bigint
  number: bigint
  gasUsed: bigint
  parentHash: Uint8Array
  alloc: GenesisAccount[]
}

export interface GenesisAccount {
  address: Uint8Array
  balance: bigint
  nonce: bigint
  code: Uint8Array
  storage: [slot: Uint8Array, value: Uint8Array][]
}

export interface CliqueParams {
  period: number
  /** 0 or absent in the file means 30000, as geth */
  epoch: number
  /** cairn extension: `false` forbids sealing blocks without transactions (checkpoints excepted) */
  emptyBlocks: boolean
}

export interface BlobParams {
  target: number
  max: number
  baseFeeUpdateFraction: number
}

export interface ChainParams {
  chainId: bigint
  /** block-numbered forks in activation order, with their block (undefined = not scheduled) */
  blockForks: Partial<Record<BlockFork, bigint>>
  /** timestamp forks */
  timeForks: Partial<Record<TimeFork, bigint>>
  terminalTotalDifficulty?: bigint
  clique?: CliqueParams
  ethash: boolean
  blobSchedule: Partial<Record<string, BlobParams>>
  depositContractAddress?: Uint8Array
  /**
   * Besu's free-gas option: every block's base fee is 0, forever (a chain rule, not a default: EIP-1559's formula
   * would raise it to 1 after a full block). Needs Clique and London at genesis.
   */
  zeroBaseFee: boolean
  /** keys of the original config object that cairn does not interpret, kept so the file round-trips */
  raw: Record<string, unknown>
}

/** geth's block fork keys in the order geth's CheckConfigForkOrder requires them. */
export const BLOCK_FORKS = [
  ['homesteadBlock', Hardfork.Homestead],
  ['daoForkBlock', Hardfork.Dao],
  ['eip150Block', Hardfork.TangerineWhistle],
  ['eip155Block', Hardfork.SpuriousDragon],
  ['eip158Block', Hardfork.SpuriousDragon],
  ['byzantiumBlock', Hardfork.Byzantium],
  ['constantinopleBlock', Hardfork.Constantinople],
  ['petersburgBlock', Hardfork.Petersburg],
  ['istanbulBlock', Hardfork.Istanbul],
  ['muirGlacierBlock', Hardfork.MuirGlacier],
  ['berlinBlock', Hardfork.Berlin],
  ['londonBlock', Hardfork.London],
  ['arrowGlacierBlock', Hardfork.ArrowGlacier],
  ['grayGlacierBlock', Hardfork.GrayGlacier],
  ['mergeNetsplitBlock', Hardfork.MergeNetsplitBlock],
] as const
export type BlockFork = (typeof BLOCK_FORKS)[number][0]

export const TIME_FORKS = [
  ['shanghaiTime', Hardfork.Shanghai],
  ['cancunTime', Hardfork.Cancun],
  ['pragueTime', Hardfork.Prague],
  ['osakaTime', Hardfork.Osaka],
  ['bpo1Time', Hardfork.Bpo1],
  ['bpo2Time', Hardfork.Bpo2],
  ['bpo3Time', Hardfork.Bpo3],
  ['bpo4Time', Hardfork.Bpo4],
  ['bpo5Time', Hardfork.Bpo5],
] as const
export type TimeFork = (typeof TIME_FORKS)[number][0]

/** Forks that geth allows to be left out of the ordering check (optional in geth's CheckConfigForkOrder). */
const OPTIONAL_FORKS = new Set<string>(['daoForkBlock', 'muirGlacierBlock', 'arrowGlacierBlock', 'grayGlacierBlock', 'mergeNetsplitBlock', 'bpo1Time', 'bpo2Time', 'bpo3Time', 'bpo4Time', 'bpo5Time'])

const DEFAULT_CLIQUE_EPOCH = 30000
/** geth params.InitialBaseFee */
export const INITIAL_BASE_FEE = 1_000_000_000n
/** geth params.GenesisGasLimit, params.GenesisDifficulty */
const DEFAULT_GAS_LIMIT = 4712388n
const DEFAULT_DIFFICULTY = 131072n

export class GenesisError extends Error {
  constructor(message: string) {
    super(`invalid genesis: ${message}`)
    this.name = 'GenesisError'
  }
}

type Json = Record<string, unknown>

/** Parses and checks a geth genesis.json (as text or parsed object). */
export function parseGenesis(input: string | unknown): Genesis {
  let json: unknown = input
  if (typeof input === 'string') {
    try {
      json = JSON.parse(input)
    } catch (err) {
      throw new GenesisError(`not JSON: ${(err as Error).message}`)
    }
  }
  if (!isObject(json)) throw new GenesisError('expected a JSON object')
  if (!isObject(json.config)) throw new GenesisError('missing "config"')
  const config = parseChainParams(json.config)

  const london = config.blockForks.londonBlock
  const g: Genesis = {
    config,
    nonce: optQuantity(json, 'nonce', 'nonce') ?? 0n,
    timestamp: optQuantity(json, 'timestamp', 'timestamp') ?? 0n,
    extraData: optBytes(json, 'extraData', 'extraData') ?? new Uint8Array(),
    gasLimit: optQuantity(json, 'gasLimit', 'gasLimit') ?? DEFAULT_GAS_LIMIT,
    difficulty: optQuantity(json, 'difficulty', 'difficulty') ?? (config.ethash || config.clique === undefined ? DEFAULT_DIFFICULTY : 1n),
    mixHash: optFixedBytes(json, 'mixHash', 32, 'mixHash') ?? new Uint8Array(32),
    coinbase: optFixedBytes(json, 'coinbase', 20, 'coinbase') ?? new Uint8Array(20),
    number: optQuantity(json, 'number', 'number') ?? 0n,
    gasUsed: optQuantity(json, 'gasUsed', 'gasUsed') ?? 0n,
    parentHash: optFixedBytes(json, 'parentHash', 32, 'parentHash') ?? new Uint8Array(32),
    alloc: parseAlloc(json.alloc),
  }
  if (g.nonce >= 1n << 64n) throw new GenesisError('nonce: exceeds 64 bits')
  if (g.extraData.length > 0 && config.clique !== undefined && g.extraData.length < 32 + 65) {
    throw new GenesisError(`extraData: a Clique genesis needs 32 bytes vanity + signers + 65 bytes seal, got ${g.extraData.length} bytes`)
  }
  if (london === 0n) g.baseFeePerGas = optQuantity(json, 'baseFeePerGas', 'baseFeePerGas') ?? (config.zeroBaseFee ? 0n : INITIAL_BASE_FEE)
  else if (json.baseFeePerGas !== undefined && json.baseFeePerGas !== null) g.baseFeePerGas = optQuantity(json, 'baseFeePerGas', 'baseFeePerGas')
  const excess = optQuantity(json, 'excessBlobGas', 'excessBlobGas')
  if (excess !== undefined) g.excessBlobGas = excess
  const blobUsed = optQuantity(json, 'blobGasUsed', 'blobGasUsed')
  if (blobUsed !== undefined) g.blobGasUsed = blobUsed
  if (g.number !== 0n) throw new GenesisError('number: a genesis block must be block 0')
  if (config.zeroBaseFee && g.baseFeePerGas !== 0n) {
    throw new GenesisError(`baseFeePerGas: must be 0 when config.zeroBaseFee is true, got ${g.baseFeePerGas}`)
  }
  return g
}

function parseChainParams(c: Json): ChainParams {
  if (c.chainId === undefined || c.chainId === null) throw new GenesisError('config.chainId is missing')
  const chainId = quantity(c.chainId, 'config.chainId')
  if (chainId === 0n) throw new GenesisError('config.chainId must not be 0')

  const blockForks: ChainParams['blockForks'] = {}
  for (const [key] of BLOCK_FORKS) {
    const v = c[key]
    if (v !== undefined && v !== null) blockForks[key] = quantity(v, `config.${key}`)
  }
  const timeForks: ChainParams['timeForks'] = {}
  for (const [key] of TIME_FORKS) {
    const v = c[key]
    if (v !== undefined && v !== null) timeForks[key] = quantity(v, `config.${key}`)
  }
  checkForkOrder(blockForks, timeForks)
  if (blockForks.eip155Block !== blockForks.eip158Block) {
    throw new GenesisError('config.eip155Block and config.eip158Block must be equal (both are Spurious Dragon)')
  }

  let clique: CliqueParams | undefined
  if (c.clique !== undefined && c.clique !== null) {
    if (!isObject(c.clique)) throw new GenesisError('config.clique must be an object')
    const period = c.clique.period ?? c.clique.blockperiodseconds ?? 0
    const epoch = c.clique.epoch ?? c.clique.epochlength ?? 0
    const p = Number(quantity(period, 'config.clique.period'))
    const e = Number(quantity(epoch, 'config.clique.epoch'))
    const emptyBlocks = c.clique.emptyBlocks ?? true
    if (typeof emptyBlocks !== 'boolean') throw new GenesisError('config.clique.emptyBlocks must be true or false')
    clique = { period: p, epoch: e === 0 ? DEFAULT_CLIQUE_EPOCH : e, emptyBlocks }
  }
  const ethash = c.ethash !== undefined && c.ethash !== null
  if (clique !== undefined && ethash) throw new GenesisError('config has both clique and ethash engines')

  const blobSchedule: ChainParams['blobSchedule'] = {}
  if (c.blobSchedule !== undefined && c.blobSchedule !== null) {
    if (!isObject(c.blobSchedule)) throw new GenesisError('config.blobSchedule must be an object')
    for (const [fork, v] of Object.entries(c.blobSchedule)) {
      if (!isObject(v)) throw new GenesisError(`config.blobSchedule.${fork} must be an object`)
      const field = (k: string) => Number(quantity(v[k], `config.blobSchedule.${fork}.${k}`))
      blobSchedule[fork] = { target: field('target'), max: field('max'), baseFeeUpdateFraction: field('baseFeeUpdateFraction') }
    }
  }

  const zeroBaseFee = c.zeroBaseFee ?? false
  if (typeof zeroBaseFee !== 'boolean') throw new GenesisError('config.zeroBaseFee must be true or false')
  if (zeroBaseFee) {
    // cairn seals only Clique chains, and ethereumjs insists on 1 gwei for a London block after genesis
    if (clique === undefined) throw new GenesisError('config.zeroBaseFee needs a Clique chain (config.clique)')
    if (blockForks.londonBlock !== 0n) throw new GenesisError('config.zeroBaseFee needs config.londonBlock 0 (EIP-1559 from genesis)')
  }

  const ttd = c.terminalTotalDifficulty
  const params: ChainParams = { chainId, blockForks, timeForks, ethash, blobSchedule, zeroBaseFee, raw: c }
  if (ttd !== undefined && ttd !== null) params.terminalTotalDifficulty = quantity(ttd, 'config.terminalTotalDifficulty')
  if (clique !== undefined) params.clique = clique
  if (typeof c.depositContractAddress === 'string') params.depositContractAddress = fixedBytes(c.depositContractAddress, 20, 'config.depositContractAddress')
  return params
}

/** Mirrors geth's CheckConfigForkOrder: a scheduled fork may not follow an unscheduled one, nor come earlier. */
function checkForkOrder(blockForks: ChainParams['blockForks'], timeForks: ChainParams['timeForks']): void {
  let last: { name: string; value: bigint | undefined } | undefined
  const check = (name: string, value: bigint | undefined) => {
    if (last !== undefined) {
      if (last.value === undefined && value !== undefined) {
        throw new GenesisError(`unsupported fork ordering: ${last.name} not enabled, but ${name} enabled at ${value}`)
      }
      if (last.value !== undefined && value !== undefined && last.value > value) {
        throw new GenesisError(`unsupported fork ordering: ${last.name} enabled at ${last.value}, but ${name} enabled at ${value}`)
      }
    }
    if (!OPTIONAL_FORKS.has(name) || value !== undefined) last = { name, value }
  }
  for (const [key] of BLOCK_FORKS) check(key, blockForks[key])
  // timestamp forks are ordered among themselves; geth compares them separately from block forks
  last = undefined
  for (const [key] of TIME_FORKS) check(key, timeForks[key])
}

function parseAlloc(alloc: unknown): GenesisAccount[] {
  if (alloc === undefined || alloc === null) return []
  if (!isObject(alloc)) throw new GenesisError('alloc must be an object of address -> account')
  const out: GenesisAccount[] = []
  const seen = new Set<string>()
  for (const [addr, acc] of Object.entries(alloc)) {
    const where = `alloc[${addr}]`
    const address = fixedBytes(addr.startsWith('0x') || addr.startsWith('0X') ? addr : `0x${addr}`, 20, where)
    const key = addr.toLowerCase().replace(/^0x/, '')
    if (seen.has(key)) throw new GenesisError(`${where}: duplicate address`)
    seen.add(key)
    if (!isObject(acc)) throw new GenesisError(`${where} must be an object`)
    const storage: GenesisAccount['storage'] = []
    if (acc.storage !== undefined && acc.storage !== null) {
      if (!isObject(acc.storage)) throw new GenesisError(`${where}.storage must be an object`)
      for (const [k, v] of Object.entries(acc.storage)) {
        storage.push([hash32(k, `${where}.storage key`), hash32(v, `${where}.storage[${k}]`)])
      }
    }
    out.push({
      address,
      balance: acc.balance === undefined ? 0n : quantity(acc.balance, `${where}.balance`),
      nonce: acc.nonce === undefined ? 0n : quantity(acc.nonce, `${where}.nonce`),
      code: acc.code === undefined || acc.code === null ? new Uint8Array() : bytes(acc.code, `${where}.code`),
      storage,
    })
  }
  return out
}

/**
 * Builds the ethereumjs Common for a genesis. Deviations from ethereumjs's own geth-genesis parser, each needed
 * to follow geth:
 * - a Clique chain stays proof-of-authority: terminalTotalDifficulty and post-merge forks of a Clique genesis that
 *   did merge (Goerli's) are ignored, as a Clique-only node must; on a cairn Clique chain without TTD, Shanghai and
 *   later forks activate on Clique by timestamp;
 * - blob parameters of BPO forks are given under the names Common reads for them (target/max), which
 *   ethereumjs's parser does not do.
 */
export function buildCommon(genesis: Genesis, customCrypto?: CustomCrypto): Common {
  const cfg = genesis.config
  const cliqueMerged = cfg.clique !== undefined && cfg.terminalTotalDifficulty !== undefined
  const hardforks: HardforkTransitionConfig[] = [{ name: Hardfork.Chainstart, block: 0 }]
  const seen = new Set<string>()
  for (const [key, hf] of BLOCK_FORKS) {
    const at = cfg.blockForks[key]
    if (at === undefined || seen.has(hf) || key === 'mergeNetsplitBlock') continue
    seen.add(hf)
    hardforks.push({ name: hf, block: Number(at) })
  }
  const postMerge = !cliqueMerged && cfg.clique === undefined && cfg.terminalTotalDifficulty !== undefined
  if (postMerge) {
    // The merge block is only known from the chain's total difficulty; geth records it as mergeNetsplitBlock.
    // Without one, a TTD of 0 (or ...Passed) means merged at genesis.
    const mergeAt = cfg.blockForks.mergeNetsplitBlock ?? (cfg.terminalTotalDifficulty === 0n || cfg.raw.terminalTotalDifficultyPassed === true ? 0n : undefined)
    if (mergeAt === undefined) {
      throw new GenesisError('config.terminalTotalDifficulty without mergeNetsplitBlock: cairn needs the merge block number (set mergeNetsplitBlock)')
    }
    hardforks.push({ name: Hardfork.Paris, block: Number(mergeAt) })
    hardforks.push({ name: Hardfork.MergeNetsplitBlock, block: Number(mergeAt) })
  }
  if (!cliqueMerged) {
    for (const [key, hf] of TIME_FORKS) {
      const at = cfg.timeForks[key]
      if (at === undefined) continue
      // ethereumjs treats a timestamp fork at the genesis timestamp as active from block 0
      hardforks.push({ name: hf, block: null, timestamp: at <= genesis.timestamp ? 0 : Number(at) })
    }
  }

  const chain: ChainConfig = {
    name: `cairn-${cfg.chainId}`,
    chainId: cfg.chainId <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(cfg.chainId) : cfg.chainId.toString(),
    defaultHardfork: hardforks[hardforks.length - 1].name,
    genesis: {
      timestamp: hex(genesis.timestamp),
      gasLimit: hex(genesis.gasLimit),
      difficulty: hex(genesis.difficulty),
      nonce: `0x${genesis.nonce.toString(16).padStart(16, '0')}`,
      extraData: `0x${Buffer.from(genesis.extraData).toString('hex')}` as const,
      ...(genesis.baseFeePerGas !== undefined ? { baseFeePerGas: hex(genesis.baseFeePerGas) } : {}),
    },
    hardforks,
    bootstrapNodes: [],
    consensus:
      cfg.clique !== undefined
        ? { type: 'poa', algorithm: 'clique', clique: { period: cfg.clique.period, epoch: cfg.clique.epoch, ...(cfg.zeroBaseFee ? { zeroBaseFee: true } : {}) } }
        : { type: 'pow', algorithm: 'ethash', ethash: {} },
    ...(cfg.depositContractAddress !== undefined ? { depositContractAddress: `0x${Buffer.from(cfg.depositContractAddress).toString('hex')}` } : {}),
  }
  const opts = { hardfork: Hardfork.Chainstart, ...(customCrypto !== undefined ? { customCrypto } : {}) }
  const plain = new ChainCommon({ chain, ...opts })
  if (Object.keys(cfg.blobSchedule).length === 0) return plain
  return new ChainCommon({ chain: { ...chain, customHardforks: blobScheduleForks(plain, cfg.blobSchedule) }, ...opts })
}

/**
 * Whether a header built with `common` has a zero base fee by rule (genesis `config.zeroBaseFee`). The flag travels
 * in the Common's Clique config, so the pure header rules read it from the header's own Common, as they read its forks.
 */
export function isZeroBaseFee(common: Common): boolean {
  return common.consensusAlgorithm() === 'clique' && (common.consensusConfig() as { zeroBaseFee?: unknown }).zeroBaseFee === true
}

/** The base fee of a London header's child: EIP-1559's formula, or 0 on a zeroBaseFee chain (whatever the parent used). */
export function childBaseFee(parent: BlockHeader): bigint {
  return isZeroBaseFee(parent.common) ? 0n : parent.calcNextBaseFee()
}

/**
 * geth's blobSchedule as Common fork overrides. A custom fork replaces ethereumjs's definition wholesale, so each
 * keeps the EIP list of the stock definition and only adds the blob parameters; BPO forks use the names Common reads
 * for them (target, max), which ethereumjs's own geth parser gets wrong.
 */
function blobScheduleForks(plain: Common, schedule: ChainParams['blobSchedule']): NonNullable<ChainConfig['customHardforks']> {
  const stock = new Map((plain as unknown as { HARDFORK_CHANGES: [string, HardforkDefinition][] }).HARDFORK_CHANGES)
  const out: NonNullable<ChainConfig['customHardforks']> = {}
  for (const [fork, p] of Object.entries(schedule)) {
    const base = stock.get(fork)
    if (p === undefined || base === undefined) continue
    const params = fork.startsWith('bpo')
      ? { target: p.target, max: p.max, blobGasPriceUpdateFraction: p.baseFeeUpdateFraction }
      : { targetBlobGasPerBlock: p.target * BLOB_GAS_PER_BLOB, maxBlobGasPerBlock: p.max * BLOB_GAS_PER_BLOB, blobGasPriceUpdateFraction: p.baseFeeUpdateFraction }
    out[fork] = { ...base, params: { ...base.params, ...params } } as never
  }
  return out
}

type HardforkDefinition = { eips?: number[]; params?: Record<string, unknown> }
const BLOB_GAS_PER_BLOB = 131072

// ---- hex helpers, strict like geth's JSON decoding, naming the field on error

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function hex(v: bigint): `0x${string}` {
  return `0x${v.toString(16)}`
}

/** geth's math.HexOrDecimal256 / HexOrDecimal64: a JSON number, a decimal string or a 0x-hex string. */
function quantity(v: unknown, field: string): bigint {
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new GenesisError(`${field}: ${v} is not a non-negative integer`)
    return BigInt(v)
  }
  if (typeof v === 'string') {
    if (/^0[xX][0-9a-fA-F]+$/.test(v)) return BigInt(v)
    if (/^0[xX]$/.test(v)) return 0n
    if (/^[0-9]+$/.test(v)) return BigInt(v)
    throw new GenesisError(`${field}: invalid number ${JSON.stringify(v)}`)
  }
  throw new GenesisError(`${field}: expected a number or hex string, got ${JSON.stringify(v)}`)
}

function optQuantity(o: Json, key: string, field: string): bigint | undefined {
  const v = o[key]
  return v === undefined || v === null ? undefined : quantity(v, field)
}

function bytes(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string') throw new GenesisError(`${field}: expected a hex string`)
  const s = v === '' ? '0x' : v
  if (!/^0[xX]/.test(s)) throw new GenesisError(`${field}: hex string without 0x prefix`)
  const body = s.slice(2)
  if (body.length % 2 !== 0) throw new GenesisError(`${field}: hex string of odd length`)
  if (!/^[0-9a-fA-F]*$/.test(body)) throw new GenesisError(`${field}: invalid hex string`)
  return Uint8Array.from(Buffer.from(body, 'hex'))
}

function optBytes(o: Json, key: string, field: string): Uint8Array | undefined {
  const v = o[key]
  return v === undefined || v === null ? undefined : bytes(v, field)
}

function fixedBytes(v: unknown, len: number, field: string): Uint8Array {
  const b = bytes(v, field)
  if (b.length !== len) throw new GenesisError(`${field}: expected ${len} bytes, got ${b.length}`)
  return b
}

function optFixedBytes(o: Json, key: string, len: number, field: string): Uint8Array | undefined {
  const v = o[key]
  return v === undefined || v === null ? undefined : fixedBytes(v, len, field)
}

/** Storage keys and values: geth accepts short hex and left-pads to 32 bytes. */
function hash32(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !isHexString(v.startsWith('0x') ? v : `0x${v}`)) throw new GenesisError(`${field}: invalid hex`)
  let body = v.replace(/^0x/, '')
  if (body.length > 64) throw new GenesisError(`${field}: longer than 32 bytes`)
  body = body.padStart(64, '0')
  return Uint8Array.from(Buffer.from(body, 'hex'))
}
