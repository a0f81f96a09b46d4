/**
 * Clique voting snapshots (EIP-225), the state of authorization at one block: who may sign, who
 * signed recently, and the pending votes. `applyHeaders` replays headers on a snapshot exactly as
 * go-ethereum v1.13's consensus/clique/snapshot.go `apply` does. Snapshots are values: functions
 * here never change one, they return a new one.
 *
 * Addresses are lowercase 0x-hex (AddressHex); block numbers are JS numbers (Clique chains stay far
 * below 2^53; larger header numbers are refused with a RangeError).
 */
import type { BlockHeader } from '@ethereumjs/block'
import { bytesToHex, equalsBytes, type PrefixedHexString } from '@ethereumjs/util'

import { CliqueError, CliqueErrors } from './errors.ts'
import { type AddressHex, EXTRA_SEAL, EXTRA_VANITY, recoverSigner } from './seal.ts'

/** Epoch length geth uses when the genesis sets none (or 0). */
export const DEFAULT_EPOCH = 30000
/** Nonce of a vote to add the beneficiary as a signer. */
export const NONCE_AUTHORIZE = new Uint8Array(8).fill(0xff)
/** Nonce of a vote to drop the beneficiary (and of every block that casts no vote). */
export const NONCE_DROP = new Uint8Array(8)

const ADDRESS_LENGTH = 20
const ADDRESS = /^0x[0-9a-fA-F]{40}$/
const HASH = /^0x[0-9a-fA-F]{64}$/

/** One signer's standing vote, kept until it passes, is replaced, or an epoch ends. */
export interface Vote {
  readonly signer: AddressHex
  /** Block the vote was cast in. */
  readonly block: number
  /** Account voted on. */
  readonly address: AddressHex
  readonly authorize: boolean
}

/** Running count of the votes for one proposal; votes against it are not counted. */
export interface Tally {
  readonly authorize: boolean
  readonly votes: number
}

export interface Snapshot {
  /** Block this snapshot is the state after. */
  readonly number: number
  /** Hash of that block. */
  readonly hash: PrefixedHexString
  /** Authorized signers, ascending (byte order, which is also lowercase-hex string order). */
  readonly signers: readonly AddressHex[]
  /** Block number -> its signer, for the last floor(N/2)+1 blocks (the spam window). */
  readonly recents: ReadonlyMap<number, AddressHex>
  /** Standing votes in the order they were cast. */
  readonly votes: readonly Vote[]
  readonly tally: ReadonlyMap<AddressHex, Tally>
}

/** How `applyHeaders` learns who sealed a header; pass one bound to a SignerCache to reuse recoveries. */
export type SignerOf = (header: BlockHeader) => AddressHex

/** The epoch length to use for a configured one: 0 or absent means geth's default of 30000. */
export function effectiveEpoch(epoch: number | undefined): number {
  if (epoch === undefined || epoch === 0) return DEFAULT_EPOCH
  if (!Number.isSafeInteger(epoch) || epoch < 0) throw new RangeError(`invalid clique epoch ${epoch}`)
  return epoch
}

/** A header's number as a JS number; Clique snapshots key blocks by it. */
export function blockNumberOf(header: BlockHeader): number {
  if (header.number > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`block number ${header.number} too large`)
  return Number(header.number)
}

/** A snapshot with no votes and no recent signers, as for the genesis or a trusted checkpoint. */
export function newSnapshot(number: number, hash: string, signers: readonly string[]): Snapshot {
  if (!Number.isSafeInteger(number) || number < 0) throw new RangeError(`invalid snapshot block number ${number}`)
  return freeze({
    number,
    hash: normalizeHash(hash),
    signers: sortedUnique(signers.map(normalizeAddress)),
    recents: new Map(),
    votes: [],
    tally: new Map(),
  })
}

/**
 * The signer list a checkpoint (or genesis) header carries between the 32-byte vanity and the
 * 65-byte seal, in the order written. Throws CliqueError on a short extraData or a list whose
 * length is not a multiple of 20.
 */
