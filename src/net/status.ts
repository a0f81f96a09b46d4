import { RLP } from '@ethereumjs/rlp'
import { bigIntToUnpaddedBytes, bytesToBigInt, bytesToHex, equalsBytes } from '@ethereumjs/util'

import { checkForkId } from './forkid.ts'
import type { ForkId, ForkSchedule } from './forkid.ts'

/** Version of the status message; a peer speaking another is refused. */
export const STATUS_VERSION = 1

/** What two nodes exchange when they connect (the eth protocol's Status, over libp2p). */
export interface Status {
  version: number
  chainId: bigint
  networkId: bigint
  genesisHash: Uint8Array
  forkId: ForkId
  headHash: Uint8Array
  headNumber: bigint
  td: bigint
}

export function encodeStatus(s: Status): Uint8Array {
  const int = bigIntToUnpaddedBytes
  return RLP.encode([int(BigInt(s.version)), int(s.chainId), int(s.networkId), s.genesisHash, [s.forkId.hash, int(s.forkId.next)], s.headHash, int(s.headNumber), int(s.td)])
}

/** Throws on anything but a well-formed status. */
export function decodeStatus(bytes: Uint8Array): Status {
  const v = RLP.decode(bytes) as unknown
  if (!Array.isArray(v) || v.length !== 8) throw new Error('status: expected a list of 8 items')
  const [version, chainId, networkId, genesisHash, forkId, headHash, headNumber, td] = v as unknown[]
  const bytesOf = (x: unknown, what: string, len?: number): Uint8Array => {
    if (!(x instanceof Uint8Array) || (len !== undefined && x.length !== len)) throw new Error(`status: bad ${what}`)
    return x
  }
  if (!Array.isArray(forkId) || forkId.length !== 2) throw new Error('status: bad fork id')
  return {
    version: Number(bytesToBigInt(bytesOf(version, 'version'))),
    chainId: bytesToBigInt(bytesOf(chainId, 'chain id')),
    networkId: bytesToBigInt(bytesOf(networkId, 'network id')),
    genesisHash: bytesOf(genesisHash, 'genesis hash', 32),
    forkId: { hash: bytesOf(forkId[0], 'fork hash', 4), next: bytesToBigInt(bytesOf(forkId[1], 'fork next')) },
    headHash: bytesOf(headHash, 'head hash', 32),
    headNumber: bytesToBigInt(bytesOf(headNumber, 'head number')),
    td: bytesToBigInt(bytesOf(td, 'total difficulty')),
  }
}

/** What must match for two nodes to share a chain; the fork id is checked against the local head. */
export type ChainIdentity = Pick<Status, 'version' | 'chainId' | 'networkId' | 'genesisHash'>

/**
 * Whether a peer's status is on this node's chain; undefined when it is, else the first value that differs
 * (ours and theirs), for the log line that explains the disconnect.
 */
export function statusMismatch(local: ChainIdentity, schedule: ForkSchedule, head: { number: bigint; timestamp: bigint }, remote: Status): string | undefined {
  if (remote.version !== local.version) return `status version: ours ${local.version}, theirs ${remote.version}`
  if (!equalsBytes(remote.genesisHash, local.genesisHash)) return `genesis: ours ${bytesToHex(local.genesisHash)}, theirs ${bytesToHex(remote.genesisHash)}`
  if (remote.chainId !== local.chainId) return `chain id: ours ${local.chainId}, theirs ${remote.chainId}`
  if (remote.networkId !== local.networkId) return `network id: ours ${local.networkId}, theirs ${remote.networkId}`
  const fork = checkForkId(schedule, head.number, head.timestamp, remote.forkId)
  if (fork !== undefined) return `fork id: ${fork}`
  return undefined
}
