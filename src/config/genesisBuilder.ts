import { readFileSync } from 'node:fs'

import { isValidChecksumAddress, toChecksumAddress } from '@ethereumjs/util'

/** Forks a built Clique genesis can start at; each one also activates every fork before it, all at genesis. */
export const CLIQUE_GENESIS_FORKS = ['london', 'shanghai', 'cancun', 'prague'] as const
export type CliqueGenesisFork = (typeof CLIQUE_GENESIS_FORKS)[number]

export interface CliqueGenesisOptions {
  chainId: number
  /** seconds between blocks; 0 seals only when transactions wait */
  period: number
  /** blocks between Clique checkpoints (geth's default is 30000) */
  epoch: number
  /** the initial Clique signers, 0x-prefixed; written sorted, as Clique checkpoint headers list them */
  signers: readonly string[]
  /** prefunded accounts, written in this order after the fork's system contracts */
  alloc: readonly { address: string; balance: bigint }[]
  fork: CliqueGenesisFork
  gasLimit: bigint
  /** false forbids blocks without transactions (a cairn extension; geth ignores the field) */
  emptyBlocks: boolean
  /** a free-gas chain: `config.zeroBaseFee` (Besu's field) and a genesis base fee of 0 */
  freeGas?: boolean
}

/** An option that cannot make a valid genesis; the message names the option and the value. */
export class GenesisOptionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'GenesisOptionError'
  }
}

export const DEFAULT_CLIQUE_EPOCH = 30000
/** A sanity bound: Clique chains run with periods of seconds, so a larger value is almost surely a typo. */
export const MAX_CLIQUE_PERIOD = 86400
/** geth's params.MinGasLimit and MaxGasLimit */
export const MIN_GAS_LIMIT = 5000n
export const MAX_GAS_LIMIT = 2n ** 63n - 1n
const MAX_WEI = 2n ** 256n - 1n
/** geth's params.InitialBaseFee, the London base fee of a genesis block */
const INITIAL_BASE_FEE = 1_000_000_000n

/** geth's blob parameters per fork (EIP-4844 for Cancun, EIP-7691 for Prague). */
const BLOB_SCHEDULE = {
  cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
  prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
} as const

/** The fork whose rules call each system contract, so a genesis deploys exactly the ones its forks use. */
const SYSTEM_CONTRACT_FORKS: Record<string, CliqueGenesisFork> = {
  '0x000f3df6d732807ef1319fb7b8bb8522d0beac02': 'cancun', // EIP-4788 beacon roots
  '0x0000f90827f1c53a10cb7a02335b175320002935': 'prague', // EIP-2935 history storage
  '0x00000961ef480eb55e80d19ad83579a64c007002': 'prague', // EIP-7002 withdrawal requests
  '0x0000bbddc7ce488642fb579f8b00f3a590007251': 'prague', // EIP-7251 consolidation requests
}

interface SystemContract {
  address: string
  eip: string
  fork: CliqueGenesisFork
  code: string
  nonce: string
  balance: string
}

const SYSTEM_CONTRACTS: SystemContract[] = Object.entries(
  JSON.parse(readFileSync(new URL('../../genesis/system-contracts.json', import.meta.url), 'utf8')) as Record<string, Omit<SystemContract, 'address' | 'fork'> | string>,
).flatMap(([address, contract]) => {
  if (typeof contract === 'string') return [] // the file's "_about" note
  const fork = SYSTEM_CONTRACT_FORKS[address]
  if (fork === undefined) throw new Error(`genesis/system-contracts.json: ${address} (${contract.eip}) has no entry in SYSTEM_CONTRACT_FORKS`)
  return [{ address, fork, ...contract }]
})

/**
 * A geth-format genesis for a Clique chain: every block fork through London at block 0, the timestamp forks up
 * to `fork` at time 0 with geth's blob schedule, the system contracts those forks call, and extraData holding
 * the signers between the 32-byte vanity and the 65-byte seal. The same options always give the same file.
 */
