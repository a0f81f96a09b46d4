import type { Common } from '@ethereumjs/common'

/** EIP-2124 fork identifier: CRC32 of the genesis hash and every passed fork, and the next scheduled fork (0: none). */
export interface ForkId {
  hash: Uint8Array
  next: bigint
}

/** The fork schedule a fork id is computed from: block forks then timestamp forks, each ascending and unique. */
export interface ForkSchedule {
  genesisHash: Uint8Array
  blocks: bigint[]
  times: bigint[]
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** IEEE CRC32, continued from `crc` (the checksum of the bytes before `data`), as Go's crc32.Update. */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8)
  return ~c >>> 0
}

/**
 * The forks of a Common as geth's forkid.gatherForks takes them: block numbers above 0, then timestamps after the
 * genesis time; duplicates (several forks at one block) count once.
 */
export function forkSchedule(common: Common, genesisHash: Uint8Array, genesisTime: bigint): ForkSchedule {
  const blocks = new Set<bigint>()
  const times = new Set<bigint>()
  for (const hf of common.hardforks()) {
    if (hf.block !== null && hf.block !== undefined) {
      if (hf.block > 0) blocks.add(BigInt(hf.block))
    } else if (hf.timestamp !== undefined && BigInt(hf.timestamp) > genesisTime) {
      times.add(BigInt(hf.timestamp))
    }
  }
  const asc = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0)
  return { genesisHash, blocks: [...blocks].sort(asc), times: [...times].sort(asc) }
}

/** Fork hashes after each fork: sums[0] is the genesis checksum, sums[i] the one after the i-th fork. */
function checksums(schedule: ForkSchedule): { forks: bigint[]; sums: number[] } {
  const forks = [...schedule.blocks, ...schedule.times]
  const sums = [crc32(schedule.genesisHash)]
  for (const fork of forks) sums.push(crc32(uint64(fork), sums[sums.length - 1]))
  return { forks, sums }
}

/** The fork id of a node whose head is at `headNumber` / `headTime`. */
export function forkIdAt(schedule: ForkSchedule, headNumber: bigint, headTime: bigint): ForkId {
  const { forks, sums } = checksums(schedule)
  const nBlocks = schedule.blocks.length
  let passed = 0
  while (passed < forks.length && (passed < nBlocks ? forks[passed] <= headNumber : forks[passed] <= headTime)) passed++
  return { hash: uint32(sums[passed]), next: passed < forks.length ? forks[passed] : 0n }
}

/**
 * EIP-2124 validation of a remote fork id against the local schedule and head. Returns undefined when the peer is
 * compatible, else why not.
 */
export function checkForkId(schedule: ForkSchedule, headNumber: bigint, headTime: bigint, remote: ForkId): string | undefined {
  const { forks, sums } = checksums(schedule)
  const nBlocks = schedule.blocks.length
  const remoteSum = remote.hash.length === 4 ? new DataView(remote.hash.buffer, remote.hash.byteOffset, 4).getUint32(0) : -1
  const passedAt = (i: number, n: bigint) => (i < nBlocks ? n <= headNumber : n <= headTime)
  for (let i = 0; i <= forks.length; i++) {
    // skip the forks this node has passed: sums[i] is the local fork hash once forks[i] (if any) is ahead
    if (i < forks.length && passedAt(i, forks[i])) continue
    if (sums[i] === remoteSum) {
      // rule 1: same fork; the peer's announced next fork must not be one this node has already passed
      if (remote.next !== 0n && isPassed(remote.next, headNumber, headTime)) return `local head is past the remote's next fork ${remote.next}`
      return undefined
    }
    // rule 2: the peer is behind on a fork this node knows; its next fork must be the one that followed
    for (let j = 0; j < i; j++) {
      if (sums[j] === remoteSum) return forks[j] === remote.next ? undefined : `remote is behind and announces next fork ${remote.next}, this node's is ${forks[j]}`
    }
    // rule 3: the peer is ahead on forks this node knows (it is syncing)
    for (let j = i + 1; j < sums.length; j++) if (sums[j] === remoteSum) return undefined
    return `fork hash ${hex(remote.hash)} is not on this chain's schedule (ours is ${hex(uint32(sums[i]))})`
  }
  return 'unreachable'
}

/** geth's forkid rule 1a: a fork value above the mainnet genesis time may be a timestamp, so either head passes it. */
function isPassed(fork: bigint, headNumber: bigint, headTime: bigint): boolean {
  return fork <= headNumber || (fork > TIMESTAMP_THRESHOLD && fork <= headTime)
}

const TIMESTAMP_THRESHOLD = 1_438_269_973n

function uint64(n: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, n)
  return b
}

function uint32(n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n)
  return b
}

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`
