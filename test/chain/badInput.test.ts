import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { createBlock } from '@ethereumjs/block'
import type { Block } from '@ethereumjs/block'
import { bytesToHex, concatBytes } from '@ethereumjs/util'

import { readBlockFile } from '../../src/chain/blockFile.ts'
import { Chain } from '../../src/chain/chain.ts'
import { importBlockFiles } from '../../src/chain/importer.ts'
import { fixture, readFixture, tempDir } from '../helpers.ts'

const quiet = () => {}

async function setup(t: TestContext): Promise<{ chain: Chain; blocks: Block[]; dir: string }> {
  const dir = tempDir(t)
  await Chain.init(dir, readFixture('execution-apis/genesis.json'))
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  const blocks: Block[] = []
  for await (const b of readBlockFile(fixture('execution-apis/chain.rlp'), chain.common)) blocks.push(b)
  return { chain, blocks, dir }
}

function file(dir: string, name: string, parts: Uint8Array[]): string {
  const path = join(dir, name)
  writeFileSync(path, concatBytes(...parts))
  return path
}

/** Re-encodes a block with one header field changed (the hash changes with it). */
function withHeader(block: Block, change: Record<string, unknown>): Block {
  return createBlock({ ...block.toJSON(), header: { ...block.header.toJSON(), ...change } } as never, { common: block.common, skipConsensusFormatValidation: true })
}

describe('a bad block file stops the import at the first bad item and keeps every valid block before it', () => {
  it('truncated block', async (t) => {
    const { chain, blocks, dir } = await setup(t)
    const tenth = blocks[9].serialize()
    const path = file(dir, 'truncated.rlp', [...blocks.slice(0, 9).map((b) => b.serialize()), tenth.subarray(0, tenth.length - 7)])
    await assert.rejects(importBlockFiles(chain, [path], quiet), /item 9 at byte \d+: truncated block: need \d+ bytes/)
    assert.equal(chain.heads().latest.number, 9n)
  })

  it('trailing garbage', async (t) => {
    const { chain, blocks, dir } = await setup(t)
    const path = file(dir, 'garbage.rlp', [...blocks.slice(0, 3).map((b) => b.serialize()), Uint8Array.of(0x01, 0x02, 0x03)])
    await assert.rejects(importBlockFiles(chain, [path], quiet), /item 3 at byte \d+: not an RLP list \(trailing garbage\?\)/)
    assert.equal(chain.heads().latest.number, 3n)
  })

  it('wrong parent (a gap)', async (t) => {
    const { chain, blocks, dir } = await setup(t)
    const path = file(dir, 'gap.rlp', [...blocks.slice(0, 5).map((b) => b.serialize()), blocks[6].serialize()])
    await assert.rejects(importBlockFiles(chain, [path], quiet), (err: Error) => /invalid block 7 \(0x[0-9a-f]{64}\): unknown ancestor/.test(err.message))
    assert.equal(chain.heads().latest.number, 5n)
  })

  it('bad state root', async (t) => {
    const { chain, blocks, dir } = await setup(t)
    const bad = withHeader(blocks[4], { stateRoot: `0x${'11'.repeat(32)}` })
    const path = file(dir, 'root.rlp', [...blocks.slice(0, 4).map((b) => b.serialize()), bad.serialize()])
    await assert.rejects(importBlockFiles(chain, [path], quiet), /invalid block 5 .*: invalid merkle root \(remote: 0x1111.* local: 0x/)
    assert.equal(chain.heads().latest.number, 4n)
    // nothing of the bad block is stored, and the chain continues with the real block 5
    assert.equal(await chain.getBlockByHash(bad.hash()), undefined)
    await chain.importBlock(blocks[4])
    assert.equal(chain.heads().latest.number, 5n)
  })

  it('bad transactions root', async (t) => {
    const { chain, blocks } = await setup(t)
    const index = blocks.findIndex((b) => b.transactions.length > 1)
    for (const b of blocks.slice(0, index)) await chain.importBlock(b)
    const bad = withHeader(blocks[index], { transactionsTrie: `0x${'22'.repeat(32)}` })
    await assert.rejects(chain.importBlock(bad), /invalid block \d+ .*: invalid transaction trie/)
    // the same transactions in another order are another root
    const swapped = createBlock({ ...blocks[index].toJSON(), transactions: [...blocks[index].transactions].reverse().map((tx) => tx.toJSON()) } as never, { common: blocks[index].common, skipConsensusFormatValidation: true })
    await assert.rejects(chain.importBlock(swapped), /invalid transaction trie/)
    assert.equal(await chain.importBlock(blocks[index]), 'imported')
  })

  it('bad gas used and bad receipts are named', async (t) => {
    const { chain, blocks } = await setup(t)
    for (const b of blocks.slice(0, 3)) await chain.importBlock(b)
    const withTxs = blocks.slice(3).find((b) => b.transactions.length > 0)!
    for (const b of blocks.slice(3, Number(withTxs.header.number) - 1)) await chain.importBlock(b)
    await assert.rejects(chain.importBlock(withHeader(withTxs, { gasUsed: withTxs.header.gasUsed + 1n })), /invalid gasUsed/)
    await assert.rejects(chain.importBlock(withHeader(withTxs, { receiptTrie: `0x${'22'.repeat(32)}` })), /invalid receiptTrie/)
    await assert.rejects(chain.importBlock(withHeader(withTxs, { timestamp: blocks[0].header.timestamp })), /timestamp older than parent/)
    await assert.rejects(chain.importBlock(withHeader(withTxs, { gasLimit: withTxs.header.gasLimit * 2n })), /gas limit/i)
    assert.equal(bytesToHex((await chain.getCanonicalHash(withTxs.header.number - 1n))!), bytesToHex(chain.heads().latest.hash()))
  })

  it('execution results that differ from the header are named with both values, as geth does', async (t) => {
    const { chain, blocks } = await setup(t)
    // a block without ommers runs through the one-pass executor (ommer rewards are only in ethereumjs's runBlock)
    const target = blocks.find((b) => b.transactions.length > 0 && b.uncleHeaders.length === 0)!
    for (const b of blocks.slice(0, Number(target.header.number) - 1)) await chain.importBlock(b)
    await assert.rejects(chain.importBlock(withHeader(target, { logsBloom: `0x${'ff'.repeat(256)}` })), /invalid bloom \(remote: 0xffff.* local: 0x/)
    await assert.rejects(chain.importBlock(withHeader(target, { receiptTrie: `0x${'22'.repeat(32)}` })), /invalid receipt root hash \(remote: 0x2222.* local: 0x/)
    await assert.rejects(chain.importBlock(withHeader(target, { stateRoot: `0x${'33'.repeat(32)}` })), /invalid merkle root \(remote: 0x3333.* local: 0x/)
    // after each rejection the executor starts again from stored state: the real block still imports
    assert.equal(await chain.importBlock(target), 'imported')
  })
})
