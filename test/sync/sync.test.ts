import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { A, extend, genesisJson, openChain, recordingRecovery, sealerFor, startNode, waitFor } from '../net/testkit.ts'
import { devChain, mine, transfer } from '../txpool/testkit.ts'

const GENESIS = genesisJson()

describe('sync over libp2p', () => {
  it('a node 60 blocks behind downloads the range, logs progress, and only then lets its sealer seal', { timeout: 60_000 }, async (t) => {
    const ahead = await openChain(t, GENESIS)
    await extend(ahead, 60)
    const source = await startNode(t, 'source', ahead)
    const behind = await openChain(t, GENESIS)
    // a short fork of its own, lighter than the source's chain; B seals its first block, so it differs from the source's
    // (blocks sealed by the same signers in the same second would be the very same blocks)
    await extend(behind, 2, 'B')
    const forked = bytesToHex(behind.heads().latest.hash())
    const started = performance.now()
    const node = await startNode(t, 'behind', behind, { host: { staticNodes: [source.addr] }, startupWaitMs: 10_000 })
    assert.equal(node.sync.canSeal(), false, 'no sealing before peers were compared')
    await waitFor('the synced head', () => bytesToHex(behind.heads().latest.hash()) === bytesToHex(ahead.heads().latest.hash()), 30_000)
    const seconds = (performance.now() - started) / 1000
    await waitFor('sync done', () => node.sync.canSeal())
    assert.match(node.log.text(), /Sync started peer=\S+ from=2 target=60/)
    // 58 blocks above its head; 60 once the sync finds its own 2 blocks are a fork and fetches back to genesis
    // (which of the two a progress line shows depends on when it is written)
    assert.match(node.log.text(), /Syncing: imported \d+\/(58|60) blocks, [\d.]+ blk\/s/)
    assert.match(node.log.text(), /Sync done imported=\d+ head=60 /)
    assert.notEqual(bytesToHex((await behind.getBlockByNumber(2n))!.hash()), forked, 'its own fork was replaced')
    assert.ok(seconds < 30, `synced in ${seconds.toFixed(1)} s`)
  })

  it('isSyncing and progress report a range sync while it runs', { timeout: 60_000 }, async (t) => {
    const ahead = await openChain(t, GENESIS)
    await extend(ahead, 200)
    const source = await startNode(t, 'source', ahead)
    const node = await startNode(t, 'behind', await openChain(t, GENESIS), { host: { staticNodes: [source.addr] } })
    await waitFor('a running sync', () => node.sync.isSyncing(), 20_000)
    const p = node.sync.progress()!
    assert.equal(p.startingBlock, 0n)
    assert.equal(p.highestBlock, 200n)
    await waitFor('the end of the sync', () => node.chain.heads().latest.number === 200n && !node.sync.isSyncing(), 50_000)
    assert.equal(node.sync.progress(), undefined)
  })

  it('a gossiped block with an unknown parent makes the node fetch the missing ancestors from its sender', { timeout: 30_000 }, async (t) => {
    const one = await startNode(t, 'one', await openChain(t, GENESIS))
    const two = await startNode(t, 'two', await openChain(t, GENESIS), { host: { staticNodes: [one.addr] }, syncIntervalMs: 60_000 })
    await waitFor('gossip subscriptions', () => two.network.node.services.pubsub.getSubscribers(two.network.blockTopic).some((p) => p.equals(one.network.peerId)))
    await waitFor('two ready', () => two.sync.canSeal())
    // three blocks two never heard of, then a fourth that is announced
    const blocks = await extend(one.chain, 4)
    await one.network.publishBlock(blocks[3])
    await waitFor('the backfilled head', () => two.chain.heads().latest.number === 4n)
    assert.equal(bytesToHex(two.chain.heads().latest.hash()), bytesToHex(blocks[3].hash()))
    assert.match(two.log.text(), /Backfilled unknown ancestors peer=\S+ blocks=3 head=4/)
  })

  it('a peer one block ahead is given time to gossip that block before it is fetched by range', { timeout: 30_000 }, async (t) => {
    const one = await startNode(t, 'one', await openChain(t, GENESIS))
    const two = await startNode(t, 'two', await openChain(t, GENESIS), { host: { staticNodes: [one.addr] }, syncIntervalMs: 60_000, gossipGraceMs: 3_000 })
    await waitFor('gossip subscriptions', () => two.network.node.services.pubsub.getSubscribers(two.network.blockTopic).some((p) => p.equals(one.network.peerId)))
    await waitFor('two ready', () => two.sync.canSeal())
    // sealed, and on its way: the comparison sees one ahead before the gossip arrives
    const [block] = await extend(one.chain, 1)
    const check = two.sync.check()
    await new Promise((r) => setTimeout(r, 300))
    await one.network.publishBlock(block)
    await check
    assert.equal(bytesToHex(two.chain.heads().latest.hash()), bytesToHex(block.hash()))
    assert.doesNotMatch(two.log.text(), /Sync started/)
  })

  it('a peer one block ahead whose block does not come by gossip is synced after the grace', { timeout: 30_000 }, async (t) => {
    const one = await startNode(t, 'one', await openChain(t, GENESIS))
    const two = await startNode(t, 'two', await openChain(t, GENESIS), { host: { staticNodes: [one.addr] }, syncIntervalMs: 60_000, gossipGraceMs: 200 })
    await waitFor('two ready', () => two.sync.canSeal())
    const [block] = await extend(one.chain, 1)
    await two.sync.check()
    assert.equal(bytesToHex(two.chain.heads().latest.hash()), bytesToHex(block.hash()))
    assert.match(two.log.text(), /Sync started peer=\S+ from=0 target=1/)
    assert.match(two.log.text(), new RegExp(`Imported synced block number=1 hash=${bytesToHex(block.hash())} outcome=imported`))
  })

  it('a sealer told to wait by sync seals once the node has caught up', { timeout: 30_000 }, async (t) => {
    const ahead = await openChain(t, GENESIS)
    await extend(ahead, 5, 'B') // B seals 1, 3, 5: A is in turn for 6
    const source = await startNode(t, 'source', ahead)
    const chain = await openChain(t, GENESIS)
    const node = await startNode(t, 'sealer', chain, { host: { staticNodes: [source.addr] }, startupWaitMs: 10_000 })
    const sealer = sealerFor(chain, A.privateKey, { canSeal: () => node.sync.canSeal(), interval: 1 })
    const sealedAt: bigint[] = []
    sealer.on('sealed', (b) => sealedAt.push(b.header.number))
    t.after(() => sealer.stop())
    sealer.start()
    await waitFor('a block sealed on the synced head', () => sealedAt.length > 0, 20_000)
    assert.equal(sealedAt[0], 6n, 'nothing was sealed on the stale genesis head')
  })

  it('once a range sync has caught up, a later one no longer stops sealing (geth 1.13)', { timeout: 60_000 }, async (t) => {
    const ahead = await openChain(t, GENESIS)
    await extend(ahead, 5)
    const source = await startNode(t, 'source', ahead)
    const node = await startNode(t, 'behind', await openChain(t, GENESIS), { host: { staticNodes: [source.addr] }, startupWaitMs: 10_000, syncIntervalMs: 60_000 })
    await waitFor('the first sync', () => node.chain.heads().latest.number === 5n && node.sync.canSeal(), 20_000)
    // blocks the node never hears of by gossip: the next comparison finds it far behind again
    await extend(ahead, 200)
    const check = node.sync.check()
    await waitFor('the second sync running', () => node.sync.isSyncing(), 20_000)
    assert.equal(node.sync.canSeal(), true, 'sealing goes on while it runs')
    await check
    assert.equal(node.chain.heads().latest.number, 205n)
  })

  it('the senders of downloaded blocks are recovered on the recovery thread, ahead of their import', { timeout: 30_000 }, async (t) => {
    const [ahead, behind] = [await devChain(t), await devChain(t)]
    const txs = [0n, 1n, 2n].map((nonce) => [transfer(ahead, 0, nonce), transfer(ahead, 1, nonce)])
    for (const blockTxs of txs) await mine(ahead, blockTxs)
    const { recoverSenders, calls } = recordingRecovery(t)
    const source = await startNode(t, 'source', ahead.chain)
    await startNode(t, 'behind', behind.chain, { host: { staticNodes: [source.addr] }, recoverSenders })
    await waitFor('the synced head', () => behind.chain.heads().latest.number === 3n, 20_000)
    assert.equal(bytesToHex(behind.chain.heads().latest.hash()), bytesToHex(ahead.chain.heads().latest.hash()))
    assert.deepEqual(calls, txs.map((blockTxs) => blockTxs.map((tx) => bytesToHex(tx.hash()))), 'one call per block, in order')
  })
})
