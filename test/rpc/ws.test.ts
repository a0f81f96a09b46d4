import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { after, describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex } from '@ethereumjs/util'
import { WebSocket } from 'ws'

import type { Chain } from '../../src/chain/chain.ts'
import type { RpcContext } from '../../src/rpc/context.ts'
import { formatHeader, formatTransaction } from '../../src/rpc/format.ts'
import { createRegistry } from '../../src/rpc/index.ts'
import { optional } from '../../src/rpc/params.ts'
import type { Param } from '../../src/rpc/params.ts'
import { Registry, methodsOver, namespace, subscriptionsOver } from '../../src/rpc/registry.ts'
import { startHttpServer } from '../../src/rpc/server.ts'
import { startWsServer } from '../../src/rpc/ws.ts'
import type { WsServer, WsServerOptions } from '../../src/rpc/ws.ts'
import { ALICE_TOPIC, EVENTS_ADDRESS, PING_TOPIC, RpcSocket, buildForks, openChain, pingTx, topicOf } from './eventKit.ts'

/** The `test` namespace: calls, and a `ticks` subscription the test drives (an optional first tick at start). */
interface Ticks {
  listeners: Set<(value: unknown) => void>
  stopped: number
}
const anyJson: Param<unknown> = { optional: false, parse: (v) => v }
const ticks: Ticks = { listeners: new Set(), stopped: 0 }
const tick = (value: unknown) => [...ticks.listeners].forEach((notify) => notify(value))
const method = methodsOver<Ticks>()
const subscription = subscriptionsOver<Ticks>()
const testNs = namespace<Ticks>(
  'test',
  [method({ name: 'test_echo', params: [anyJson], handler: (_ctx, v) => v })],
  [
    subscription({
      name: 'ticks',
      params: [optional(anyJson)],
      start: (ctx, notify, first) => {
        if (first !== undefined) notify(first)
        ctx.listeners.add(notify)
        return () => {
          ctx.listeners.delete(notify)
          ctx.stopped++
        }
      },
    }),
  ],
)
const testMethods = () => new Registry().add(testNs, ticks).select(['test'])

interface Logged {
  msg: string
  ctx?: Record<string, unknown>
}

async function start(t: TestContext, opts: Partial<WsServerOptions> = {}): Promise<{ server: WsServer; logged: Logged[] }> {
  const logged: Logged[] = []
  const server = await startWsServer({ port: 0, methods: testMethods(), log: { warn: (msg, ctx) => logged.push({ msg, ctx }), debug: () => {} }, ...opts })
  t.after(() => server.close())
  return { server, logged }
}

async function openSocket(t: TestContext, url: string, opts: { origin?: string } = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, opts)
  t.after(() => ws.terminate())
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
  return ws
}

/** Sends one message and returns the next message received, as text. */
function exchange(ws: WebSocket, message: string | Buffer, opts: { binary?: boolean } = {}): Promise<string> {
  return new Promise((resolve) => {
    ws.once('message', (data) => resolve(data.toString()))
    ws.send(message, { binary: opts.binary ?? false })
  })
}

/** Resolves with the status code of a refused handshake. */
function refusedStatus(url: string, opts: { origin?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, opts)
    ws.on('open', () => reject(new Error('the handshake was accepted')))
    ws.on('error', () => {})
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (c: Buffer) => (body += c))
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
  })
}

/**
 * A client that completes the handshake, sends `messages` and then never reads again: a raw socket, paused. Its
 * frames are masked with a zero key, which leaves the payload as is.
 */
