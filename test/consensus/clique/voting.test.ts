/**
 * The EIP-225 voting scenarios ("Test Cases" of the EIP, and geth v1.13's
 * consensus/clique/snapshot_test.go, which adds the new-batch case), run through cairn's header
 * rules and snapshot replay the way geth's tester drives its chain: named signers, one sealed
 * header per entry, each verified against the snapshot at its parent and then applied.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { BlockHeader } from '@ethereumjs/block'
import { Hardfork } from '@ethereumjs/common'
import { createZeroAddress } from '@ethereumjs/util'

import { type CliqueConfig, verifyHeader } from '../../../src/consensus/clique/rules.ts'
import {
  applyHeaders,
  checkpointSnapshot,
  decodeSnapshot,
  encodeSnapshot,
  isInTurn,
  NONCE_AUTHORIZE,
  NONCE_DROP,
  type Snapshot,
} from '../../../src/consensus/clique/snapshot.ts'
import { addressOf, cliqueCommon, extraDataWith, makeHeader, sealHeader } from './testkit.ts'

interface TesterBlock {
  /** Who seals the block. */
  signer: string
  /** Beneficiary: the account voted on, if any. */
  voted?: string
  /** Vote to add (true) or drop (false) the beneficiary. */
  auth?: boolean
  /** Signer list written into a checkpoint block. */
  checkpoint?: string[]
  /** Start a new import batch here: the snapshot is stored and reloaded, as after a restart. */
  newBatch?: boolean
}

interface VotingCase {
  name: string
  /** Blocks per epoch; unset means 30000. */
  epoch?: number
  signers: string[]
  blocks: TesterBlock[]
  /** Signers after all blocks. */
  results?: string[]
  /** Error the last block must fail with. */
  failure?: string
}

