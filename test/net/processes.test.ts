import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import { datadir, head, httpUrl, rpc, spawnCairn, startBootnode, waitForLog, waitUntil } from './processKit.ts'

const SIGNERS = devAccounts(3)
describe('a Clique network of cairn processes', () => {
  it('3 sealers and a worker meet through a bootnode, agree on the head, survive a kill -9 and take the sealer back', { timeout: 120_000 }, async (t) => {
    const started = Date.now()
    const genesis = JSON.stringify(
      buildCliqueGenesis({ chainId: 4242, period: 1, epoch: 30000, signers: SIGNERS.map((s) => s.address), alloc: [], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
    )
    const { proc: bootnode, addr: bootAddr } = await startBootnode(t)
    const p2p = ['--addr', '127.0.0.1', '--port', '0', '--bootnodes', bootAddr, '--http', '--http.port', '0']
    const sealerArgs = (dir: string, i: number) => ['--datadir', dir, ...p2p, '--mine', '--unlock', SIGNERS[i].address, '--password', join(dir, 'password.txt')]

    const dirs = await Promise.all(SIGNERS.map((s) => datadir(t, genesis, s.privateKey)))
    const sealers = dirs.map((dir, i) => spawnCairn(t, `sealer${i}`, sealerArgs(dir, i)))
    const worker = spawnCairn(t, 'worker', ['--datadir', await datadir(t, genesis), ...p2p])
    const urls = await Promise.all([...sealers, worker].map(httpUrl))
    const workerUrl = urls[3]
    for (const p of [...sealers, worker]) await waitForLog(p, /Started P2P networking self=\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+/)
    const up = Date.now()

    // everyone finds everyone through the bootnode, and the heads agree within two periods
    await waitUntil('the worker at block 5', async () => (await head(workerUrl)).number >= 5, 30_000)
    await waitUntil('one head on all four nodes', async () => {
      const heads = await Promise.all(urls.map(head))
      return heads.every((h) => h.hash === heads[0].hash)
    }, 2_000)
    const agreed = Date.now()
    assert.equal(parseInt(await rpc(workerUrl, 'net_peerCount'), 16) >= 3, true, 'the worker counts the three sealers as peers')
    assert.equal(await rpc(workerUrl, 'eth_syncing'), false)

    // a sealer dies without a word; the two left keep sealing (each may seal every other block)
    sealers[0].child.kill('SIGKILL')
    await sealers[0].exited
    const before = (await head(workerUrl)).number
    await waitUntil('three more blocks without sealer 0', async () => (await head(workerUrl)).number >= before + 3, 15_000)

    // back on its datadir and node key, it catches up before it seals again
    const back = spawnCairn(t, 'sealer0-again', sealerArgs(dirs[0], 0))
    const backUrl = await httpUrl(back)
    const afterRestart = Date.now()
    await waitForLog(back, /Peer connected/, 15_000)
    await waitUntil('the restarted sealer on the common head', async () => {
      const [a, b] = await Promise.all([head(backUrl), head(workerUrl)])
      return a.hash === b.hash && a.number >= before + 3
    }, 15_000)
    const sealedLine = await waitForLog(back, /Successfully sealed new block number=(\d+)/, 15_000)
    const resealed = Date.now()
    assert.ok(Number(sealedLine[1]) > before + 3, 'it sealed on the current chain, not on its stale head')
    await waitUntil('its block on the worker', async () => (await rpc(workerUrl, 'eth_getBlockByNumber', [`0x${Number(sealedLine[1]).toString(16)}`, false])) !== null, 5_000)

    t.diagnostic(`startup ${((up - started) / 1000).toFixed(1)} s, agreement after ${((agreed - up) / 1000).toFixed(1)} s, restart to sealing ${((resealed - afterRestart) / 1000).toFixed(1)} s`)
    for (const p of [...sealers.slice(1), worker, back, bootnode]) p.child.kill('SIGTERM')
    for (const p of [...sealers.slice(1), worker, back, bootnode]) assert.equal(await p.exited, 0, `${p.name} stopped cleanly`)
  })
})