export function signersFromExtraData(extraData: Uint8Array): AddressHex[] {
  if (extraData.length < EXTRA_VANITY) throw new CliqueError(CliqueErrors.missingVanity)
  if (extraData.length < EXTRA_VANITY + EXTRA_SEAL) throw new CliqueError(CliqueErrors.missingSignature)
  const list = extraData.subarray(EXTRA_VANITY, extraData.length - EXTRA_SEAL)
  if (list.length % ADDRESS_LENGTH !== 0) throw new CliqueError(CliqueErrors.invalidCheckpointSigners)
  const signers: AddressHex[] = []
  for (let i = 0; i < list.length; i += ADDRESS_LENGTH) {
    signers.push(bytesToHex(list.subarray(i, i + ADDRESS_LENGTH)) as AddressHex)
  }
  return signers
}

/** The snapshot at a genesis or trusted checkpoint header, from the signer list in its extraData. */
export function checkpointSnapshot(header: BlockHeader): Snapshot {
  return newSnapshot(blockNumberOf(header), bytesToHex(header.hash()), signersFromExtraData(header.extraData))
}

/**
 * The snapshot after `headers` (ascending, the first one the child of `snapshot`'s block). As geth:
 * - a checkpoint block (number % epoch == 0) clears votes and tally but keeps recents;
 * - each block first frees the oldest recent slot (number - limit, limit = floor(N/2)+1), then
 *   refuses a signer that is not authorized ('unauthorized signer') or still in recents
 *   ('recently signed');
 * - a signer's new block discards its previous vote on the same beneficiary; the nonce then casts
 *   a vote (0xff..ff add, 0x00..00 drop) unless it is senseless (adding a signer, dropping a
 *   non-signer); any other nonce is 'vote nonce not 0x00..0 or 0xff..f';
 * - if the beneficiary's tally exceeds N/2 the change happens: a dropped signer's votes are
 *   uncast and the recent window shrinks; all votes on the beneficiary are discarded.
 * Also refuses ('invalid voting chain') headers that are not contiguous or not linked by parent
 * hash to the snapshot's block. `epoch` 0 means 30000.
 */
export function applyHeaders(
  snapshot: Snapshot,
  headers: readonly BlockHeader[],
  epoch: number,
  signerOf: SignerOf = (header) => recoverSigner(header),
): Snapshot {
  if (headers.length === 0) return snapshot
  const epochLength = effectiveEpoch(epoch)
  const hashes = checkVotingChain(snapshot, headers)

  const signers = new Set(snapshot.signers)
  const recents = new Map(snapshot.recents)
  const tally = new Map(snapshot.tally)
  let votes = [...snapshot.votes]

  for (const header of headers) {
    const number = blockNumberOf(header)
    if (number % epochLength === 0) {
      votes = []
      tally.clear()
    }
    const limit = Math.floor(signers.size / 2) + 1
    if (number >= limit) recents.delete(number - limit)

    const signer = signerOf(header)
    if (!signers.has(signer)) throw new CliqueError(CliqueErrors.unauthorizedSigner)
    for (const recent of recents.values()) {
      if (recent === signer) throw new CliqueError(CliqueErrors.recentlySigned)
    }
    recents.set(number, signer)

    const target = header.coinbase.toString() as AddressHex
    const previous = votes.findIndex((vote) => vote.signer === signer && vote.address === target)
    if (previous >= 0) {
      uncast(tally, votes[previous])
      votes.splice(previous, 1)
    }
    const authorize = voteOf(header.nonce)
    if (validVoteIn(signers, target, authorize)) {
      const current = tally.get(target)
      tally.set(target, { authorize: current?.authorize ?? authorize, votes: (current?.votes ?? 0) + 1 })
      votes.push({ signer, block: number, address: target, authorize })
    }

    const passed = tally.get(target)
    if (passed !== undefined && passed.votes > Math.floor(signers.size / 2)) {
      if (passed.authorize) {
        signers.add(target)
      } else {
        signers.delete(target)
        const shrunk = Math.floor(signers.size / 2) + 1
        if (number >= shrunk) recents.delete(number - shrunk)
        votes = votes.filter((vote) => {
          if (vote.signer !== target) return true
          uncast(tally, vote)
          return false
        })
      }
      votes = votes.filter((vote) => vote.address !== target)
      tally.delete(target)
    }
  }
  return freeze({
    number: snapshot.number + headers.length,
    hash: hashes[hashes.length - 1],
    signers: sortedUnique([...signers]),
    recents,
    votes,
    tally,
  })
}

/** floor(N/2)+1: a signer may seal at most one of this many consecutive blocks. */
export function signerLimit(snapshot: Snapshot): number {
  return Math.floor(snapshot.signers.length / 2) + 1
}