export function buildCliqueGenesis(opts: CliqueGenesisOptions): Record<string, unknown> {
  checkOptions(opts)
  const forkIndex = CLIQUE_GENESIS_FORKS.indexOf(opts.fork)
  const active = (fork: CliqueGenesisFork) => CLIQUE_GENESIS_FORKS.indexOf(fork) <= forkIndex

  const alloc: Record<string, unknown> = {}
  const systemContracts = new Map<string, string>()
  for (const { address, eip, fork, code, nonce, balance } of SYSTEM_CONTRACTS) {
    if (!active(fork)) continue
    alloc[address] = { code, nonce, balance }
    systemContracts.set(address, eip)
  }
  for (const { address, balance } of opts.alloc) {
    const eip = systemContracts.get(address.toLowerCase())
    if (eip !== undefined) throw new GenesisOptionError(`alloc ${address}: the address holds the ${eip} system contract`)
    alloc[toChecksumAddress(address)] = { balance: `0x${balance.toString(16)}` }
  }

  const signers = opts.signers.map((s) => s.toLowerCase().slice(2)).sort()
  const clique: Record<string, unknown> = { period: opts.period, epoch: opts.epoch }
  if (!opts.emptyBlocks) clique.emptyBlocks = false
  return {
    config: {
      chainId: opts.chainId,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      ...(active('shanghai') ? { shanghaiTime: 0 } : {}),
      ...(active('cancun') ? { cancunTime: 0 } : {}),
      ...(active('prague') ? { pragueTime: 0 } : {}),
      ...(active('cancun') ? { blobSchedule: active('prague') ? BLOB_SCHEDULE : { cancun: BLOB_SCHEDULE.cancun } } : {}),
      clique,
      ...(opts.freeGas === true ? { zeroBaseFee: true } : {}),
    },
    nonce: '0x0',
    timestamp: '0x0',
    extraData: `0x${'00'.repeat(32)}${signers.join('')}${'00'.repeat(65)}`,
    gasLimit: `0x${opts.gasLimit.toString(16)}`,
    difficulty: '0x1',
    mixHash: `0x${'00'.repeat(32)}`,
    coinbase: `0x${'00'.repeat(20)}`,
    baseFeePerGas: `0x${(opts.freeGas === true ? 0n : INITIAL_BASE_FEE).toString(16)}`,
    alloc,
  }
}

function checkOptions(opts: CliqueGenesisOptions): void {
  checkInteger('chain id', opts.chainId, 1, Number.MAX_SAFE_INTEGER)
  checkInteger('period', opts.period, 0, MAX_CLIQUE_PERIOD)
  checkInteger('epoch', opts.epoch, 1, Number.MAX_SAFE_INTEGER)
  if (!CLIQUE_GENESIS_FORKS.includes(opts.fork)) {
    throw new GenesisOptionError(`unknown fork ${JSON.stringify(opts.fork)} (expected one of ${CLIQUE_GENESIS_FORKS.join(', ')})`)
  }
  if (opts.gasLimit < MIN_GAS_LIMIT || opts.gasLimit > MAX_GAS_LIMIT) {
    throw new GenesisOptionError(`gas limit ${opts.gasLimit} out of range [${MIN_GAS_LIMIT}, ${MAX_GAS_LIMIT}]`)
  }
  if (opts.signers.length === 0) throw new GenesisOptionError('no signers: a Clique chain needs at least one')
  const signers = new Set<string>()
  for (const signer of opts.signers) {
    checkAddress('signer', signer)
    if (/^0x0{40}$/.test(signer)) throw new GenesisOptionError('signer 0x0000000000000000000000000000000000000000: the zero address cannot sign')
    if (signers.has(signer.toLowerCase())) throw new GenesisOptionError(`duplicate signer ${signer}`)
    signers.add(signer.toLowerCase())
  }
  const funded = new Set<string>()
  for (const { address, balance } of opts.alloc) {
    checkAddress('alloc', address)
    if (funded.has(address.toLowerCase())) throw new GenesisOptionError(`duplicate alloc ${address}`)
    funded.add(address.toLowerCase())
    if (balance < 0n || balance > MAX_WEI) throw new GenesisOptionError(`alloc ${address}: balance ${balance} out of range [0, 2^256-1]`)
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new GenesisOptionError(`${name} ${value} out of range [${min}, ${max}]`)
}

/** A 0x-prefixed 20-byte hex address; mixed case must be a valid EIP-55 checksum, which catches typos. */
function checkAddress(role: string, address: string): void {
  if (!/^0x[0-9a-fA-F]{40}$/.test(address)) throw new GenesisOptionError(`${role} ${JSON.stringify(address)}: not a 0x-prefixed 20-byte hex address`)
  const hex = address.slice(2)
  const mixedCase = hex !== hex.toLowerCase() && hex !== hex.toUpperCase()
  if (mixedCase && !isValidChecksumAddress(address)) throw new GenesisOptionError(`${role} ${address}: bad EIP-55 checksum (write it all lowercase to skip the check)`)
}
