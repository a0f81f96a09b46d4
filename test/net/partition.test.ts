import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Hardfork } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { buildCommon, parseGenesis } from '../../src/config/genesis.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import { devChain, transfer } from '../txpool/testkit.ts'
import { datadir, head, httpUrl, rpc, spawnCairn, startBootnode, waitUntil } from './processKit.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { startNode, testLogger, waitFor } from './testkit.ts'
import type { NetNode } from './testkit.ts'

const [S1, S2, S3, SENDER] = devAccounts(4)
const GWEI = 1_000_000_000n

/** Stops in-process nodes while their chains are open (the test's after hooks close the chains first). */
async function stopNodes(nodes: NetNode[]): Promise<void> {
  for (const node of nodes) {
    node.sync.stop()
    await node.network.stop()
  }
}

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

    t.diagnostic(`startup ${((up - started) / 1000).toFixed(1)} s, partition ${((split - up) / 1000).toFixed(1)} s, convergence after healing ${((converged - split) / 1000).toFixed(1)} s, transaction sealed ${((sealed - converged) / 1000).toFixed(1)} s later`)
  })

  it('a transaction pending on one side reaches the other when they reconnect (gossip alone reached only the peers of the moment)', { timeout: 30_000 }, async (t) => {
    const [a, b, c] = [await devChain(t), await devChain(t), await devChain(t)]
    const pools = [new TxPool(a.chain), new TxPool(b.chain), new TxPool(c.chain)]
    for (const pool of pools) {
      await pool.start()
      t.after(() => pool.stop())
    }
    const lone = await startNode(t, 'lone', a.chain, { txpool: pools[0] })
    const tx = transfer(a, 0, 0n)
    await pools[0].add(tx, { local: true })
    const hash = bytesToHex(tx.hash())
    // b joins after the gossip and takes the pool on connect; c, connected to b only, gets it by b's gossip
    const other = await startNode(t, 'other', c.chain, { txpool: pools[2] })
    const late = await startNode(t, 'late', b.chain, { txpool: pools[1], host: { staticNodes: [lone.addr, other.addr] } })
    await waitFor('the transaction in the late peer\'s pool', () => pools[1].has(hash))
    await waitFor('the transaction passed on by the late peer', () => pools[2].has(hash))
    await stopNodes([lone, other, late])
  })

  it('a transaction a reorg takes off the chain goes back to the pool and on to the peers (gossip already saw it)', { timeout: 30_000 }, async (t) => {
    // period 0: blocks sealed back to back are not in the future
    const periodZero = (g: { config: Record<string, unknown> }) => void (g.config.clique = { ...(g.config.clique as object), period: 0 })
    const [x, y] = [await devChain(t, periodZero), await devChain(t, periodZero)]
    const pools = [new TxPool(x.chain), new TxPool(y.chain)]
    for (const pool of pools) {
      await pool.start()
      t.after(() => pool.stop())
    }
    const sealer = (dc: typeof x, pool: TxPool) => new Sealer({ chain: dc.chain, engine: dc.chain.engine as CliqueEngine, signerKey: dc.keys[0], txs: pool, log: testLogger() })
    // x gossips the transaction to nobody, then seals it; y (the same signer, apart) seals a longer, heavier chain
    const xNode = await startNode(t, 'x', x.chain, { txpool: pools[0] })
    const tx = transfer(x, 0, 0n)
    await pools[0].add(tx, { local: true })
    const hash = bytesToHex(tx.hash())
    assert.equal((await sealer(x, pools[0]).sealNow()).transactions.length, 1)
    const ySealer = sealer(y, pools[1])
    await ySealer.sealNow()
    await ySealer.sealNow()
    assert.equal(pools[0].has(hash), false)

    const yNode = await startNode(t, 'y', y.chain, { txpool: pools[1], host: { staticNodes: [xNode.addr] } })
    await waitFor('x on y\'s chain', () => x.chain.heads().latest.number === 2n)
    await waitFor('the transaction back in x\'s pool and pushed to y', () => pools[0].has(hash) && pools[1].has(hash))
    await stopNodes([xNode, yNode])
  })
})