export function isAuthorized(snapshot: Snapshot, signer: string): boolean {
  return snapshot.signers.includes(normalizeAddress(signer))
}

/** Whether `signer` is in turn for block `number`: signer == sortedSigners[number % N]. */
export function isInTurn(snapshot: Snapshot, number: number, signer: string): boolean {
  const count = snapshot.signers.length
  return count > 0 && snapshot.signers[number % count] === normalizeAddress(signer)
}

/** Whether `signer` sealed one of the blocks still in the recent window for block `number`. */
export function recentlySigned(snapshot: Snapshot, signer: string, number: number): boolean {
  const address = normalizeAddress(signer)
  const oldestBlocking = number - signerLimit(snapshot)
  for (const [seen, recent] of snapshot.recents) {
    if (recent === address && seen > oldestBlocking) return true
  }
  return false
}

/** Whether `signer` may seal block `number` on top of `snapshot` (the state at its parent). */
export function canSeal(snapshot: Snapshot, signer: string, number: number): boolean {
  return isAuthorized(snapshot, signer) && !recentlySigned(snapshot, signer, number)
}

/** Whether a vote would count (geth's validVote): add a non-signer or drop a signer. */
export function validVote(snapshot: Snapshot, address: string, authorize: boolean): boolean {
  return validVoteIn(new Set(snapshot.signers), normalizeAddress(address), authorize)
}

/**
 * Check a proposal before this node starts voting for it. Throws CliqueError 'refusing to vote out
 * the last signer' for dropping the only signer, which would stop the chain for good. (Blocks from
 * others that do so are still valid, as in geth.)
 */
export function checkProposal(snapshot: Snapshot, address: string, authorize: boolean): void {
  const target = normalizeAddress(address)
  if (!authorize && snapshot.signers.length === 1 && snapshot.signers[0] === target) {
    throw new CliqueError(CliqueErrors.dropLastSigner)
  }
}

/** A snapshot as geth's clique_getSnapshot returns it and stores it (JSON object form). */
export interface SnapshotJSON {
  number: number
  hash: string
  signers: Record<string, Record<string, never>>
  recents: Record<string, string>
  votes: { signer: string; block: number; address: string; authorize: boolean }[]
  tally: Record<string, { authorize: boolean; votes: number }>
}

export function snapshotToJSON(snapshot: Snapshot): SnapshotJSON {
  return {
    number: snapshot.number,
    hash: snapshot.hash,
    signers: Object.fromEntries(snapshot.signers.map((signer) => [signer, {}])),
    recents: Object.fromEntries([...snapshot.recents].map(([block, signer]) => [String(block), signer])),
    votes: snapshot.votes.map(voteJSON),
    tally: Object.fromEntries([...snapshot.tally].map(([address, { authorize, votes }]) => [address, { authorize, votes }])),
  }
}

/**
 * Text for persistence, byte for byte what geth's json.Marshal writes for the same snapshot: map
 * keys sorted as strings (so recents "10" comes before "9"), except that no votes is [] where geth
 * may write null. decodeSnapshot(encodeSnapshot(s)) equals s, and encoding that again gives the same text.
 */
export function encodeSnapshot(snapshot: Snapshot): string {
  const object = (entries: [string, string][]) =>
    `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, value]) => `${JSON.stringify(key)}:${value}`)
      .join(',')}}`
  const signers = object(snapshot.signers.map((signer) => [signer, '{}']))
  const recents = object([...snapshot.recents].map(([block, signer]) => [String(block), JSON.stringify(signer)]))
  const tally = object(
    [...snapshot.tally].map(([address, { authorize, votes }]) => [address, JSON.stringify({ authorize, votes })]),
  )
  const votes = JSON.stringify(snapshot.votes.map(voteJSON))
  return `{"number":${snapshot.number},"hash":${JSON.stringify(snapshot.hash)},"signers":${signers},"recents":${recents},"votes":${votes},"tally":${tally}}`
}

export function decodeSnapshot(text: string): Snapshot {
  return snapshotFromJSON(JSON.parse(text))
}

