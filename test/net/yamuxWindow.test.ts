import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'

import type { Stream } from '@libp2p/interface'

import { PeerGate, createHost } from '../../src/net/host.ts'
import type { HostConfig } from '../../src/net/host.ts'
import { generateNodeKey } from '../../src/net/nodekey.ts'
import { deferCleanup } from '../helpers.ts'

const PROTOCOL = '/cairn-test/bulk/1'
const WINDOW_UPDATE = 1 // yamux frame type

async function host(): Promise<Awaited<ReturnType<typeof createHost>>> {
  const cfg: HostConfig = { privateKey: await generateNodeKey('secp256k1'), listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootnodes: [], staticNodes: [], maxPeers: 10, discovery: false }
  return createHost(cfg, new PeerGate(undefined))
}

/** Counts the window update frames a yamux stream sends from now on (its frame writer is an own property). */
function countWindowUpdates(stream: Stream): () => number {
  const s = stream as unknown as { sendFrame: (header: { type: number }, body?: unknown) => boolean }
  const send = s.sendFrame
  let count = 0
  s.sendFrame = (header, body) => {
    if (header.type === WINDOW_UPDATE) count++
    return send(header, body)
  }
  return () => count
}

describe('yamux receive windows', () => {
  it('a receiver grants window once half of it is used, not after every frame, and every byte still arrives', async (t) => {
    const [a, b] = [await host(), await host()]
    deferCleanup(t, () => Promise.all([a.stop(), b.stop()]))
    await Promise.all([a.start(), b.start()])

    const received = new Promise<{ bytes: number; sha: string; updates: number }>((resolve, reject) => {
      void b.handle(PROTOCOL, async (stream) => {
        const updates = countWindowUpdates(stream)
        const sha = createHash('sha256')
        let bytes = 0
        try {
          for await (const chunk of stream) {
            const data = chunk.subarray()
            sha.update(data)
            bytes += data.length
          }
          await stream.close()
          resolve({ bytes, sha: sha.digest('hex'), updates: updates() })
        } catch (err) {
          reject(err)
        }
      })
    })

    // 2,000 small messages, as gossip sends them, then 3 MiB: many windows' worth
    const messages = Array.from({ length: 2000 }, (_, i) => new Uint8Array(1024).fill(i % 251))
    messages.push(Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) % 256))
    const sent = createHash('sha256')
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], PROTOCOL)
    for (const m of messages) {
      sent.update(m)
      if (!stream.send(m)) await stream.onDrain()
    }
    await stream.close()

    const got = await received
    assert.equal(got.bytes, 2000 * 1024 + 3 * 1024 * 1024)
    assert.equal(got.sha, sent.digest('hex'))
    // 5 MiB granted in halves of a window of at least 256 KiB: at most 40 updates (5 here); the library's own rule, an
    // update after every frame received, sent 265
    assert.ok(got.updates > 0 && got.updates <= 40, `${got.updates} window updates`)
  })
})
