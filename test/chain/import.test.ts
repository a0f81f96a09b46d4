import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { bytesToHex, createAddressFromString } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { exportBlockFile, importBlockFiles } from '../../src/chain/importer.ts'
import { expectedClique, fixture, readFixture, tempDir } from '../helpers.ts'

const SUITE_HEAD = JSON.parse(readFixture('execution-apis/headfcu.json')).params[0].headBlockHash as string

async function chainWith(t: TestContext, genesisFile: string): Promise<{ chain: Chain; dir: string }> {
  const dir = tempDir(t)
  await Chain.init(dir, readFixture(genesisFile))
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  return { chain, dir }
}

const quiet = () => {}

describe('import of real chains', () => {
  it('execution-apis chain.rlp: ethash 1-35, merge at 36, Shanghai..BPO2 to head 54', async (t) => {
    const { chain } = await chainWith(t, 'execution-apis/genesis.json')
    const stats = await importBlockFiles(chain, [fixture('execution-apis/chain.rlp')], quiet)
    assert.equal(stats.imported, 54)
    const { latest, safe, finalized } = chain.heads()
    assert.equal(latest.number, 54n)
    assert.equal(bytesToHex(latest.hash()), SUITE_HEAD)
    // as a consensus client's forkchoice update to the imported head would set them
    assert.equal(bytesToHex(safe.hash()), SUITE_HEAD)
    assert.equal(bytesToHex(finalized.hash()), SUITE_HEAD)
    // blocks past BPO1 (51) and BPO2 (54) needed the blob schedule from the genesis
    assert.equal(latest.common.hardfork(), 'bpo2')
  })

  it('state caches dropped at block boundaries (tiny limits) still give every state root: same head as above', async (t) => {
    const dir = tempDir(t)
    await Chain.init(dir, readFixture('execution-apis/genesis.json'))
    const chain = await Chain.open(dir, { stateCacheLimits: { accounts: 2, storageOwners: 1 } })
    t.after(() => chain.close())
    const stats = await importBlockFiles(chain, [fixture('execution-apis/chain.rlp')], quiet)
    assert.equal(stats.imported, 54)
    assert.equal(bytesToHex(chain.heads().latest.hash()), SUITE_HEAD)
  })

  it('Besu private Clique chain 0-4: state roots, receipts and gas used match (fees to the sealer)', async (t) => {
    const { chain } = await chainWith(t, 'clique/besu-private/genesis.geth.json')
    const stats = await importBlockFiles(chain, [fixture('clique/besu-private/clique.blocks')], quiet)
    assert.equal(stats.skipped, 1, 'the genesis block at the start of the file is skipped, as geth does')
    assert.equal(stats.imported, 4)
    assert.equal(stats.txs, 4)
    const head = chain.heads().latest
    assert.equal(bytesToHex(head.hash()), expectedClique.besuPrivate.head?.hash ?? '0xae48cf1ec1ba9ca96eb32fdac8b00ee22880e508fdb2aac93774b43a701aec1c')
    const signer = createAddressFromString('0x3b63a1ee47ffd227458746ca9bb079d0d3cbb4bd')
    const state = await chain.stateAt(head)
    const acct = await state.getAccount(signer)
    assert.ok(acct !== undefined && acct.balance > 0n, 'the Clique signer was credited the priority fees')
    const receipts = await chain.getReceipts(head.hash())
    assert.equal(receipts?.length, 2)
    assert.equal(receipts?.at(-1)?.cumulativeGasUsed, head.gasUsed)
  })

  for (const [name, genesis, file, expected] of [
    ['Rinkeby 1-5 (geth-sealed)', 'clique/rinkeby/genesis.geth.json', 'clique/rinkeby/blocks-1-5.rlp', expectedClique.rinkeby.blocks],
    ['Goerli 1-7', 'clique/goerli/genesis.geth.json', 'clique/goerli/blocks-1-7.rlp', expectedClique.goerli.headers],
  ] as const) {
    it(name, async (t) => {
      const { chain } = await chainWith(t, genesis)
      await importBlockFiles(chain, [fixture(file)], quiet)
      assert.equal(chain.heads().latest.number, BigInt(expected.head.number))
      assert.equal(bytesToHex(chain.heads().latest.hash()), expected.head.hash)
      for (const b of expected.blocks) assert.equal(bytesToHex((await chain.getCanonicalHash(BigInt(b.number)))!), b.hash)
    })
  }

  it('a second import continues from the stored head and skips what is known', async (t) => {
    const { chain } = await chainWith(t, 'execution-apis/genesis.json')
    const all = readFileSync(fixture('execution-apis/chain.rlp'))
    const dir = tempDir(t)
    // split the file: first import the blocks up to 20, then the whole file
    const { readBlockFile } = await import('../../src/chain/blockFile.ts')
    let cut = 0
    for await (const b of readBlockFile(fixture('execution-apis/chain.rlp'), chain.common)) {
      cut += b.serialize().length
      if (b.header.number === 20n) break
    }
    writeFileSync(join(dir, 'part.rlp'), all.subarray(0, cut))
    await importBlockFiles(chain, [join(dir, 'part.rlp')], quiet)
    assert.equal(chain.heads().latest.number, 20n)
    const stats = await importBlockFiles(chain, [fixture('execution-apis/chain.rlp')], quiet)
    assert.deepEqual([stats.skipped, stats.imported], [20, 34])
    assert.equal(bytesToHex(chain.heads().latest.hash()), SUITE_HEAD)
  })
})

describe('export', () => {
  it('export then import into a fresh datadir gives the same head hash; ranges work', async (t) => {
    const { chain } = await chainWith(t, 'execution-apis/genesis.json')
    await importBlockFiles(chain, [fixture('execution-apis/chain.rlp')], quiet)
    const dir = tempDir(t)
    const out = join(dir, 'export.rlp')
    assert.equal(await exportBlockFile(chain, out), 55)
    // geth's export includes the genesis block; the importer skips it
    const { chain: fresh } = await chainWith(t, 'execution-apis/genesis.json')
    const stats = await importBlockFiles(fresh, [out], quiet)
    assert.deepEqual([stats.skipped, stats.imported], [1, 54])
    assert.equal(bytesToHex(fresh.heads().latest.hash()), SUITE_HEAD)
    // the exported bytes are exactly the original file's blocks
    const original = readFileSync(fixture('execution-apis/chain.rlp'))
    const exported = readFileSync(out)
    assert.ok(exported.subarray(exported.length - original.length).equals(original))

    const range = join(dir, 'range.rlp')
    assert.equal(await exportBlockFile(chain, range, 10n, 12n), 3)
    await assert.rejects(exportBlockFile(chain, range, 50n, 60n), /block 55 is not in the chain \(head is 54\)/)
  })
})