/** Parse and check a snapshot JSON object (geth's or ours; geth's "votes": null is accepted). */
export function snapshotFromJSON(json: unknown): Snapshot {
  const root = record(json, 'snapshot')
  const number = nonNegativeInteger(root.number, 'number')
  if (typeof root.hash !== 'string' || !HASH.test(root.hash)) invalid('hash')
  const signers = Object.keys(record(root.signers, 'signers')).map(normalizeAddress)
  const recents = new Map<number, AddressHex>()
  for (const [block, signer] of Object.entries(record(root.recents, 'recents'))) {
    if (!/^(0|[1-9][0-9]*)$/.test(block)) invalid(`recents key ${block}`)
    recents.set(nonNegativeInteger(Number(block), 'recents key'), normalizeAddress(stringField(signer, 'recents')))
  }
  const votes: Vote[] = []
  if (root.votes !== null) {
    if (!Array.isArray(root.votes)) invalid('votes')
    for (const entry of root.votes) {
      const vote = record(entry, 'vote')
      votes.push({
        signer: normalizeAddress(stringField(vote.signer, 'vote signer')),
        block: nonNegativeInteger(vote.block, 'vote block'),
        address: normalizeAddress(stringField(vote.address, 'vote address')),
        authorize: booleanField(vote.authorize, 'vote authorize'),
      })
    }
  }
  const tally = new Map<AddressHex, Tally>()
  for (const [address, entry] of Object.entries(record(root.tally, 'tally'))) {
    const fields = record(entry, 'tally entry')
    tally.set(normalizeAddress(address), {
      authorize: booleanField(fields.authorize, 'tally authorize'),
      votes: nonNegativeInteger(fields.votes, 'tally votes'),
    })
  }
  return freeze({
    number,
    hash: normalizeHash(root.hash),
    signers: sortedUnique(signers),
    recents,
    votes,
    tally,
  })
}

function voteJSON(vote: Vote): SnapshotJSON['votes'][number] {
  return { signer: vote.signer, block: vote.block, address: vote.address, authorize: vote.authorize }
}

/** Hashes of `headers`, after checking they continue `snapshot` one block at a time. */
function checkVotingChain(snapshot: Snapshot, headers: readonly BlockHeader[]): PrefixedHexString[] {
  const hashes: PrefixedHexString[] = []
  let parentNumber = snapshot.number
  let parentHash = snapshot.hash
  for (const header of headers) {
    if (blockNumberOf(header) !== parentNumber + 1 || bytesToHex(header.parentHash) !== parentHash) {
      throw new CliqueError(CliqueErrors.invalidVotingChain)
    }
    parentNumber += 1
    parentHash = bytesToHex(header.hash())
    hashes.push(parentHash)
  }
  return hashes
}

function voteOf(nonce: Uint8Array): boolean {
  if (equalsBytes(nonce, NONCE_AUTHORIZE)) return true
  if (equalsBytes(nonce, NONCE_DROP)) return false
  throw new CliqueError(CliqueErrors.invalidVote)
}

function validVoteIn(signers: ReadonlySet<AddressHex>, address: AddressHex, authorize: boolean): boolean {
  return signers.has(address) !== authorize
}

/** Take back a counted vote (geth's uncast): only if a tally for the same direction exists. */
function uncast(tally: Map<AddressHex, Tally>, vote: Vote): void {
  const current = tally.get(vote.address)
  if (current === undefined || current.authorize !== vote.authorize) return
  if (current.votes > 1) tally.set(vote.address, { authorize: current.authorize, votes: current.votes - 1 })
  else tally.delete(vote.address)
}

function sortedUnique(addresses: AddressHex[]): AddressHex[] {
  return [...new Set(addresses)].sort()
}

function normalizeAddress(address: string): AddressHex {
  if (!ADDRESS.test(address)) throw new TypeError(`invalid address ${address}`)
  return address.toLowerCase() as AddressHex
}

function normalizeHash(hash: string): PrefixedHexString {
  if (!HASH.test(hash)) throw new TypeError(`invalid block hash ${hash}`)
  return hash.toLowerCase() as PrefixedHexString
}

function freeze(snapshot: Snapshot): Snapshot {
  Object.freeze(snapshot.signers)
  for (const vote of snapshot.votes) Object.freeze(vote)
  Object.freeze(snapshot.votes)
  return Object.freeze(snapshot)
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(what)
  return value as Record<string, unknown>
}

function stringField(value: unknown, what: string): string {
  if (typeof value !== 'string') invalid(what)
  return value
}

function booleanField(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') invalid(what)
  return value
}

function nonNegativeInteger(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) invalid(what)
  return value
}

function invalid(what: string): never {
  throw new TypeError(`invalid snapshot JSON: bad ${what}`)
}
