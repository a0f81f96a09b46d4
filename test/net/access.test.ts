import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'
import { generateKey } from '@libp2p/pnet'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

import { generateNodeKey } from '../../src/net/nodekey.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import { tempDir } from '../helpers.ts'
import { devChain, mine, transfer } from '../txpool/testkit.ts'
import type { DevChain } from '../txpool/testkit.ts'
import { genesisJson, openChain, startNode, waitFor } from './testkit.ts'

const GENESIS = genesisJson()

function pskFile(dir: string, name: string): string {
  const psk = new Uint8Array(95)
  generateKey(psk)
  const file = join(dir, name)
  writeFileSync(file, new TextDecoder().decode(psk))
  return file
}

describe('who may connect', () => {
  it('--network.psk: nodes sharing the key connect, a node without it (or with another) cannot', { timeout: 30_000 }, async (t) => {
    const dir = tempDir(t)
    const psk = pskFile(dir, 'swarm.key')
    const one = await startNode(t, 'one', await openChain(t, GENESIS), { host: { pskFile: psk } })
    const member = await startNode(t, 'member', await openChain(t, GENESIS), { host: { pskFile: psk, staticNodes: [one.addr] } })
    const outsider = await startNode(t, 'outsider', await openChain(t, GENESIS), { host: { staticNodes: [one.addr] } })
    const stranger = await startNode(t, 'stranger', await openChain(t, GENESIS), { host: { pskFile: pskFile(dir, 'other.key'), staticNodes: [one.addr] } })
    await waitFor('the member', () => one.network.chainPeers().some((p) => p.id.equals(member.network.peerId)))
    await new Promise((r) => setTimeout(r, 1_000)) // two redial rounds of the others
    assert.deepEqual(one.network.chainPeers().map((p) => p.id.toString()), [member.network.peerId.toString()])
    assert.equal(one.network.node.getConnections(outsider.network.peerId).length, 0)
    assert.equal(one.network.node.getConnections(stranger.network.peerId).length, 0)
  })

  it('--network.allow: only the listed peers connect, whichever side dials', { timeout: 30_000 }, async (t) => {
    const friendKey = await generateNodeKey()
    const friendId = peerIdFromPrivateKey(friendKey).toString()
    const one = await startNode(t, 'one', await openChain(t, GENESIS), { host: { allow: new Set([friendId]) } })
    const friend = await startNode(t, 'friend', await openChain(t, GENESIS), { host: { privateKey: friendKey, staticNodes: [one.addr] } })
    const other = await startNode(t, 'other', await openChain(t, GENESIS), { host: { staticNodes: [one.addr] } })
    await waitFor('the friend', () => one.network.chainPeers().some((p) => p.id.equals(friend.network.peerId)))
    await one.network.node.dial(other.network.node.getMultiaddrs()[0]).then(
      () => assert.fail('dialled a peer not on the allowlist'),
      () => {},
    )
    await new Promise((r) => setTimeout(r, 1_000))
    assert.equal(one.network.node.getConnections(other.network.peerId).length, 0)
    assert.deepEqual(one.network.chainPeers().map((p) => p.id.toString()), [friendId])
  })
})