const cases: VotingCase[] = [
  { name: 'single signer, no votes cast', signers: ['A'], blocks: [{ signer: 'A' }], results: ['A'] },
  {
    name: 'single signer, voting to add two others (only accept first, second needs 2 votes)',
    signers: ['A'],
    blocks: [{ signer: 'A', voted: 'B', auth: true }, { signer: 'B' }, { signer: 'A', voted: 'C', auth: true }],
    results: ['A', 'B'],
  },
  {
    name: 'two signers, voting to add three others (only accept first two, third needs 3 votes already)',
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B', voted: 'C', auth: true },
      { signer: 'A', voted: 'D', auth: true },
      { signer: 'B', voted: 'D', auth: true },
      { signer: 'C' },
      { signer: 'A', voted: 'E', auth: true },
      { signer: 'B', voted: 'E', auth: true },
    ],
    results: ['A', 'B', 'C', 'D'],
  },
  {
    name: 'single signer, dropping itself',
    signers: ['A'],
    blocks: [{ signer: 'A', voted: 'A', auth: false }],
    results: [],
  },
  {
    name: 'two signers, actually needing mutual consent to drop either of them (not fulfilled)',
    signers: ['A', 'B'],
    blocks: [{ signer: 'A', voted: 'B', auth: false }],
    results: ['A', 'B'],
  },
  {
    name: 'two signers, actually needing mutual consent to drop either of them (fulfilled)',
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'B', auth: false },
      { signer: 'B', voted: 'B', auth: false },
    ],
    results: ['A'],
  },
  {
    name: 'three signers, two of them deciding to drop the third',
    signers: ['A', 'B', 'C'],
    blocks: [
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B', voted: 'C', auth: false },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'four signers, consensus of two not being enough to drop anyone',
    signers: ['A', 'B', 'C', 'D'],
    blocks: [
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B', voted: 'C', auth: false },
    ],
    results: ['A', 'B', 'C', 'D'],
  },
  {
    name: 'four signers, consensus of three already being enough to drop someone',
    signers: ['A', 'B', 'C', 'D'],
    blocks: [
      { signer: 'A', voted: 'D', auth: false },
      { signer: 'B', voted: 'D', auth: false },
      { signer: 'C', voted: 'D', auth: false },
    ],
    results: ['A', 'B', 'C'],
  },
  {
    name: 'authorizations are counted once per signer per target',
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B' },
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B' },
      { signer: 'A', voted: 'C', auth: true },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'authorizing multiple accounts concurrently is permitted',
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B' },
      { signer: 'A', voted: 'D', auth: true },
      { signer: 'B' },
      { signer: 'A' },
      { signer: 'B', voted: 'D', auth: true },
      { signer: 'A' },
      { signer: 'B', voted: 'C', auth: true },
    ],
    results: ['A', 'B', 'C', 'D'],
  },
  {
    name: 'deauthorizations are counted once per signer per target',
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'B', auth: false },
      { signer: 'B' },
      { signer: 'A', voted: 'B', auth: false },
      { signer: 'B' },
      { signer: 'A', voted: 'B', auth: false },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'deauthorizing multiple accounts concurrently is permitted',
    signers: ['A', 'B', 'C', 'D'],
    blocks: [
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B' },
      { signer: 'C' },
      { signer: 'A', voted: 'D', auth: false },
      { signer: 'B' },
      { signer: 'C' },
      { signer: 'A' },
      { signer: 'B', voted: 'D', auth: false },
      { signer: 'C', voted: 'D', auth: false },
      { signer: 'A' },
      { signer: 'B', voted: 'C', auth: false },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'votes from deauthorized signers are discarded immediately (deauth votes)',
    signers: ['A', 'B', 'C'],
    blocks: [
      { signer: 'C', voted: 'B', auth: false },
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B', voted: 'C', auth: false },
      { signer: 'A', voted: 'B', auth: false },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'votes from deauthorized signers are discarded immediately (auth votes)',
    signers: ['A', 'B', 'C'],
    blocks: [
      { signer: 'C', voted: 'D', auth: true },
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B', voted: 'C', auth: false },
      { signer: 'A', voted: 'D', auth: true },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'cascading changes are not allowed, only the account being voted on may change',
    signers: ['A', 'B', 'C', 'D'],
    blocks: [
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B' },
      { signer: 'C' },
      { signer: 'A', voted: 'D', auth: false },
      { signer: 'B', voted: 'C', auth: false },
      { signer: 'C' },
      { signer: 'A' },
      { signer: 'B', voted: 'D', auth: false },
      { signer: 'C', voted: 'D', auth: false },
    ],
    results: ['A', 'B', 'C'],
  },
  {
    name: 'changes reaching consensus out of bounds (via a deauth) execute on touch',
    signers: ['A', 'B', 'C', 'D'],
    blocks: [
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B' },
      { signer: 'C' },
      { signer: 'A', voted: 'D', auth: false },
      { signer: 'B', voted: 'C', auth: false },
      { signer: 'C' },
      { signer: 'A' },
      { signer: 'B', voted: 'D', auth: false },
      { signer: 'C', voted: 'D', auth: false },
      { signer: 'A' },
      { signer: 'C', voted: 'C', auth: true },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'changes reaching consensus out of bounds (via a deauth) may go out of consensus on first touch',
    signers: ['A', 'B', 'C', 'D'],
    blocks: [
      { signer: 'A', voted: 'C', auth: false },
      { signer: 'B' },
      { signer: 'C' },
      { signer: 'A', voted: 'D', auth: false },
      { signer: 'B', voted: 'C', auth: false },
      { signer: 'C' },
      { signer: 'A' },
      { signer: 'B', voted: 'D', auth: false },
      { signer: 'C', voted: 'D', auth: false },
      { signer: 'A' },
      { signer: 'B', voted: 'C', auth: true },
    ],
    results: ['A', 'B', 'C'],
  },
  {
    name: "pending votes don't survive authorization status changes",
    signers: ['A', 'B', 'C', 'D', 'E'],
    blocks: [
      { signer: 'A', voted: 'F', auth: true }, // authorize F, 3 votes needed
      { signer: 'B', voted: 'F', auth: true },
      { signer: 'C', voted: 'F', auth: true },
      { signer: 'D', voted: 'F', auth: false }, // deauthorize F, 4 votes needed (A's previous vote stays)
      { signer: 'E', voted: 'F', auth: false },
      { signer: 'B', voted: 'F', auth: false },
      { signer: 'C', voted: 'F', auth: false },
      { signer: 'D', voted: 'F', auth: true }, // almost authorize F, 2/3 votes needed
      { signer: 'E', voted: 'F', auth: true },
      { signer: 'B', voted: 'A', auth: false }, // deauthorize A, 3 votes needed
      { signer: 'C', voted: 'A', auth: false },
      { signer: 'D', voted: 'A', auth: false },
      { signer: 'B', voted: 'F', auth: true }, // finish authorizing F, 3/3 votes needed
    ],
    results: ['B', 'C', 'D', 'E', 'F'],
  },
  {
    name: 'epoch transitions reset all votes to allow chain checkpointing',
    epoch: 3,
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B' },
      { signer: 'A', checkpoint: ['A', 'B'] },
      { signer: 'B', voted: 'C', auth: true },
    ],
    results: ['A', 'B'],
  },
  {
    name: 'an unauthorized signer should not be able to sign blocks',
    signers: ['A'],
    blocks: [{ signer: 'B' }],
    failure: 'unauthorized signer',
  },
  {
    name: 'an authorized signer that signed recently should not be able to sign again',
    signers: ['A', 'B'],
    blocks: [{ signer: 'A' }, { signer: 'A' }],
    failure: 'recently signed',
  },
  {
    name: 'recent signatures should not reset on checkpoint blocks imported in a batch',
    epoch: 3,
    signers: ['A', 'B', 'C'],
    blocks: [{ signer: 'A' }, { signer: 'B' }, { signer: 'A', checkpoint: ['A', 'B', 'C'] }, { signer: 'A' }],
    failure: 'recently signed',
  },
  {
    // go-ethereum issue 17593, a Rinkeby consensus split
    name: 'recent signatures should not reset on checkpoint blocks imported in a new batch',
    epoch: 3,
    signers: ['A', 'B', 'C'],
    blocks: [{ signer: 'A' }, { signer: 'B' }, { signer: 'A', checkpoint: ['A', 'B', 'C'] }, { signer: 'A', newBatch: true }],
    failure: 'recently signed',
  },
  // cairn's own: the checkpoint signer list must be the one the votes produced
  {
    name: 'a checkpoint lists the signers that votes added',
    epoch: 3,
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B', voted: 'C', auth: true },
      { signer: 'A', checkpoint: ['A', 'B', 'C'] },
    ],
    results: ['A', 'B', 'C'],
  },
  {
    name: 'a checkpoint that omits a signer added by votes is refused',
    epoch: 3,
    signers: ['A', 'B'],
    blocks: [
      { signer: 'A', voted: 'C', auth: true },
      { signer: 'B', voted: 'C', auth: true },
      { signer: 'A', checkpoint: ['A', 'B'] },
    ],
    failure: 'mismatching signer list on checkpoint block',
  },
]

