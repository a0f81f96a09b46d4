import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { exportBlockFile } from '../../src/chain/importer.ts'
import { runCairn, tempDir } from '../helpers.ts'
import { datadir, head, httpUrl, rpc, spawnCairn, startBootnode, waitForLog, waitUntil } from './processKit.ts'
import { A, B, extend, genesisJson, openChain } from './testkit.ts'

const CHAIN_LENGTH = 520

describe('a node joining a long chain', () => {
  it(`a fresh worker catches up with ${CHAIN_LENGTH} blocks from the sealers it meets through the bootnode`, { timeout: 90_000 }, async (t) => {
    const started = Date.now()
    // the history is sealed in-process (period 0 seals on demand), then imported into the sealers' datadirs
    const genesis = genesisJson()
    const history = await openChain(t, genesis)
    await extend(history, CHAIN_LENGTH)
    const file = join(tempDir(t), 'chain.rlp')
    await exportBlockFile(history, file)
    const target = { number: CHAIN_LENGTH, hash: bytesToHex(history.heads().latest.hash()) }
    const sealerDirs = await Promise.all([A, B].map((s) => datadir(t, genesis, s.privateKey)))
    for (const result of await Promise.all(sealerDirs.map((dir) => runCairn(['import', '--datadir', dir, file])))) assert.equal(result.code, 0, result.stderr)
    const built = Date.now()

    const boot = await startBootnode(t)
    const p2p = ['--addr', '127.0.0.1', '--port', '0', '--bootnodes', boot.addr, '--http', '--http.port', '0']
    const sealers = sealerDirs.map((dir, i) => spawnCairn(t, `sealer${i}`, ['--datadir', dir, ...p2p, '--mine', '--unlock', [A, B][i].address, '--password', join(dir, 'password.txt')]))
    for (const s of sealers) await waitForLog(s, /Started P2P networking/)
    const worker = spawnCairn(t, 'worker', ['--datadir', await datadir(t, genesis), ...p2p])
    const workerUrl = await httpUrl(worker)
    const joined = Date.now()

    await waitUntil(`the worker at block ${CHAIN_LENGTH}`, async () => (await head(workerUrl)).number >= CHAIN_LENGTH, 30_000)
    const caughtUp = Date.now()
    assert.equal((await rpc(workerUrl, 'eth_getBlockByNumber', [`0x${CHAIN_LENGTH.toString(16)}`, false])).hash, target.hash)
    const progress = await waitForLog(worker, /Syncing: imported (\d+)\/(\d+) blocks/, 1_000)
    assert.ok(Number(progress[1]) > 0 && Number(progress[2]) <= CHAIN_LENGTH, progress[0])
    await waitUntil('eth_syncing false on the worker', async () => (await rpc(workerUrl, 'eth_syncing')) === false, 5_000)

    t.diagnostic(`history built and imported ${((built - started) / 1000).toFixed(1)} s, worker started ${((joined - built) / 1000).toFixed(1)} s, caught up ${((caughtUp - joined) / 1000).toFixed(1)} s after its start (${CHAIN_LENGTH} blocks)`)
  })
})
