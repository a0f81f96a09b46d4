import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlock } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'

import { requestBlocksByRange } from '../../src/sync/protocols.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import { deferCleanup } from '../helpers.ts'
import { devChain, transfer } from '../txpool/testkit.ts'
import { C, extend, genesisJson, openChain, recordingRecovery, startNode, waitFor } from './testkit.ts'
import type { NetNode } from './testkit.ts'

const GENESIS = genesisJson()

/** Waits until `a` and `b` completed the handshake and each sees the other subscribed to the block topic. */
async function linked(a: NetNode, b: NetNode): Promise<void> {
  await waitFor('handshake', () => a.network.chainPeers().some((p) => p.id.equals(b.network.peerId)) && b.network.chainPeers().some((p) => p.id.equals(a.network.peerId)))
  await waitFor('gossip subscriptions', () =>
    a.network.node.services.pubsub.getSubscribers(a.network.blockTopic).some((p) => p.equals(b.network.peerId)) &&
    b.network.node.services.pubsub.getSubscribers(b.network.blockTopic).some((p) => p.equals(a.network.peerId)))
}

describe('p2p network (libp2p on 127.0.0.1)', () => {
  it('two nodes on one chain handshake: each reports the other with its head', { timeout: 30_000 }, async (t) => {
    const one = await startNode(t, 'one', await openChain(t, GENESIS))
    await extend(one.chain, 3)
    const two = await startNode(t, 'two', await openChain(t, GENESIS), { host: { staticNodes: [one.addr] } })
    await linked(one, two)
    const seen = two.network.chainPeers().find((p) => p.id.equals(one.network.peerId))!
    assert.equal(seen.status.headNumber, 3n)
    assert.equal(bytesToHex(seen.status.genesisHash), bytesToHex(one.chain.genesis.hash()))
    assert.match(two.log.text(), new RegExp(`Peer connected peer=${one.network.peerId} head=3 `))
    assert.match(one.log.text(), /Started P2P networking self=\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/16U/)
  })

  it('a node on another genesis is disconnected, and both sides log the differing value', { timeout: 30_000 }, async (t) => {
    const one = await startNode(t, 'one', await openChain(t, GENESIS))
    const other = await startNode(t, 'other', await openChain(t, genesisJson({ signers: [C.address] })), { host: { staticNodes: [one.addr] } })
    const reason = /Peer is on another chain, disconnecting peer=\S+ reason="genesis: ours 0x[0-9a-f]{64}, theirs 0x[0-9a-f]{64}"/
    await waitFor('the mismatch on both sides', () => reason.test(one.log.text()) && reason.test(other.log.text()))
    await waitFor('the disconnect', () => one.network.node.getConnections(other.network.peerId).length === 0)
    assert.equal(one.network.chainPeers().length, 0)
    assert.equal(other.network.chainPeers().length, 0)
  })

  it('gossiped blocks are imported, and forwarded once accepted', { timeout: 30_000 }, async (t) => {
    // no peer exchange: one and three must stay strangers, so the blocks can only travel through two
    const one = await startNode(t, 'one', await openChain(t, GENESIS), { host: { discovery: false } })
    const two = await startNode(t, 'two', await openChain(t, GENESIS), { host: { staticNodes: [one.addr], discovery: false } })
    const three = await startNode(t, 'three', await openChain(t, GENESIS), { host: { staticNodes: [two.addr], discovery: false } })
    await linked(one, two)
    await linked(two, three)
    for (const block of await extend(one.chain, 3)) await one.network.publishBlock(block)
    const head = bytesToHex(one.chain.heads().latest.hash())
    await waitFor('blocks at the far node', () => bytesToHex(three.chain.heads().latest.hash()) === head)
    assert.equal(three.chain.heads().latest.number, 3n)
    assert.equal(one.network.node.getConnections(three.network.peerId).length, 0, 'three heard it through two')
  })

  it('garbage costs the sender its score; an invalid block gets it banned; the node keeps importing', { timeout: 30_000 }, async (t) => {
    const victim = await startNode(t, 'victim', await openChain(t, GENESIS), { banMs: 60_000 })
    const rogue = await startNode(t, 'rogue', await openChain(t, GENESIS), { host: { staticNodes: [victim.addr] } })
    const honest = await startNode(t, 'honest', await openChain(t, GENESIS), { host: { staticNodes: [victim.addr] } })
    await linked(victim, rogue)
    await linked(victim, honest)

    await rogue.network.node.services.pubsub.publish(rogue.network.blockTopic, new Uint8Array([0xc0, 0xff, 0xee]))
    await waitFor('a strike for the garbage', () => victim.network.strikesOf(rogue.network.peerId) === 1)
    await waitFor('a negative gossip score', () => victim.network.score(rogue.network.peerId) < 0)
    assert.equal(victim.network.node.getConnections(rogue.network.peerId).length > 0, true, 'one garbage message is not a ban')

    // a correctly sealed block 1 whose vanity was changed afterwards: its seal now recovers a stranger
    const [valid] = await extend(await openChain(t, GENESIS), 1)
    const extraData = valid.header.extraData.slice()
    extraData[0] ^= 0xff
    const forged = createBlock({ header: { ...valid.header.toJSON(), extraData } }, { common: valid.common, skipConsensusFormatValidation: true })
    await rogue.network.node.services.pubsub.publish(rogue.network.blockTopic, forged.serialize())
    await waitFor('the ban', () => /Banned peer peer=\S+ reason="invalid block 1 \(0x[0-9a-f]+\): unauthorized signer"/.test(victim.log.text()))
    await waitFor('the disconnect', () => victim.network.node.getConnections(rogue.network.peerId).length === 0)
    // the banned peer cannot come back
    await rogue.network.node.dial(victim.network.node.getMultiaddrs()[0]).catch(() => {})
    await new Promise((r) => setTimeout(r, 300))
    assert.equal(victim.network.node.getConnections(rogue.network.peerId).length, 0)
    assert.equal(victim.network.chainPeers().some((p) => p.id.equals(rogue.network.peerId)), false)

    const blocks = await extend(honest.chain, 2, 'A')
    for (const b of blocks) await honest.network.publishBlock(b)
    await waitFor('the honest blocks', () => victim.chain.heads().latest.number === 2n)
    assert.equal(bytesToHex(victim.chain.heads().latest.hash()), bytesToHex(blocks[1].hash()))
  })

  it('a peer flooding block requests is refused past its budget, then banned', { timeout: 30_000 }, async (t) => {
    const chain = await openChain(t, GENESIS)
    await extend(chain, 3)
    const server = await startNode(t, 'server', chain)
    const flooder = await startNode(t, 'flooder', await openChain(t, GENESIS), { host: { staticNodes: [server.addr] } })
    await linked(server, flooder)
    let served = 0
    let refused = 0
    for (let i = 0; i < 100 && server.network.node.getConnections(flooder.network.peerId).length > 0; i++) {
      await requestBlocksByRange(flooder.network, flooder.chain, server.network.peerId, 1n, 128).then(() => served++, () => refused++)
    }
    assert.ok(served >= 10 && served <= 30, `a burst of 2048 blocks' worth of requests is served (${served})`)
    assert.ok(refused >= 9, `then requests are refused (${refused})`)
    assert.match(server.log.text(), /Banned peer peer=\S+ reason="10 strikes, last: rate limit exceeded on \/cairn\/blocks_by_range\/1"/)
  })

  it('peers\' transactions reach the pool with their senders already recovered on the recovery thread', { timeout: 30_000 }, async (t) => {
    const [a, b] = [await devChain(t), await devChain(t)]
    const [poolA, poolB] = [new TxPool(a.chain), new TxPool(b.chain)]
    for (const pool of [poolA, poolB]) {
      await pool.start()
      deferCleanup(t, () => pool.stop())
    }
    // whether the pool was handed each transaction with its sender known
    const handed = new Map<string, boolean>()
    const addRemotes = poolB.addRemotes.bind(poolB)
    poolB.addRemotes = (txs) => {
      for (const tx of txs) handed.set(bytesToHex(tx.hash()), tx.cache.senderPubKey !== undefined)
      return addRemotes(txs)
    }
    const { recoverSenders, calls } = recordingRecovery(t)
    const one = await startNode(t, 'one', a.chain, { txpool: poolA })
    const two = await startNode(t, 'two', b.chain, { txpool: poolB, recoverSenders, host: { staticNodes: [one.addr] } })
    await linked(one, two)
    const txs = [transfer(a, 0, 0n), transfer(a, 0, 1n), transfer(a, 0, 2n)]
    for (const tx of txs) await poolA.add(tx, { local: true })
    const hashes = txs.map((tx) => bytesToHex(tx.hash()))
    await waitFor('the transactions in the peer\'s pool', () => hashes.every((h) => poolB.has(h)))
    assert.deepEqual(calls.flat().sort(), hashes.slice().sort(), 'each recovered once')
    assert.deepEqual(hashes.map((h) => handed.get(h)), [true, true, true], 'handed over with their senders')
    assert.equal(poolB.get(hashes[0])?.from, a.addresses[0])
  })
})