const GAS_LIMIT = 8_000_000n
const NOW = 1n << 40n

function addresses(names: readonly string[]): string[] {
  return names.map(addressOf).sort()
}

interface Outcome {
  snapshot: Snapshot
  headers: BlockHeader[]
  genesisSnapshot: Snapshot
  failure?: { index: number; message: string }
}

function runCase(tc: VotingCase): Outcome {
  const config: CliqueConfig = { period: 1, epoch: tc.epoch }
  const common = cliqueCommon(Hardfork.Berlin, { period: 1, epoch: tc.epoch ?? 30000 })
  const genesis = makeHeader({ number: 0n, gasLimit: GAS_LIMIT, difficulty: 1n, extraData: extraDataWith(addresses(tc.signers)) }, common)
  const genesisSnapshot = checkpointSnapshot(genesis)
  let snapshot = genesisSnapshot
  let parent = genesis
  const headers: BlockHeader[] = []
  for (const [index, block] of tc.blocks.entries()) {
    if (block.newBatch === true) snapshot = decodeSnapshot(encodeSnapshot(snapshot))
    const number = BigInt(index + 1)
    const header = sealHeader(
      {
        parentHash: parent.hash(),
        number,
        timestamp: parent.timestamp + 1n,
        gasLimit: GAS_LIMIT,
        coinbase: block.voted === undefined ? createZeroAddress() : addressOf(block.voted),
        nonce: block.auth === true ? NONCE_AUTHORIZE : NONCE_DROP,
        difficulty: isInTurn(snapshot, index + 1, addressOf(block.signer)) ? 2n : 1n,
        extraData: extraDataWith(addresses(block.checkpoint ?? [])),
      },
      block.signer,
      common,
    )
    try {
      verifyHeader(header, parent, snapshot, config, NOW)
      snapshot = applyHeaders(snapshot, [header], config.epoch ?? 0)
    } catch (error) {
      return { snapshot, headers, genesisSnapshot, failure: { index, message: (error as Error).message } }
    }
    headers.push(header)
    parent = header
  }
  return { snapshot, headers, genesisSnapshot }
}

describe('EIP-225 voting scenarios', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const outcome = runCase(tc)
      if (tc.failure !== undefined) {
        assert.deepEqual(outcome.failure, { index: tc.blocks.length - 1, message: tc.failure })
        return
      }
      assert.equal(outcome.failure, undefined)
      assert.deepEqual(outcome.snapshot.signers, addresses(tc.results ?? []))
      // replaying every header in one call gives the same snapshot as one at a time
      assert.deepEqual(applyHeaders(outcome.genesisSnapshot, outcome.headers, tc.epoch ?? 0), outcome.snapshot)
    })
  }
})
