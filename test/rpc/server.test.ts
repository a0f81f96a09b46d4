import assert from 'node:assert/strict'
import { request } from 'node:http'
import type { IncomingHttpHeaders } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { gunzipSync } from 'node:zlib'

import { serverError } from '../../src/rpc/errors.ts'
import { bytes, optional, quantity } from '../../src/rpc/params.ts'
import type { Param } from '../../src/rpc/params.ts'
import { Registry, methodsOver, namespace } from '../../src/rpc/registry.ts'
import { GZIP_MIN_BYTES, startHttpServer } from '../../src/rpc/server.ts'
import type { HttpServer, HttpServerOptions } from '../../src/rpc/server.ts'

const anyJson: Param<unknown> = { optional: false, parse: (v) => v }
const method = methodsOver<{ crashes: unknown[] }>()
const testNs = namespace<{ crashes: unknown[] }>('test', [
  method({ name: 'test_echo', params: [anyJson], handler: (_ctx, v) => v }),
  method({ name: 'test_add', params: [quantity, optional(quantity)], handler: (_ctx, a, b) => `0x${(a + (b ?? 0n)).toString(16)}` }),
  method({ name: 'test_data', params: [bytes], handler: (_ctx, b) => b.length }),
  method({ name: 'test_fail', params: [], handler: () => { throw serverError('header not found') } }),
  method({ name: 'test_throw', params: [], handler: () => { throw new TypeError('secret internals at /src/file.ts:1') } }),
  method({ name: 'test_reject', params: [], handler: async () => Promise.reject(new Error('async boom')) }),
  method({ name: 'test_bigint', params: [], handler: () => 1n }),
  method({ name: 'test_size', params: [anyJson], handler: (_ctx, n) => 'x'.repeat(Number(n)) }),
])
const hiddenNs = namespace<null>('hidden', [methodsOver<null>()({ name: 'hidden_call', params: [], handler: () => 'nope' })])

interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

function send(server: HttpServer, opts: { method?: string; path?: string; body?: string | Buffer; headers?: Record<string, string>; chunked?: boolean }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'content-type': 'application/json', ...opts.headers }
    if (opts.body !== undefined && !opts.chunked) headers['content-length'] = Buffer.byteLength(opts.body)
    const req = request({ host: '127.0.0.1', port: server.port, method: opts.method ?? 'POST', path: opts.path ?? '/', headers }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => {
        const raw = Buffer.concat(chunks)
        const body = res.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
        resolve({ status: res.statusCode!, headers: res.headers, body: body.toString('utf8') })
      })
    })
    req.on('error', reject)
    if (opts.body !== undefined) req.write(opts.body)
    req.end()
  })
}

const post = (server: HttpServer, body: string, headers?: Record<string, string>) => send(server, { body, headers })
const call = (id: unknown, m: string, params?: unknown[]) => ({ jsonrpc: '2.0', id, method: m, ...(params ? { params } : {}) })