async function neverReadingClient(t: TestContext, port: number, messages: string[]): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  t.after(() => socket.destroy())
  socket.on('error', () => {})
  socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`)
  await new Promise((resolve) => socket.once('data', resolve))
  for (const text of messages) {
    const payload = Buffer.from(text)
    assert.ok(payload.length < 126)
    socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]))
  }
  // let the messages be handled before the client stops reading
  await new Promise((resolve) => setTimeout(resolve, 100))
  socket.pause()
  return socket
}

const until = async (what: string, check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('WebSocket JSON-RPC transport', () => {
  it('answers single calls and batches with the same limits as HTTP', async (t) => {
    const { server } = await start(t, { batchItemLimit: 3 })
    assert.match(server.url, /^ws:\/\/127\.0\.0\.1:\d+$/)
    const ws = await openSocket(t, server.url)
    assert.equal(await exchange(ws, '{"jsonrpc":"2.0","id":1,"method":"test_echo","params":["hi"]}'), '{"jsonrpc":"2.0","id":1,"result":"hi"}')
    const batch = JSON.stringify([1, 2].map((id) => ({ jsonrpc: '2.0', id, method: 'test_echo', params: [id] })))
    assert.equal(await exchange(ws, batch), '[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2}]')
    const tooLarge = JSON.stringify([1, 2, 3, 4].map((id) => ({ jsonrpc: '2.0', id, method: 'test_echo', params: [id] })))
    assert.equal(await exchange(ws, tooLarge), '[{"jsonrpc":"2.0","id":1,"error":{"code":-32600,"message":"batch too large"}}]')
    // a notification is run and not answered: the next answer is the next call's
    ws.send('{"jsonrpc":"2.0","method":"test_echo","params":[0]}')
    assert.equal(await exchange(ws, '{"jsonrpc":"2.0","id":"x","method":"rpc_modules"}'), '{"jsonrpc":"2.0","id":"x","result":{"rpc":"1.0","test":"1.0"}}')
  })

  it('answers malformed messages with errors and keeps the connection', async (t) => {
    const { server } = await start(t)
    const ws = await openSocket(t, server.url)
    assert.equal(await exchange(ws, '{"jsonrpc":"2.0","id":1,'), '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
    assert.equal(await exchange(ws, '[]'), '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}}')
    assert.equal(await exchange(ws, '7'), '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"invalid request"}}')
    assert.equal(await exchange(ws, Buffer.from([0xff, 0xfe, 0x00])), '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
    // gorilla's ReadJSON reads binary messages as well as text ones
    assert.equal(await exchange(ws, Buffer.from('{"jsonrpc":"2.0","id":2,"method":"test_echo","params":[2]}'), { binary: true }), '{"jsonrpc":"2.0","id":2,"result":2}')
  })

  it('closes the connection (1009) on a message over 32 MiB, geth read limit', async (t) => {
    const { server } = await start(t)
    const ws = await openSocket(t, server.url)
    const [head, tail] = ['{"jsonrpc":"2.0","id":1,"method":"test_echo","params":["', '"]}']
    const text = 'a'.repeat(32 * 1024 * 1024 - head.length - tail.length)
    const atLimit = `${head}${text}${tail}`
    assert.equal(await exchange(ws, atLimit), `{"jsonrpc":"2.0","id":1,"result":"${text}"}`)
    const closed = new Promise<number>((resolve) => ws.once('close', resolve))
    ws.send(`${atLimit} `)
    assert.equal(await closed, 1009)
  })

  it('checks Origin as geth: none passes, localhost by default, --ws.origins rules otherwise', async (t) => {
    const { server, logged } = await start(t)
    await openSocket(t, server.url)
    await openSocket(t, server.url, { origin: 'http://localhost:5173' })
    assert.deepEqual(await refusedStatus(server.url, { origin: 'http://evil.example' }), { status: 403, body: 'Forbidden\n' })
    assert.equal((await refusedStatus(server.url, { origin: 'https://localhost' })).status, 403, 'the default rule names the http scheme')
    assert.deepEqual(logged.at(-1), { msg: 'Rejected WebSocket connection', ctx: { origin: 'https://localhost' } })

    const listed = await start(t, { origins: ['https://app.example', 'wallet.example'] })
    await openSocket(t, listed.server.url, { origin: 'https://app.example:8443' })
    await openSocket(t, listed.server.url, { origin: 'chrome-extension://wallet.example' })
    assert.equal((await refusedStatus(listed.server.url, { origin: 'http://app.example' })).status, 403)
    assert.equal((await refusedStatus(listed.server.url, { origin: 'http://localhost' })).status, 403)

    const all = await start(t, { origins: ['*'] })
    await openSocket(t, all.server.url, { origin: 'http://evil.example' })
  })

  it('answers 404 to plain HTTP and to other paths', async (t) => {
    const { server } = await start(t)
    const status = await new Promise<number>((resolve, reject) => {
      request({ host: '127.0.0.1', port: server.port, method: 'GET', path: '/' }, (res) => resolve(res.statusCode!))
        .on('error', reject)
        .end()
    })
    assert.equal(status, 404)
    assert.equal((await refusedStatus(`${server.url}/other`)).status, 404)
  })

  it('subscribes as geth: an id, the answer before any notification, unsubscribe, errors', async (t) => {
    const { server } = await start(t)
    const ws = await openSocket(t, server.url)
    const received: string[] = []
    ws.on('message', (data) => received.push(data.toString()))
    ws.send('{"jsonrpc":"2.0","id":1,"method":"test_subscribe","params":["ticks","first"]}')
    await until('the answer and the first tick', () => received.length === 2)
    const id = JSON.parse(received[0]).result as string
    assert.match(id, /^0x[1-9a-f][0-9a-f]{0,31}$/, "geth's rpc.NewID: 16 random bytes, a quantity")
    assert.equal(received[1], `{"jsonrpc":"2.0","method":"test_subscription","params":{"subscription":"${id}","result":"first"}}`)

    tick({ n: 1 })
    await until('a tick', () => received.length === 3)
    assert.equal(received[2], `{"jsonrpc":"2.0","method":"test_subscription","params":{"subscription":"${id}","result":{"n":1}}}`)

    const rpc = (message: object) => exchange(ws, JSON.stringify({ jsonrpc: '2.0', id: 9, ...message }))
    assert.equal(await rpc({ method: 'test_unsubscribe', params: [id] }), '{"jsonrpc":"2.0","id":9,"result":true}')
    assert.equal(await rpc({ method: 'eth_unsubscribe', params: [id] }), '{"jsonrpc":"2.0","id":9,"error":{"code":-32000,"message":"subscription not found"}}')
    assert.equal(await rpc({ method: 'test_subscribe', params: ['nope'] }), '{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"no \\"nope\\" subscription in test namespace"}}')
    assert.equal(await rpc({ method: 'eth_subscribe', params: ['ticks'] }), '{"jsonrpc":"2.0","id":9,"error":{"code":-32601,"message":"no \\"ticks\\" subscription in eth namespace"}}')
    assert.equal(await rpc({ method: 'test_subscribe', params: [] }), '{"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"expected subscription name as first argument"}}')
    assert.equal(await rpc({ method: 'test_subscribe' }), '{"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"non-array args"}}')
    assert.equal(await rpc({ method: 'test_subscribe', params: ['ticks', 1, 2] }), '{"jsonrpc":"2.0","id":9,"error":{"code":-32602,"message":"too many arguments, want at most 2"}}')
    tick('after unsubscribe')
    assert.equal(await rpc({ method: 'test_echo', params: ['last'] }), '{"jsonrpc":"2.0","id":9,"result":"last"}', 'no notification came before it')

    // HTTP carries no notifications, as in geth
    const http = await startHttpServer({ port: 0, methods: testMethods() })
    t.after(() => http.close())
    const reply = await fetch(http.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"test_subscribe","params":["ticks"]}' })
    assert.equal(await reply.text(), '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"notifications not supported"}}')
  })

  it('ends the subscriptions of a connection when it closes', async (t) => {
    const { server } = await start(t)
    const ws = await openSocket(t, server.url)
    const stoppedBefore = ticks.stopped
    for (const id of [1, 2]) JSON.parse(await exchange(ws, JSON.stringify({ jsonrpc: '2.0', id, method: 'test_subscribe', params: ['ticks'] })))
    ws.close()
    await until('both subscriptions to stop', () => ticks.stopped === stoppedBefore + 2)
  })

  it('drops a client that stops reading once its unsent output passes the bound, and serves others meanwhile', { timeout: 15_000 }, async (t) => {
    const { server, logged } = await start(t, { maxSendBufferBytes: 1024 * 1024 })
    const listenersBefore = ticks.listeners.size
    await neverReadingClient(t, server.port, ['{"jsonrpc":"2.0","id":1,"method":"test_subscribe","params":["ticks"]}'])
    assert.equal(ticks.listeners.size, listenersBefore + 1)
    const other = await RpcSocket.open(server.url, t)
    const payload = 'x'.repeat(64 * 1024)
    const dropped = () => logged.some((l) => l.msg === 'Dropped WebSocket client' && l.ctx?.reason === 'send buffer full')
    let sent = 0
    // at most 128 MiB of notifications: far more than the socket buffers and the bound hold
    while (!dropped() && sent < 2048) {
      for (let i = 0; i < 16; i++, sent++) tick(payload)
      const started = Date.now()
      assert.equal(await other.call('test_echo', [sent]), sent)
      assert.ok(Date.now() - started < 1000, 'the other client is answered promptly')
    }
    assert.ok(dropped(), `dropped after ${sent} notifications of 64 KiB`)
    await until('the dropped client to be unsubscribed', () => ticks.listeners.size === listenersBefore)
  })

  it('drops a client that takes none of its output for the write timeout', { timeout: 15_000 }, async (t) => {
    const { server, logged } = await start(t, { writeTimeoutMs: 300, maxSendBufferBytes: 1024 ** 3 })
    await neverReadingClient(t, server.port, ['{"jsonrpc":"2.0","id":1,"method":"test_subscribe","params":["ticks"]}'])
    const dropped = () => logged.some((l) => l.msg === 'Dropped WebSocket client' && l.ctx?.reason === 'not reading')
    const payload = 'x'.repeat(64 * 1024)
    // fill the socket buffers, then wait for the timeout
    for (let i = 0; i < 512 && !dropped(); i++) {
      tick(payload)
      if (i % 16 === 0) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await until('the drop', dropped)
  })

  it('pings an idle connection and drops it when no pong comes', async (t) => {
    const { server, logged } = await start(t, { pingIntervalMs: 100, pongTimeoutMs: 100 })
    const answering = await RpcSocket.open(server.url, t)
    await neverReadingClient(t, server.port, [])
    await until('the silent client to be dropped', () => logged.some((l) => l.msg === 'Dropped WebSocket client' && l.ctx?.reason === 'no pong'))
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(logged.filter((l) => l.msg === 'Dropped WebSocket client').length, 1, 'a client that answers pings stays')
    assert.equal(await answering.call('test_echo', ['still here']), 'still here')
  })
})

describe('eth subscriptions on a Clique chain', () => {
  const pendingListeners = new Set<(txs: readonly TypedTransaction[]) => void>()
  after(() => pendingListeners.clear())

  async function serve(t: TestContext, chain: Chain): Promise<RpcSocket> {
    const ctx: RpcContext = {
      chain,
      clientVersion: 'test',
      peerCount: () => 0,
      chainEvents: chain,
      pendingTxs: {
        onPending: (listener) => {
          pendingListeners.add(listener)
          return () => pendingListeners.delete(listener)
        },
      },
    }
    const server = await startWsServer({ port: 0, methods: createRegistry(ctx).select(['eth']) })
    t.after(() => server.close())
    return RpcSocket.open(server.url, t)
  }

  it('newHeads: the header of each new head; logs: matching logs; after a reorg the removed logs again, then the new chain', { timeout: 15_000 }, async (t) => {
    const { block1, forkA, forkB } = await buildForks(t)
    const chain = await openChain(t)
    const client = await serve(t, chain)
    const heads = await client.call('eth_subscribe', ['newHeads'])
    const byAddress = await client.call('eth_subscribe', ['logs', { address: EVENTS_ADDRESS }])
    const threes = await client.call('eth_subscribe', ['logs', { topics: [PING_TOPIC, [ALICE_TOPIC], [topicOf(3n), topicOf(30n)]] }])
    const none = await client.call('eth_subscribe', ['logs', { address: [EVENTS_ADDRESS], topics: [null, null, null, null] }])
    assert.equal(new Set([heads, byAddress, threes, none]).size, 4)

    for (const block of [block1, ...forkA]) await chain.importBlock(block)
    const first = await client.take(8)
    const of = (id: string, from: typeof first) => from.filter((n) => n.subscription === id).map((n) => n.result)
    assert.deepEqual(of(heads, first), [block1, ...forkA].map((b) => formatHeader(b.header)))
    const minedA = of(byAddress, first)
    assert.deepEqual(minedA.map((l) => [l.blockHash, l.topics[2], l.removed]), forkA.map((b, i) => [bytesToHex(b.hash()), topicOf(BigInt(i + 1)), false]))
    assert.deepEqual(of(threes, first), [minedA[2]])

    // fork B is lighter until its second block: that import switches the chain over
    await chain.importBlock(forkB[0])
    await chain.importBlock(forkB[1])
    assert.equal(bytesToHex(chain.heads().latest.hash()), bytesToHex(forkB[1].hash()))
    const reorg = await client.take(8)
    assert.deepEqual(of(heads, reorg), [formatHeader(forkB[1].header)], 'as geth, only the new head is announced')
    const logs = of(byAddress, reorg)
    assert.deepEqual(logs.slice(0, 3), minedA.map((l) => ({ ...l, removed: true })), 'removed logs, oldest first')
    assert.deepEqual(logs.slice(3).map((l) => [l.blockHash, l.topics[2], l.removed]), forkB.map((b, i) => [bytesToHex(b.hash()), topicOf([20n, 30n][i]), false]))
    assert.deepEqual(of(threes, reorg), [{ ...minedA[2], removed: true }, logs[4]])
    assert.deepEqual(client.pending(), [], 'four topic positions never match three-topic logs')
  })

  it('newPendingTransactions: hashes, or whole pending transactions with true; syncing is accepted', async (t) => {
    const chain = await openChain(t)
    const client = await serve(t, chain)
    const hashes = await client.call('eth_subscribe', ['newPendingTransactions'])
    const full = await client.call('eth_subscribe', ['newPendingTransactions', true])
    await client.call('eth_subscribe', ['syncing'])
    assert.equal(pendingListeners.size, 1, 'the pool feed is listened to once')
    const txs = [pingTx(chain, 0n, 1n), pingTx(chain, 1n, 2n)]
    for (const listener of pendingListeners) listener(txs)
    const got = await client.take(4)
    assert.deepEqual(got.filter((n) => n.subscription === hashes).map((n) => n.result), txs.map((tx) => bytesToHex(tx.hash())))
    assert.deepEqual(got.filter((n) => n.subscription === full).map((n) => n.result), txs.map((tx) => formatTransaction(tx)))
    assert.equal(await client.call('eth_unsubscribe', [hashes]), true)
    assert.equal(await client.call('eth_unsubscribe', [full]), true)
    assert.equal(pendingListeners.size, 0, 'nobody left: the feed is let go')
  })
})
