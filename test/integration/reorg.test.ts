import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import type { Block } from '@ethereumjs/block'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { tempDir } from '../helpers.ts'

const [A, B, C] = devAccounts(3)
const EPOCH = 4

const genesis = JSON.stringify(
  buildCliqueGenesis({ chainId: 1337, period: 0, epoch: EPOCH, signers: [A.address, B.address], alloc: [], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
)

async function node(t: TestContext): Promise<Chain> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis)
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  return chain
}

function sealerFor(chain: Chain, key: string): Sealer {
  return new Sealer({ chain, engine: chain.engine as CliqueEngine, signerKey: hexToBytes(key as `0x${string}`), log: createLogger(0) })
}

/** Seals `count` blocks on `chain`, A and B alternating (the only order two signers allow). */
async function extend(chain: Chain, count: number, first: 'A' | 'B', votes: (s: Sealer) => Promise<void> = async () => {}): Promise<Block[]> {
  const sealers = { A: sealerFor(chain, A.privateKey), B: sealerFor(chain, B.privateKey) }
  await votes(sealers.A)
  await votes(sealers.B)
  const out: Block[] = []
  let turn = first
  for (let i = 0; i < count; i++) {
    out.push(await sealers[turn].sealNow())
    turn = turn === 'A' ? 'B' : 'A'
  }
  return out
}

const signers = async (chain: Chain): Promise<string[]> => [...(await (chain.engine as CliqueEngine).snapshotAt(chain.heads().latest, chain)).signers]

describe('reorgs on a Clique chain', () => {
  it('follow the heavier fork across an epoch checkpoint and a passed vote, and back again', { timeout: 60_000 }, async (t) => {
    // fork 1: six blocks sealed out of turn (difficulty 1), no votes; fork 2: eight blocks in turn (difficulty 2)
    // in which A and B vote C in
    const one = await node(t)
    const fork1 = await extend(one, 6, 'B')
    const two = await node(t)
    const fork2 = await extend(two, 8, 'A', (s) => s.propose(C.address, true))
    assert.ok((await signers(two)).includes(C.address.toLowerCase()), 'the vote passed on fork 2')

    const observer = await node(t)
    const removed: Block[][] = []
    observer.on('head', (_head, gone) => gone.length > 0 && removed.push(gone))
    for (const b of fork1) await observer.importBlock(b)
    assert.equal(bytesToHex(observer.heads().latest.hash()), bytesToHex(fork1[5].hash()))
    assert.deepEqual((await signers(observer)).length, 2)

    for (const b of fork2) await observer.importBlock(b)
    const td1 = await observer.getTotalDifficulty(fork1[5].hash())
    const td2 = await observer.getTotalDifficulty(fork2[7].hash())
    assert.ok(td2! > td1!, 'fork 2 is heavier')
    assert.equal(bytesToHex(observer.heads().latest.hash()), bytesToHex(fork2[7].hash()))
    for (const b of fork2) assert.equal(bytesToHex((await observer.getCanonicalHash(b.header.number))!), bytesToHex(b.hash()))
    assert.equal(removed.at(-1)?.length, 6, 'the reorg reports the six blocks of fork 1 as removed')
    assert.ok((await signers(observer)).includes(C.address.toLowerCase()), 'the snapshot follows the new canonical chain')

    // fork 1 grows heavier again (12 more out-of-turn blocks: TD 18 > 16): the observer switches back, the vote is gone
    const more = await extend(one, 12, 'B')
    for (const b of more) await observer.importBlock(b)
    assert.equal(bytesToHex(observer.heads().latest.hash()), bytesToHex(more[11].hash()))
    assert.deepEqual((await signers(observer)).sort(), [A.address, B.address].map((a) => a.toLowerCase()).sort())
    assert.equal(await observer.getCanonicalHash(19n), undefined)
    assert.equal(bytesToHex((await observer.getCanonicalHash(18n))!), bytesToHex(more[11].hash()))
  })
})

describe('equal-difficulty forks (EIP-3436)', () => {
  it('every node picks the same head whatever order the blocks arrive in', { timeout: 30_000 }, async (t) => {
    const three = JSON.stringify(
      buildCliqueGenesis({ chainId: 1337, period: 0, epoch: 30000, signers: [A.address, B.address, C.address], alloc: [], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
    )
    const open = async () => {
      const dir = tempDir(t)
      await Chain.init(dir, three)
      const chain = await Chain.open(dir)
      t.after(() => chain.close())
      return chain
    }
    // signers sorted by address: C 0x3c44.., B 0x7099.., A 0xf39f..; block 1 is B's turn, so A and C seal it out of turn
    const outOfTurn = [A, C]
    const forks: Block[] = []
    for (const who of outOfTurn) {
      const chain = await open()
      forks.push(await sealerFor(chain, who.privateKey).sealNow())
    }
    assert.deepEqual(forks.map((b) => b.header.difficulty), [1n, 1n])
    const heads: string[] = []
    for (const order of [forks, [...forks].reverse()]) {
      const observer = await open()
      for (const b of order) await observer.importBlock(b)
      heads.push(bytesToHex(observer.heads().latest.hash()))
    }
    assert.equal(heads[0], heads[1])
  })
})