describe('HTTP JSON-RPC server', () => {
  const crashes: unknown[] = []
  let server: HttpServer
  const extra: HttpServer[] = []
  const start = async (opts: Partial<HttpServerOptions>) => {
    const s = await startHttpServer({ port: 0, methods: new Registry().add(testNs, { crashes }).select(['test']), onInternalError: (_m, err) => crashes.push(err), ...opts })
    extra.push(s)
    return s
  }

  before(async () => {
    const registry = new Registry().add(testNs, { crashes }).add(hiddenNs, null)
    server = await startHttpServer({ port: 0, methods: registry.select(['test']), onInternalError: (_m, err) => crashes.push(err) })
  })
  after(async () => {
    await server.close()
    for (const s of extra) await s.close()
  })

  it('listens on 127.0.0.1 and reports its url', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.ok(server.port > 0)
  })

  it('answers a single call with members in geth order', async () => {
    const r = await post(server, JSON.stringify(call(1, 'test_add', ['0x1', '0x2'])))
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-type'], 'application/json')
    assert.equal(r.body, '{"jsonrpc":"2.0","id":1,"result":"0x3"}')
  })

  it('echoes ids exactly as sent', async () => {
    for (const id of ['12345678901234567890123', '1.0', '"a\\u0062c"', 'null', '-0']) {
      const r = await post(server, `{"jsonrpc":"2.0","id":${id},"method":"test_echo","params":[true]}`)
      assert.equal(r.body, `{"jsonrpc":"2.0","id":${id},"result":true}`)
    }
  })

  it('answers a batch in order, skipping notifications, with each error in place', async () => {
    const batch = [
      call(1, 'test_echo', [{ a: [1, 'b'] }]),
      { jsonrpc: '2.0', method: 'test_echo', params: [1] },
      call('two', 'eth_nothing'),
      { id: 3, method: 'test_echo', params: [1] },
      call(4, 'test_fail'),
      call(5, 'test_add', ['0x01']),
      42,
    ]
    const r = await post(server, JSON.stringify(batch))
    assert.deepEqual(JSON.parse(r.body), [
      { jsonrpc: '2.0', id: 1, result: { a: [1, 'b'] } },
      { jsonrpc: '2.0', id: 'two', error: { code: -32601, message: 'the method eth_nothing does not exist/is not available' } },
      { jsonrpc: '2.0', id: 3, error: { code: -32600, message: 'invalid request' } },
      { jsonrpc: '2.0', id: 4, error: { code: -32000, message: 'header not found' } },
      { jsonrpc: '2.0', id: 5, error: { code: -32602, message: 'invalid argument 0: json: cannot unmarshal hex number with leading zero digits into Go value of type *hexutil.Big' } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'invalid request' } },
    ])
  })

  it('sends nothing for notifications only, single or batched', async () => {
    const single = await post(server, JSON.stringify({ jsonrpc: '2.0', method: 'test_echo', params: [1] }))
    assert.equal(single.status, 200)
    assert.equal(single.body, '')
    const batch = await post(server, JSON.stringify([{ jsonrpc: '2.0', method: 'test_throw' }, { jsonrpc: '2.0', method: 'test_echo', params: [1] }]))
    assert.equal(batch.body, '')
  })

  it('drops responses and subscription notifications sent to it', async () => {
    assert.equal((await post(server, '{"jsonrpc":"2.0","id":1,"result":"0x1"}')).body, '')
    assert.equal((await post(server, '[{"jsonrpc":"2.0","method":"eth_subscription","params":{}}]')).body, '')
  })

  it('answers a parse error with -32700 and id null', async () => {
    for (const body of ['{', '[{"jsonrpc":"2.0",', 'nul']) {
      const r = await post(server, body)
      assert.equal(r.body, '{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"parse error"}}')
    }
  })

  it('answers invalid requests with -32600, keeping a valid id', async () => {
    const invalid = (id: string) => `{"jsonrpc":"2.0","id":${id},"error":{"code":-32600,"message":"invalid request"}}`
    assert.equal((await post(server, '{"jsonrpc":"2.0","id":7}')).body, invalid('7'))
    assert.equal((await post(server, '{"jsonrpc":"1.0","id":8,"method":"test_echo"}')).body, invalid('8'))
    assert.equal((await post(server, '{"jsonrpc":"2.0","id":{"a":1},"method":"test_echo"}')).body, invalid('null'))
    assert.equal((await post(server, '{"jsonrpc":"2.0","id":9,"method":5}')).body, invalid('9'))
    assert.equal((await post(server, '"hello"')).body, invalid('null'))
    assert.equal((await post(server, 'null')).body, invalid('null'))
  })

  it('answers an empty batch as geth: one error object, not an array', async () => {
    const r = await post(server, '[]')
    assert.equal(r.body, '{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"empty batch"}}')
  })

  it('answers unknown methods, and methods of namespaces not enabled, with -32601', async () => {
    const r = await post(server, JSON.stringify(call(1, 'eth_getFoo')))
    assert.equal(r.body, '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"the method eth_getFoo does not exist/is not available"}}')
    const hidden = await post(server, JSON.stringify(call(2, 'hidden_call')))
    assert.equal(hidden.body, '{"jsonrpc":"2.0","id":2,"error":{"code":-32601,"message":"the method hidden_call does not exist/is not available"}}')
    const sub = await post(server, JSON.stringify(call(3, 'eth_subscribe', ['newHeads'])))
    assert.equal(sub.body, '{"jsonrpc":"2.0","id":3,"error":{"code":-32601,"message":"notifications not supported"}}')
  })

  it('serves rpc_modules with the enabled namespaces', async () => {
    const r = await post(server, JSON.stringify(call(1, 'rpc_modules')))
    assert.equal(r.body, '{"jsonrpc":"2.0","id":1,"result":{"rpc":"1.0","test":"1.0"}}')
  })

  it("reports argument errors with geth's messages", async () => {
    const error = async (params: unknown) => JSON.parse((await post(server, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'test_add', params }))).body).error
    assert.deepEqual(await error(['0x1', '0x2', '0x3']), { code: -32602, message: 'too many arguments, want at most 2' })
    assert.deepEqual(await error([]), { code: -32602, message: 'missing value for required argument 0' })
    assert.deepEqual(await error(['1']), { code: -32602, message: 'invalid argument 0: json: cannot unmarshal hex string without 0x prefix into Go value of type *hexutil.Big' })
    assert.deepEqual(await error({ a: 1 }), { code: -32602, message: 'non-array args' })
    // the first bad argument is reported before too many arguments
    assert.deepEqual(await error(['0x1', 'x', '0x3']), { code: -32602, message: 'invalid argument 1: json: cannot unmarshal hex string without 0x prefix into Go value of type *hexutil.Big' })
    const data = await post(server, JSON.stringify(call(1, 'test_data', ['0xabc'])))
    assert.equal(JSON.parse(data.body).error.message, 'invalid argument 0: json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes')
  })

  it('keeps serving after handlers throw, without leaking what they threw', async () => {
    const before = crashes.length
    for (const m of ['test_throw', 'test_reject']) {
      const r = await post(server, JSON.stringify(call(1, m)))
      assert.equal(r.body, '{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"method handler crashed"}}')
    }
    assert.equal(crashes.length, before + 2)
    const marshal = JSON.parse((await post(server, JSON.stringify(call(2, 'test_bigint')))).body)
    assert.equal(marshal.error.code, -32603)
    const ok = await post(server, JSON.stringify(call(3, 'test_add', ['0x1'])))
    assert.equal(ok.body, '{"jsonrpc":"2.0","id":3,"result":"0x1"}')
  })

  it('refuses a body over maxBodyBytes with HTTP 413, declared or streamed', async () => {
    const small = await start({ maxBodyBytes: 100 })
    const big = JSON.stringify(call(1, 'test_echo', ['x'.repeat(200)]))
    const declared = await post(small, big)
    assert.equal(declared.status, 413)
    assert.equal(declared.body, `content length too large (${big.length}>100)\n`)
    const streamed = await send(small, { body: big, chunked: true })
    assert.equal(streamed.status, 413)
    const fits = await post(small, JSON.stringify(call(1, 'test_echo', ['x'])))
    assert.equal(fits.body, '{"jsonrpc":"2.0","id":1,"result":"x"}')
  })

  it('answers a batch over batchItemLimit with one "batch too large" error under the first call id', async () => {
    const limited = await start({ batchItemLimit: 2 })
    const r = await post(limited, JSON.stringify([{ jsonrpc: '2.0', method: 'test_echo', params: [1] }, call(10, 'test_echo', [1]), call(11, 'test_echo', [2])]))
    assert.equal(r.body, '[{"jsonrpc":"2.0","id":10,"error":{"code":-32600,"message":"batch too large"}}]')
    const ok = await post(limited, JSON.stringify([call(1, 'test_echo', [1]), call(2, 'test_echo', [2])]))
    assert.equal(ok.body, '[{"jsonrpc":"2.0","id":1,"result":1},{"jsonrpc":"2.0","id":2,"result":2}]')
  })

  it('answers the calls after batchResponseMaxSize is crossed with -32003', async () => {
    const limited = await start({ batchResponseMaxSize: 100 })
    const r = await post(limited, JSON.stringify([call(1, 'test_size', [60]), call(2, 'test_size', [60]), call(3, 'test_size', [1]), { jsonrpc: '2.0', method: 'test_size', params: [1] }]))
    const answers = JSON.parse(r.body)
    assert.equal(answers.length, 3)
    assert.equal(answers[1].result.length, 60)
    assert.deepEqual(answers[2], { jsonrpc: '2.0', id: 3, error: { code: -32003, message: 'response too large' } })
  })

  it('checks the Host header against vhosts, letting IP literals through', async () => {
    const status = async (s: HttpServer, host: string) => (await send(s, { body: JSON.stringify(call(1, 'test_echo', [1])), headers: { host } })).status
    assert.equal(await status(server, 'localhost:8545'), 200)
    assert.equal(await status(server, 'LOCALHOST'), 200)
    assert.equal(await status(server, '127.0.0.1:8545'), 200)
    assert.equal(await status(server, '[::1]:8545'), 200)
    assert.equal(await status(server, '10.1.2.3'), 200)
    const refused = await send(server, { body: '{}', headers: { host: 'evil.example:8545' } })
    assert.equal(refused.status, 403)
    assert.equal(refused.body, 'invalid host specified\n')
    const open = await start({ vhosts: ['*'] })
    assert.equal(await status(open, 'evil.example'), 200)
    const named = await start({ vhosts: ['Node.Example'] })
    assert.equal(await status(named, 'node.example:80'), 200)
    assert.equal(await status(named, 'localhost'), 403)
  })

  it('answers CORS preflights and tags allowed origins, as geth with --http.corsdomain', async () => {
    const cors = await start({ cors: ['http://app.example', 'https://*.dapp.example'] })
    const preflight = await send(cors, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.example', 'access-control-request-method': 'post', 'access-control-request-headers': 'content-type' },
    })
    assert.equal(preflight.status, 200)
    assert.equal(preflight.headers['access-control-allow-origin'], 'http://app.example')
    assert.equal(preflight.headers['access-control-allow-methods'], 'POST')
    assert.equal(preflight.headers['access-control-allow-headers'], 'Content-Type')
    assert.equal(preflight.headers['access-control-max-age'], '600')
    const wildcard = await send(cors, { body: JSON.stringify(call(1, 'test_echo', [1])), headers: { origin: 'https://x.dapp.example' } })
    assert.equal(wildcard.headers['access-control-allow-origin'], 'https://x.dapp.example')
    assert.equal(wildcard.headers.vary, 'Origin')
    // a foreign origin is still answered, without the header, so the browser withholds it
    const foreign = await send(cors, { body: JSON.stringify(call(1, 'test_echo', [1])), headers: { origin: 'http://evil.example' } })
    assert.equal(foreign.status, 200)
    assert.equal(foreign.headers['access-control-allow-origin'], undefined)
    const deniedPreflight = await send(cors, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } })
    assert.equal(deniedPreflight.headers['access-control-allow-origin'], undefined)
    const any = await start({ cors: ['*'] })
    const star = await send(any, { body: JSON.stringify(call(1, 'test_echo', [1])), headers: { origin: 'http://whoever.example' } })
    assert.equal(star.headers['access-control-allow-origin'], '*')
    // without --http.corsdomain no CORS headers at all
    const none = await send(server, { body: JSON.stringify(call(1, 'test_echo', [1])), headers: { origin: 'http://app.example' } })
    assert.equal(none.headers['access-control-allow-origin'], undefined)
  })

  it('answers HTTP-level requests as geth: health GET, methods, content types, paths', async () => {
    const health = await send(server, { method: 'GET', headers: {} })
    assert.equal(health.status, 200)
    assert.equal(health.body, '')
    const withQuery = await send(server, { method: 'GET', path: '/?x=1', headers: { 'content-type': '' } })
    assert.equal(withQuery.status, 415)
    assert.equal(withQuery.body, 'invalid content type, only application/json is supported\n')
    assert.equal((await send(server, { method: 'PUT', body: '{}' })).status, 405)
    assert.equal((await send(server, { method: 'DELETE' })).status, 405)
    assert.equal((await send(server, { body: '{}', headers: { 'content-type': 'text/plain' } })).status, 415)
    const charset = await send(server, { body: JSON.stringify(call(1, 'test_echo', [1])), headers: { 'content-type': 'application/json; charset=UTF-8' } })
    assert.equal(charset.body, '{"jsonrpc":"2.0","id":1,"result":1}')
    assert.equal((await send(server, { body: '{}', headers: { 'content-type': 'application/json-rpc' } })).status, 200)
    assert.equal((await send(server, { path: '/other', body: '{}' })).status, 404)
    const options = await send(server, { method: 'OPTIONS', headers: {} })
    assert.equal(options.status, 200)
    assert.equal(options.body, '')
  })

  it('gzips large answers for clients that accept it, not small ones', async () => {
    const r = await send(server, { body: JSON.stringify(call(1, 'test_size', [GZIP_MIN_BYTES])), headers: { 'accept-encoding': 'gzip, deflate' } })
    assert.equal(r.headers['content-encoding'], 'gzip')
    assert.equal(JSON.parse(r.body).result.length, GZIP_MIN_BYTES)
    const small = await send(server, { body: JSON.stringify(call(1, 'test_size', [1000])), headers: { 'accept-encoding': 'gzip, deflate' } })
    assert.equal(small.headers['content-encoding'], undefined)
    assert.equal(JSON.parse(small.body).result.length, 1000)
  })

  it('closes cleanly', async () => {
    const s = await startHttpServer({ port: 0, methods: new Registry().select([]) })
    await s.close()
    await assert.rejects(post(s, '{}'))
  })
})
