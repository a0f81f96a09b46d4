/**
 * EIP-7910 fork configurations (eth_config) and EIP-6122 fork ids, computed as geth's BlockChainAPI.Config and
 * forkid.NewID do from a genesis: forks named by geth's order, precompiles and system contracts per fork, the blob
 * schedule a fork runs with.
 */
import type { Common } from '@ethereumjs/common'

import { forkIdAt, forkSchedule } from '../net/forkid.ts'
import type { ForkSchedule } from '../net/forkid.ts'
import type { BlobParams, Genesis, TimeFork } from './genesis.ts'

export interface ForkConfig {
  /** 0 when the fork is active from genesis */
  activationTime: bigint
  blobSchedule: BlobParams | undefined
  chainId: bigint
  /** the 4-byte FORK_HASH */
  forkId: Uint8Array
  /** geth's precompile names → addresses */
  precompiles: [name: string, address: string][]
  systemContracts: [name: string, address: string][]
}

export interface ForkConfigs {
  current: ForkConfig | undefined
  next: ForkConfig | undefined
  last: ForkConfig | undefined
}

/** geth's time-based forks in their order (forks.Fork); Paris and earlier have no timestamp and no config. */
const TIME_FORK_ORDER: readonly TimeFork[] = ['shanghaiTime', 'cancunTime', 'pragueTime', 'osakaTime', 'bpo1Time', 'bpo2Time', 'bpo3Time', 'bpo4Time', 'bpo5Time']

/** The blobSchedule entry each fork reads, latest first: named forks after Prague carry none of their own. */
const BLOB_SCHEDULE_KEYS: readonly [TimeFork, string][] = [
  ['bpo5Time', 'bpo5'],
  ['bpo4Time', 'bpo4'],
  ['bpo3Time', 'bpo3'],
  ['bpo2Time', 'bpo2'],
  ['bpo1Time', 'bpo1'],
  ['pragueTime', 'prague'],
  ['cancunTime', 'cancun'],
]

const address = (n: number) => `0x${n.toString(16).padStart(40, '0')}`

/** vm.PrecompiledContracts{Berlin,Cancun,Prague,Osaka}, by the fork that adds them */
const PRECOMPILES: readonly [TimeFork | undefined, string, string][] = [
  [undefined, 'ECREC', address(1)],
  [undefined, 'SHA256', address(2)],
  [undefined, 'RIPEMD160', address(3)],
  [undefined, 'ID', address(4)],
  [undefined, 'MODEXP', address(5)],
  [undefined, 'BN254_ADD', address(6)],
  [undefined, 'BN254_MUL', address(7)],
  [undefined, 'BN254_PAIRING', address(8)],
  [undefined, 'BLAKE2F', address(9)],
  ['cancunTime', 'KZG_POINT_EVALUATION', address(0x0a)],
  ['pragueTime', 'BLS12_G1ADD', address(0x0b)],
  ['pragueTime', 'BLS12_G1MSM', address(0x0c)],
  ['pragueTime', 'BLS12_G2ADD', address(0x0d)],
  ['pragueTime', 'BLS12_G2MSM', address(0x0e)],
  ['pragueTime', 'BLS12_PAIRING_CHECK', address(0x0f)],
  ['pragueTime', 'BLS12_MAP_FP_TO_G1', address(0x10)],
  ['pragueTime', 'BLS12_MAP_FP2_TO_G2', address(0x11)],
  ['osakaTime', 'P256VERIFY', address(0x100)],
]

/** params.ChainConfig.ActiveSystemContracts; the deposit contract comes from the genesis */
const SYSTEM_CONTRACTS: readonly [TimeFork, string, string | undefined][] = [
  ['cancunTime', 'BEACON_ROOTS_ADDRESS', '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'],
  ['pragueTime', 'CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS', '0x0000bbddc7ce488642fb579f8b00f3a590007251'],
  ['pragueTime', 'DEPOSIT_CONTRACT_ADDRESS', undefined],
  ['pragueTime', 'HISTORY_STORAGE_ADDRESS', '0x0000f90827f1c53a10cb7a02335b175320002935'],
  ['pragueTime', 'WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS', '0x00000961ef480eb55e80d19ad83579a64c007002'],
]

const MAX_UINT64 = (1n << 64n) - 1n

/**
 * eth_config at a head of timestamp `headTime`: the fork active then, the next one and the last one scheduled (both
 * absent when no fork is scheduled after the current one). Before Shanghai, or without London, there is none.
 */
export function forkConfigs(spec: Genesis, common: Common, genesisHash: Uint8Array, headTime: bigint): ForkConfigs {
  const schedule = forkSchedule(common, genesisHash, spec.timestamp)
  const current = latestFork(spec, headTime)
  const next = current === undefined ? TIME_FORK_ORDER[0] : TIME_FORK_ORDER[TIME_FORK_ORDER.indexOf(current) + 1]
  const configs = {
    current: current && forkConfig(spec, schedule, current),
    next: next && forkConfig(spec, schedule, next),
    last: undefined as ForkConfig | undefined,
  }
  if (configs.next !== undefined) configs.last = forkConfig(spec, schedule, latestFork(spec, MAX_UINT64)!)
  return configs
}

/** ChainConfig.LatestFork: the last fork in geth's order scheduled at or before `time` (time forks need London). */
function latestFork(spec: Genesis, time: bigint): TimeFork | undefined {
  if (spec.config.blockForks.londonBlock === undefined) return undefined
  const forks = spec.config.timeForks
  return TIME_FORK_ORDER.findLast((fork) => forks[fork] !== undefined && forks[fork] <= time)
}

function forkConfig(spec: Genesis, schedule: ForkSchedule, fork: TimeFork): ForkConfig | undefined {
  const time = spec.config.timeForks[fork]
  if (time === undefined) return undefined
  const active = (since: TimeFork | undefined) => since === undefined || TIME_FORK_ORDER.indexOf(since) <= TIME_FORK_ORDER.indexOf(fork)
  const deposit = spec.config.depositContractAddress
  const blobKey = BLOB_SCHEDULE_KEYS.find(([since, key]) => active(since) && spec.config.blobSchedule[key] !== undefined)
  return {
    activationTime: spec.timestamp >= time ? 0n : time,
    blobSchedule: blobKey && spec.config.blobSchedule[blobKey[1]],
    chainId: spec.config.chainId,
    forkId: forkIdAt(schedule, MAX_UINT64, time).hash,
    precompiles: PRECOMPILES.filter(([since]) => active(since)).map(([, name, at]) => [name, at]),
    systemContracts: SYSTEM_CONTRACTS.filter(([since]) => active(since)).map(([, name, at]) => [
      name,
      at ?? (deposit === undefined ? address(0) : `0x${Buffer.from(deposit).toString('hex')}`),
    ]),
  }
}