describe('advertised addresses', () => {
  it('--nat extip:IP advertises the listen port on that IP; --announce advertises exactly what it lists', { timeout: 30_000 }, async (t) => {
    const nat = await startNode(t, 'nat', await openChain(t, GENESIS), { host: { externalIp: '10.1.2.3' } })
    // one address: the loopback listen address, on the external IP (the port is the one the OS gave)
    assert.match(nat.network.node.getMultiaddrs().map(String).join(' '), new RegExp(`^/ip4/10\\.1\\.2\\.3/tcp/[1-9]\\d*/p2p/${nat.network.peerId}$`))
    const announced = await startNode(t, 'announced', await openChain(t, GENESIS), { host: { announce: ['/dns4/node1.example/tcp/30303'] } })
    assert.deepEqual(announced.network.node.getMultiaddrs().map(String), [`/dns4/node1.example/tcp/30303/p2p/${announced.network.peerId}`])
    assert.match(announced.log.text(), /Started P2P networking self=\/dns4\/node1\.example\/tcp\/30303\/p2p\//)
  })
})

/** Two dev chains on one genesis, each with a started pool (stopped when the test ends). */
async function twoDevChainsWithPools(t: TestContext): Promise<{ a: DevChain; b: DevChain; pools: [TxPool, TxPool] }> {
  const [a, b] = [await devChain(t), await devChain(t)]
  const pools: [TxPool, TxPool] = [new TxPool(a.chain), new TxPool(b.chain)]
  for (const pool of pools) {
    await pool.start()
    t.after(() => pool.stop())
  }
  return { a, b, pools }
}

/**
 * Two connected nodes; the second one's pool refuses the first delivery, as a full pool refuses a transaction that
 * pays no more than its cheapest. Returns once a local transaction of the first was gossiped and refused.
 */
async function transactionThePeerRefused(t: TestContext) {
  const { a, b, pools } = await twoDevChainsWithPools(t)
  let refusals = 1
  const full = Object.assign(Object.create(pools[1]) as TxPool, {
    addRemotes: async (txs: Parameters<TxPool['addRemotes']>[0]) => (refusals-- > 0 ? txs.map(() => ({ code: 'txPoolFull' })) : pools[1].addRemotes(txs)),
  })
  const one = await startNode(t, 'one', a.chain, { txpool: pools[0] })
  const two = await startNode(t, 'two', b.chain, { txpool: full, host: { staticNodes: [one.addr] } })
  await waitFor('gossip subscriptions', () => one.network.node.services.pubsub.getSubscribers(one.network.txTopic).some((p) => p.equals(two.network.peerId)))
  const tx = transfer(a, 0, 0n)
  await pools[0].add(tx, { local: true })
  await waitFor('the refused delivery', () => refusals <= 0)
  return { a, one, pools, hash: bytesToHex(tx.hash()) }
}

describe('transaction gossip', () => {
  it('a transaction added to one pool reaches the pool of a peer; garbage is rejected', { timeout: 30_000 }, async (t) => {
    const { a, b, pools } = await twoDevChainsWithPools(t)
    const one = await startNode(t, 'one', a.chain, { txpool: pools[0] })
    const two = await startNode(t, 'two', b.chain, { txpool: pools[1], host: { staticNodes: [one.addr] } })
    await waitFor('gossip subscriptions', () => one.network.node.services.pubsub.getSubscribers(one.network.txTopic).some((p) => p.equals(two.network.peerId)))
    const tx = transfer(a, 0, 0n)
    await pools[0].add(tx, { local: true })
    const hash = `0x${Buffer.from(tx.hash()).toString('hex')}`
    await waitFor('the transaction in the peer pool', () => pools[1].has(hash))
    assert.equal(pools[1].status().pending, 1)

    await two.network.node.services.pubsub.publish(two.network.txTopic, new Uint8Array([1, 2, 3]))
    await waitFor('a strike for the garbage', () => one.network.strikesOf(two.network.peerId) === 1)
  })

  it('transactions added together travel in one gossip message, and the peer does not publish them again', { timeout: 30_000 }, async (t) => {
    const { a, b, pools } = await twoDevChainsWithPools(t)
    const one = await startNode(t, 'one', a.chain, { txpool: pools[0] })
    const two = await startNode(t, 'two', b.chain, { txpool: pools[1], host: { staticNodes: [one.addr] } })
    await waitFor('gossip subscriptions', () => one.network.node.services.pubsub.getSubscribers(one.network.txTopic).some((p) => p.equals(two.network.peerId)))
    const received: number[] = []
    two.network.node.services.pubsub.addEventListener('gossipsub:message', (e) => {
      if (e.detail.msg.topic === two.network.txTopic) received.push((RLP.decode(e.detail.msg.data) as Uint8Array[]).length)
    })
    const pubsub = two.network.node.services.pubsub
    const publish = pubsub.publish.bind(pubsub)
    let republished = 0
    pubsub.publish = (topic, data) => ((republished += topic === two.network.txTopic ? 1 : 0), publish(topic, data))

    const txs = [0, 1, 2, 3, 4].map((nonce) => transfer(a, 0, BigInt(nonce)))
    assert.deepEqual(await pools[0].addRemotes(txs), txs.map(() => undefined))
    await waitFor('the transactions in the peer pool', () => pools[1].status().pending === txs.length)
    assert.deepEqual(received, [5])
    await new Promise((resolve) => setTimeout(resolve, 100)) // the peer's own publishing would wait 25 ms
    assert.equal(republished, 0)
  })

  it('a transaction a peer dropped (its pool was full) is announced again once it has waited, and the peer takes it', { timeout: 30_000 }, async (t) => {
    const { one, pools, hash } = await transactionThePeerRefused(t)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(pools[1].has(hash), false, 'gossip delivered once and the peer refused it')
    // announcement rounds, the second one 3 s later (the timer runs them every 2 s on the wall clock as well)
    const now = Date.now()
    one.network.announceStalled(now)
    one.network.announceStalled(now + 3_000)
    await waitFor('the transaction in the peer pool', () => pools[1].has(hash))
  })

  it('a transaction a peer dropped is announced again as soon as a block went without it', { timeout: 30_000 }, async (t) => {
    const { a, one, pools, hash } = await transactionThePeerRefused(t)
    one.network.announceStalled() // the round that finds it at the front of its queue
    await mine(a, []) // built without it: still at the front after the block
    // well before the timer's rounds (every 2 s, for transactions that waited 3 s) would announce it
    await waitFor('the transaction in the peer pool', () => pools[1].has(hash), 1_500)
  })

  it('a gossiped block takes its transactions\' senders from the pool, which recovered them at admission', { timeout: 30_000 }, async (t) => {
    const { a, b, pools } = await twoDevChainsWithPools(t)
    const one = await startNode(t, 'one', a.chain, { txpool: pools[0] })
    const two = await startNode(t, 'two', b.chain, { txpool: pools[1], host: { staticNodes: [one.addr] } })
    await waitFor('gossip subscriptions', () =>
      [one.network.txTopic, one.network.blockTopic].every((topic) => one.network.node.services.pubsub.getSubscribers(topic).some((p) => p.equals(two.network.peerId))))
    // distinct values: the signed message (which names no sender) must differ from one transaction to the next
    const pooled = [transfer(a, 0, 0n, { value: 1n }), transfer(a, 1, 0n, { value: 2n }), transfer(a, 2, 0n, { value: 3n })]
    for (const tx of pooled) await pools[0].add(tx, { local: true })
    await waitFor('the transactions in the peer pool', () => pools[1].status().pending === pooled.length)
    // one more that the peer's pool never saw: its sender must still be recovered, and right
    const unseen = transfer(a, 3, 0n, { value: 4n })
    const block = await mine(a, [...pooled, unseen])
    assert.equal(block.transactions.length, 4)

    // the peer's Common is where its transactions find their sender recovery
    const crypto = b.chain.common.customCrypto
    const recovered: string[] = []
    const ecrecover = crypto.ecrecover!
    crypto.ecrecover = (msgHash, v, r, s, chainId) => {
      recovered.push(Buffer.from(msgHash).toString('hex'))
      return ecrecover(msgHash, v, r, s, chainId)
    }
    t.after(() => (crypto.ecrecover = ecrecover))
    await one.network.publishBlock(block)
    await waitFor('the block at the peer', () => b.chain.heads().latest.number === 1n)
    crypto.ecrecover = ecrecover
    const messageOf = (tx: (typeof pooled)[number]) => Buffer.from(tx.getMessageToVerifySignature()).toString('hex')
    for (const tx of pooled) assert.ok(!recovered.includes(messageOf(tx)), 'a pooled transaction was not recovered again')
    assert.ok(recovered.includes(messageOf(unseen)), 'the transaction the pool lacked was recovered')
    assert.equal(bytesToHex(b.chain.heads().latest.hash()), bytesToHex(block.hash()))
  })
})
