import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import type { BlockHeader } from '@ethereumjs/block'
import { Address, KECCAK256_RLP, bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { blockSize } from '../../src/chain/blockSize.ts'
import { encodeBlock } from '../../src/chain/bodyRlp.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { tempDir } from '../helpers.ts'

const [A, B] = devAccounts(2)
const genesis = JSON.stringify(
  buildCliqueGenesis({ chainId: 1337, period: 0, epoch: 30000, signers: [A.address, B.address], alloc: [], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
)

async function node(t: TestContext): Promise<Chain> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis)
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  return chain
}

async function extend(chain: Chain, count: number, first: 'A' | 'B') {
  const keys = { A: A.privateKey, B: B.privateKey }
  const sealers = {
    A: new Sealer({ chain, engine: chain.engine as CliqueEngine, signerKey: hexToBytes(keys.A as `0x${string}`), log: createLogger(0) }),
    B: new Sealer({ chain, engine: chain.engine as CliqueEngine, signerKey: hexToBytes(keys.B as `0x${string}`), log: createLogger(0) }),
  }
  const out = []
  let turn = first
  for (let i = 0; i < count; i++) {
    out.push(await sealers[turn].sealNow())
    turn = turn === 'A' ? 'B' : 'A'
  }
  return out
}

describe("the chain's read caches", () => {
  it('serve the new canonical chain after a reorg, however much of the old one was read before', { timeout: 60_000 }, async (t) => {
    // fork 1: three blocks out of turn (difficulty 1); fork 2: four in turn (difficulty 2), heavier and longer
    const fork1 = await extend(await node(t), 3, 'B')
    const fork2 = await extend(await node(t), 4, 'A')
    const observer = await node(t)
    for (const b of fork1) await observer.importBlock(b)
    // fill every cache with fork 1
    for (const b of fork1) {
      assert.equal(bytesToHex((await observer.getCanonicalHash(b.header.number))!), bytesToHex(b.hash()))
      assert.equal(bytesToHex((await observer.getBlockByNumber(b.header.number))!.hash()), bytesToHex(b.hash()))
      assert.equal(bytesToHex((await observer.getHeaderByNumber(b.header.number))!.hash()), bytesToHex(b.hash()))
    }
    // a head listener registered before the reorg sees the new chain as soon as it is told
    const seen: string[] = []
    observer.on('head', (head) => {
      void observer.getCanonicalHash(head.header.number).then((h) => seen.push(bytesToHex(h!)))
    })
    for (const b of fork2) await observer.importBlock(b)
    assert.equal(bytesToHex(observer.heads().latest.hash()), bytesToHex(fork2[3].hash()))
    for (const b of fork2) {
      assert.equal(bytesToHex((await observer.getCanonicalHash(b.header.number))!), bytesToHex(b.hash()))
      assert.equal(bytesToHex((await observer.getBlockByNumber(b.header.number))!.hash()), bytesToHex(b.hash()))
      assert.equal(bytesToHex((await observer.getHeaderByNumber(b.header.number))!.hash()), bytesToHex(b.hash()))
    }
    assert.ok(seen.includes(bytesToHex(fork2[3].hash())))
    // blocks by hash stay readable, the replaced ones included
    assert.equal(bytesToHex((await observer.getBlockByHash(fork1[2].hash()))!.hash()), bytesToHex(fork1[2].hash()))
  })

  it('answer the head block as it was written, and the blocks below it from the database', async (t) => {
    const chain = await node(t)
    const [first, second] = await extend(chain, 2, 'A')
    assert.equal(await chain.getBlockByHash(second.hash()), second, 'the head, not read back')
    assert.equal(await chain.getBlockByNumber(2n), second)
    const below = (await chain.getBlockByHash(first.hash()))!
    assert.notEqual(below, first, 'read back once it is no longer the head')
    assert.equal(bytesToHex(encodeBlock(below)), bytesToHex(encodeBlock(first)))
    assert.equal(blockSize(second), encodeBlock(second).length)
  })

  it('hand readers of the same state root one view, and each root its own state', async (t) => {
    const dir = tempDir(t)
    const funded = JSON.stringify(
      buildCliqueGenesis({ chainId: 1337, period: 0, epoch: 30000, signers: [A.address], alloc: [{ address: B.address, balance: 7n }], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
    )
    await Chain.init(dir, funded)
    const chain = await Chain.open(dir)
    t.after(() => chain.close())
    const genesis = chain.genesis.header
    const b = new Address(hexToBytes(B.address as `0x${string}`))
    const view = await chain.stateAt(genesis)
    assert.equal(await chain.stateAt(genesis), view, 'the same root gets the same view')
    assert.equal((await view.getAccount(b))?.balance, 7n)
    // another root in between (the empty state) gets a view of its own, and the first root's state reads as before
    const empty = await chain.stateAt({ stateRoot: KECCAK256_RLP } as BlockHeader)
    assert.notEqual(empty, view)
    assert.equal(await empty.getAccount(b), undefined)
    assert.equal((await (await chain.stateAt(genesis)).getAccount(b))?.balance, 7n)
  })
})
