import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../../src/accounts/devAccounts.ts'
import { Chain } from '../../../src/chain/chain.ts'
import type { HeaderReader } from '../../../src/chain/chain.ts'
import { exportBlockFile, importBlockFiles } from '../../../src/chain/importer.ts'
import { createLogger } from '../../../src/cli/log.ts'
import { devGenesis } from '../../../src/config/devGenesis.ts'
import type { CliqueEngine } from '../../../src/consensus/clique/engine.ts'
import { Sealer } from '../../../src/consensus/clique/sealer.ts'
import { snapshotToJSON } from '../../../src/consensus/clique/snapshot.ts'
import { tempDir } from '../../helpers.ts'

const EPOCH = 8
const [signer] = devAccounts(1)

function genesis(): string {
  const g = devGenesis({ period: 0, gasLimit: 30_000_000n }) as { config: { clique: { epoch: number } } }
  g.config.clique.epoch = EPOCH
  return JSON.stringify(g)
}

/** Seals `count` blocks back to back: period 0 and a transaction source that always claims work. */
async function sealChain(t: TestContext, count: bigint): Promise<{ dir: string; chain: Chain }> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis())
  const chain = await Chain.open(dir)
  const sealer = new Sealer({
    chain,
    engine: chain.engine as CliqueEngine,
    signerKey: hexToBytes(signer.privateKey as `0x${string}`),
    log: createLogger(0),
    txs: { candidates: () => [], hasPending: () => true, onPending: () => () => {} },
  })
  const done = new Promise<void>((resolve) => chain.on('head', (b) => b.header.number >= count && resolve()))
  sealer.start()
  await done
  sealer.stop()
  return { dir, chain }
}

function countingReader(chain: Chain): HeaderReader & { reads: number } {
  const r = {
    reads: 0,
    getHeaderByHash: (h: Uint8Array) => (r.reads++, chain.getHeaderByHash(h)),
    getHeaderByNumber: (n: bigint) => (r.reads++, chain.getHeaderByNumber(n)),
  }
  return r
}

describe('Clique engine snapshots', () => {
  it('are persisted at checkpoints, so a restart replays only the headers since the last one', { timeout: 60_000 }, async (t) => {
    const { dir, chain } = await sealChain(t, 21n)
    const head = chain.heads().latest
    const before = snapshotToJSON(await (chain.engine as CliqueEngine).snapshotAt(head, chain))
    await chain.close()

    const reopened = await Chain.open(dir)
    t.after(() => reopened.close())
    const reader = countingReader(reopened)
    const after = snapshotToJSON(await (reopened.engine as CliqueEngine).snapshotAt(reopened.heads().latest, reader))
    assert.deepEqual(after, before)
    // checkpoint 16 is stored: blocks 21..17 are replayed on top of it, not 21 blocks from genesis
    assert.ok(reader.reads <= Number(reopened.heads().latest.number % BigInt(EPOCH)) + 1, `read ${reader.reads} headers`)
  })

  it('are rebuilt identically by a separate import of the exported chain', { timeout: 60_000 }, async (t) => {
    const { dir, chain } = await sealChain(t, 12n)
    t.after(() => chain.close())
    const file = join(dir, 'chain.rlp')
    await exportBlockFile(chain, file, 1n)
    const other = tempDir(t)
    await Chain.init(other, genesis())
    const imported = await Chain.open(other)
    t.after(() => imported.close())
    await importBlockFiles(imported, [file], () => {})
    const head = chain.heads().latest
    assert.deepEqual(imported.heads().latest.hash(), head.hash())
    const a = snapshotToJSON(await (chain.engine as CliqueEngine).snapshotAt(head, chain))
    const b = snapshotToJSON(await (imported.engine as CliqueEngine).snapshotAt(imported.heads().latest, imported))
    assert.deepEqual(b, a)
    assert.deepEqual(Object.keys(a.signers), [signer.address.toLowerCase()])
  })
})
