import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import { extend, genesisJson, openChain, startNode, waitFor } from '../net/testkit.ts'
import type { NetNode } from '../net/testkit.ts'

/** Serves `node` over HTTP with the given APIs (admin only when listed, as --http.api). */
async function serve(t: TestContext, node: NetNode, apis: string[]): Promise<(method: string, params?: unknown[]) => Promise<{ result?: any; error?: { code: number; message: string } }>> {
  const ctx = { chain: node.chain, clientVersion: clientVersion('0.1.0'), peerCount: () => node.network.chainPeers().length, admin: { network: node.network, chainConfig: node.chain.genesisSpec.config } }
  const server = await startHttpServer({ port: 0, methods: createRegistry(ctx).select(apis) })
  t.after(() => server.close())
  return async (method, params = []) => {
    const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
    return (await res.json()) as { result?: any; error?: { code: number; message: string } }
  }
}

/** Stops in-process nodes while their chains are open (the test's after hooks close the chains first). */
async function stopNodes(nodes: NetNode[]): Promise<void> {
  for (const node of nodes) {
    node.sync.stop()
    await node.network.stop()
  }
}

const connected = (a: NetNode, b: NetNode) => a.network.chainPeers().some((p) => p.id.equals(b.network.peerId))

describe('admin namespace', () => {
  it('is not served unless the transport lists it', async (t) => {
    const genesis = genesisJson()
    const node = await startNode(t, 'a', await openChain(t, genesis))
    const call = await serve(t, node, ['eth', 'net', 'web3'])
    assert.equal((await call('admin_nodeInfo')).error?.code, -32601)
    assert.equal((await call('rpc_modules')).result.admin, undefined)
  })

  it('admin_nodeInfo describes the node and its chain in geth shape', async (t) => {
    const genesis = genesisJson({ chainId: 4321 })
    const chain = await openChain(t, genesis)
    await extend(chain, 3)
    const node = await startNode(t, 'a', chain)
    const call = await serve(t, node, ['admin'])
    const info = (await call('admin_nodeInfo')).result
    assert.equal(info.id, node.network.peerId.toString())
    assert.equal(info.name, clientVersion('0.1.0'))
    assert.equal(info.enode, node.addr, 'enode is the dialable multiaddr, usable with admin_addPeer')
    assert.equal(info.ip, '127.0.0.1')
    assert.equal(info.ports.listener, Number(/\/tcp\/(\d+)/.exec(node.addr)![1]))
    assert.deepEqual(info.listenAddr, [node.addr])
    const head = chain.heads().latest
    assert.deepEqual(info.protocols.eth, {
      network: 4321,
      difficulty: Number(await chain.getTotalDifficulty(head.hash())),
      genesis: bytesToHex(chain.genesis.hash()),
      config: info.protocols.eth.config,
      head: bytesToHex(head.hash()),
    })
    assert.equal(info.protocols.eth.config.chainId, 4321)
    assert.equal(info.protocols.eth.config.pragueTime, 0)
    assert.deepEqual(info.protocols.eth.config.clique, { period: 0, epoch: 30000 })
  })

  it('admin_addPeer connects (and keeps connected), admin_peers lists, admin_removePeer disconnects', async (t) => {
    const genesis = genesisJson()
    const a = await startNode(t, 'a', await openChain(t, genesis))
    const bChain = await openChain(t, genesis)
    await extend(bChain, 2)
    const b = await startNode(t, 'b', bChain)
    const callA = await serve(t, a, ['admin'])
    const callB = await serve(t, b, ['admin'])

    assert.deepEqual(await callA('admin_peers'), { jsonrpc: '2.0', id: 1, result: [] })
    assert.equal((await callA('admin_addPeer', [b.addr])).result, true)
    await waitFor('a and b connected', () => connected(a, b) && connected(b, a))
    const [seenByA] = (await callA('admin_peers')).result
    assert.equal(seenByA.id, b.network.peerId.toString())
    assert.deepEqual(seenByA.network, { localAddress: a.addr, remoteAddress: b.addr, inbound: false, trusted: false, static: true })
    assert.deepEqual(seenByA.protocols.eth, { version: 1, difficulty: Number(await bChain.getTotalDifficulty(bChain.heads().latest.hash())), head: bytesToHex(bChain.heads().latest.hash()) })
    const [seenByB] = (await callB('admin_peers')).result
    assert.equal(seenByB.id, a.network.peerId.toString())
    assert.equal(seenByB.network.inbound, true)
    assert.equal(seenByB.network.static, false)

    assert.equal((await callA('admin_removePeer', [b.addr])).result, true)
    await waitFor('a and b apart', () => !connected(a, b) && !connected(b, a))
    assert.deepEqual((await callA('admin_peers')).result, [])
    // no longer static: the peer exchange does not dial it back
    await new Promise((r) => setTimeout(r, 1_200))
    assert.equal(connected(a, b), false)
    await stopNodes([a, b])
  })

  it('admin_blockPeer refuses a peer both ways until admin_unblockPeer (cairn extension)', async (t) => {
    const genesis = genesisJson()
    const a = await startNode(t, 'a', await openChain(t, genesis))
    const b = await startNode(t, 'b', await openChain(t, genesis), { host: { staticNodes: [a.addr] } })
    const callA = await serve(t, a, ['admin'])
    await waitFor('b dials its static node a', () => connected(a, b))

    assert.equal((await callA('admin_blockPeer', [b.network.peerId.toString()])).result, true)
    await waitFor('b dropped', () => !connected(a, b) && !connected(b, a))
    // b keeps redialling its static node every 500 ms, and a keeps refusing
    await new Promise((r) => setTimeout(r, 1_500))
    assert.equal(connected(a, b) || connected(b, a), false)

    assert.equal((await callA('admin_unblockPeer', [b.addr])).result, true)
    await waitFor('b back', () => connected(a, b) && connected(b, a))
    assert.equal((await callA('admin_blockPeer', ['not-a-peer'])).error?.code, -32602)
    await stopNodes([a, b])
  })
})
