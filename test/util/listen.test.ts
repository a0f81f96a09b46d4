import assert from 'node:assert/strict'
import { createServer } from 'node:http'
import { describe, it } from 'node:test'

import { hostPort, listen } from '../../src/util/listen.ts'

describe('listen', () => {
  it('writes an IPv6 host in brackets and leaves IPv4 hosts and names as they are', () => {
    assert.equal(hostPort('::1', 8545), '[::1]:8545')
    assert.equal(hostPort('fe80::1', '30303'), '[fe80::1]:30303')
    assert.equal(hostPort('127.0.0.1', 8545), '127.0.0.1:8545')
    assert.equal(hostPort('localhost', 8546), 'localhost:8546')
  })

  it('gives the port a server was bound to when asked for any, and the URL clients use', async (t) => {
    const server = createServer((_req, res) => res.end('up'))
    t.after(() => server.close())
    const { url, port } = await listen(server, 0, '127.0.0.1', 'http')
    assert.ok(port > 0)
    assert.equal(url, `http://127.0.0.1:${port}`)
    assert.equal(await (await fetch(url)).text(), 'up')
  })

  it('rejects with the listen error and leaves no error listener behind', async (t) => {
    const first = createServer()
    t.after(() => first.close())
    const { port } = await listen(first, 0, '127.0.0.1', 'http')
    const second = createServer()
    await assert.rejects(listen(second, port, '127.0.0.1', 'http'), { code: 'EADDRINUSE' })
    const third = createServer()
    t.after(() => third.close())
    await listen(third, 0, '127.0.0.1', 'ws')
    assert.equal(third.listenerCount('error'), 0)
  })
})
