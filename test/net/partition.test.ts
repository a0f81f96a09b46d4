import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Hardfork } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { buildCommon, parseGenesis } from '../../src/config/genesis.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import { datadir, head, httpUrl, rpc, spawnCairn, startBootnode, waitForLog, waitUntil } from './processKit.ts'

const [S1, S2, S3, SENDER] = devAccounts(4)
const GWEI = 1_000_000_000n

describe('a network partition', () => {
  it('2|2 split: the side with two of three signers keeps sealing, the other seals at most one block; after healing all converge on the heavier chain and the lone side\'s transaction is sealed', { timeout: 90_000 }, async (t) => {
    const started = Date.now()
    const genesisObj = buildCliqueGenesis({ chainId: 4242, period: 1, epoch: 30000, signers: [S1, S2, S3].map((s) => s.address), alloc: [{ address: SENDER.address, balance: 10n ** 21n }], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true })
    const genesis = JSON.stringify(genesisObj)
    const boot = await startBootnode(t)
    const common = ['--addr', '127.0.0.1', '--port', '0', '--bootnodes', boot.addr, '--http', '--http.port', '0', '--http.api', 'eth,net,web3,admin']
    const sealer = async (name: string, key: typeof S1) => {
      const dir = await datadir(t, genesis, key.privateKey)
      return spawnCairn(t, name, ['--datadir', dir, ...common, '--mine', '--unlock', key.address, '--password', `${dir}/password.txt`])
    }
    const procs = [await sealer('A', S1), await sealer('B', S2), await sealer('C', S3), spawnCairn(t, 'W', ['--datadir', await datadir(t, genesis), ...common])]
    const [a, b, c, w] = await Promise.all(procs.map(httpUrl))
    const ids = await Promise.all([a, b, c, w].map(async (u) => (await rpc(u, 'admin_nodeInfo')).id as string))
    const [idA, idB, idC, idW] = ids
    const sameHead = async (urls: string[]) => {
      const heads = await Promise.all(urls.map(head))
      return heads.every((h) => h.hash === heads[0].hash) ? heads[0] : undefined
    }
    await waitUntil('all four at block 3 on one head', async () => ((await sameHead([a, b, c, w]))?.number ?? 0) >= 3, 30_000)
    const up = Date.now()

    // the cut: each side's gate refuses the other side's peers, both ways; the bootnode relays no gossip
    const block = (url: string, peers: string[]) => Promise.all(peers.map((p) => rpc(url, 'admin_blockPeer', [p])))
    await Promise.all([block(a, [idC, idW]), block(b, [idC, idW]), block(c, [idA, idB]), block(w, [idA, idB])])
    const peersOf = async (url: string) => ((await rpc(url, 'admin_peers')) as { id: string }[]).map((p) => p.id).sort()
    const sides = [[a, [idB]], [b, [idA]], [c, [idW]], [w, [idC]]] as const
    await waitUntil('each node connected to its own side only', async () => {
      const seen = await Promise.all(sides.map(([url]) => peersOf(url)))
      return seen.every((ps, i) => ps.join() === sides[i][1].join())
    }, 10_000)
    const cutAt = (await head(c)).number

    const pragueCommon = buildCommon(parseGenesis(genesisObj))
    pragueCommon.setHardfork(Hardfork.Prague)
    // a transaction on the lone side: the worker takes it and gossips it to C
    const tx = createFeeMarket1559Tx(
      { chainId: 4242n, nonce: 0n, to: S1.address as `0x${string}`, value: 1n, gasLimit: 21_000n, maxFeePerGas: 100n * GWEI, maxPriorityFeePerGas: GWEI },
      { common: pragueCommon },
    ).sign(hexToBytes(SENDER.privateKey as `0x${string}`))
    const txHash = await rpc(w, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])

    // A and B alternate (each may seal every other block); C, alone, may seal one block and then must wait
    await waitUntil('A and B five blocks past the cut', async () => ((await sameHead([a, b]))?.number ?? 0) >= cutAt + 5, 15_000)
    const lone = await sameHead([c, w])
    assert.ok(lone !== undefined, 'C and the worker agree')
    assert.ok(lone.number <= cutAt + 1, `C sealed at most one block alone (cut at ${cutAt}, C at ${lone.number})`)
    assert.equal(await rpc(a, 'eth_getTransactionByHash', [txHash]), null, 'the transaction did not cross the cut')
    const majority = await head(a)
    const split = Date.now()

    // heal: unblocked peers are redialled through the bootnode's peer exchange
    await Promise.all([a, b, c, w].map((url, i) => Promise.all(ids.filter((_, j) => j !== i).map((p) => rpc(url, 'admin_unblockPeer', [p])))))
    await waitUntil('one head on all four, on the A+B chain', async () => {
      const h = await sameHead([a, b, c, w])
      return h !== undefined && (await rpc(w, 'eth_getBlockByNumber', [`0x${majority.number.toString(16)}`, false]))?.hash === majority.hash
    }, 20_000)
    const converged = Date.now()

    // the lone side's transaction went back to its pools with the reorg, reached A and B, and was sealed
    await waitUntil('the transaction sealed on the common chain', async () => {
      const receipt = await rpc(w, 'eth_getTransactionReceipt', [txHash])
      if (receipt === null) return false
      const canonical = await Promise.all([a, b, c, w].map((u) => rpc(u, 'eth_getBlockByNumber', [receipt.blockNumber, false])))
      return receipt.status === '0x1' && canonical.every((blk) => blk?.hash === receipt.blockHash)
    }, 20_000)
    const sealed = Date.now()
    await waitForLog(procs[3], /Peer connected/)

    t.diagnostic(`startup ${((up - started) / 1000).toFixed(1)} s, partition ${((split - up) / 1000).toFixed(1)} s, convergence after healing ${((converged - split) / 1000).toFixed(1)} s, transaction sealed ${((sealed - converged) / 1000).toFixed(1)} s later`)
  })
})
