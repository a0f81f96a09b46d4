import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'

import { PeerGate, connectedPeers, createHost, peerOf } from '../../src/net/host.ts'
import type { HostConfig } from '../../src/net/host.ts'
import { generateNodeKey } from '../../src/net/nodekey.ts'
import { deferCleanup } from '../helpers.ts'

async function host() {
  const cfg: HostConfig = { privateKey: await generateNodeKey('secp256k1'), listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootnodes: [], staticNodes: [], maxPeers: 10, discovery: false }
  return createHost(cfg, new PeerGate(undefined))
}

describe('host helpers', () => {
  it('peerOf names the /p2p/ peer of an address, parsing each id once', async () => {
    const id = peerIdFromPrivateKey(await generateNodeKey('secp256k1')).toString()
    const first = peerOf(`/ip4/10.0.0.1/tcp/30303/p2p/${id}`)
    assert.ok(first.equals(peerIdFromString(id)))
    // the same id behind another address: the id parsed before
    assert.equal(peerOf(`/dns4/node.example/tcp/1/p2p/${id}`), first)
    assert.throws(() => peerOf('/ip4/10.0.0.1/tcp/30303'), /has no \/p2p\/PEERID part/)
  })

  it('connectedPeers lists each connected peer once, as libp2p getPeers does', async (t) => {
    const [a, b, c] = [await host(), await host(), await host()]
    deferCleanup(t, () => Promise.all([a.stop(), b.stop(), c.stop()]))
    await Promise.all([a.start(), b.start(), c.start()])
    assert.deepEqual(connectedPeers(a), [])
    await a.dial(b.getMultiaddrs()[0])
    await c.dial(a.getMultiaddrs()[0])
    // the inbound side registers its connection a moment after the dialler's resolves
    for (let i = 0; i < 100 && a.getConnections().length < 2; i++) await new Promise((r) => setTimeout(r, 50))
    const ids = (peers: { toString(): string }[]) => peers.map(String).sort()
    assert.deepEqual(ids(connectedPeers(a)), ids([b.peerId, c.peerId]))
    assert.deepEqual(ids(connectedPeers(a)), ids(a.getPeers()))
  })
})
