import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'

import { CAIRN, fixture, runCairn, tempDir } from '../helpers.ts'
import { CONFORMANCE, fixtureMethods, fixtureTests } from '../rpc/fixtureChain.ts'

/** A small seeded PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = Number(process.env.CAIRN_FUZZ_SEED ?? 20261122)
const REQUESTS = 3000

/** Values that break naive decoders: wrong types, huge and negative numbers, odd hex, deep nesting. */
const NASTY: unknown[] = [
  null, true, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, '', '0x', '0x0', '0x00', '0xzz', '0x123', `0x${'f'.repeat(70)}`, `0x${'00'.repeat(5000)}`,
  '-0x1', 'latest', 'pending', 'earliest', 'safe', 'finalized', 'nope', [], {}, [[[[[]]]]], { blockHash: '0x1' }, { blockNumber: '0xffffffffffffffff' },
  { from: '0x1', to: null, gas: '0x' }, { fromBlock: '0x10', toBlock: '0x1' }, { address: [[]], topics: [[null, '0x']] }, 'a'.repeat(10000),
]

function mutate(value: unknown, rnd: () => number, depth = 0): unknown {
  const r = rnd()
  if (r < 0.25 || depth > 4) return NASTY[Math.floor(rnd() * NASTY.length)]
  if (typeof value === 'string' && value.startsWith('0x') && r < 0.6) {
    const chars = value.split('')
    const i = 2 + Math.floor(rnd() * Math.max(1, chars.length - 2))
    chars[i] = '0123456789abcdefxyz'[Math.floor(rnd() * 19)]
    return rnd() < 0.5 ? chars.join('') : chars.slice(0, i).join('')
  }
  if (Array.isArray(value)) return value.map((v) => (rnd() < 0.5 ? mutate(v, rnd, depth + 1) : v)).concat(rnd() < 0.1 ? [NASTY[0]] : [])
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) if (rnd() > 0.1) out[k] = rnd() < 0.5 ? mutate(v, rnd, depth + 1) : v
    return out
  }
  return value
}

describe('fuzzing the JSON-RPC endpoint', () => {
  it(`${REQUESTS} random and mutated requests get JSON-RPC answers and the node keeps serving (seed ${SEED})`, { timeout: 240_000 }, async (t) => {
    const dir = tempDir(t)
    assert.equal((await runCairn(['init', '--datadir', dir, fixture('execution-apis/genesis.json')])).code, 0)
    assert.equal((await runCairn(['import', '--datadir', dir, fixture('execution-apis/chain.rlp')])).code, 0)
    const child = spawn(process.execPath, [CAIRN, '--datadir', dir, '--http', '--http.port', '0', '--port', '0', '--maxpeers', '0', '--http.api', 'eth,net,web3,debug,txpool,testing,admin,clique', '--rpc.evmtimeout', '1s'], { stdio: ['ignore', 'ignore', 'pipe'] })
    t.after(() => child.kill('SIGKILL'))
    let log = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (d) => {
        log += d
        const m = /HTTP server started endpoint=([\d.]+:\d+)/.exec(log)
        if (m) resolve(`http://${m[1]}`)
      })
      child.on('exit', (code) => reject(new Error(`cairn exited with ${code}:\n${log}`)))
    })

    // seeds: every request of the conformance suite (every method, realistic shapes), plus unknown methods
    const seeds: { method: string; params: unknown }[] = []
    for (const method of fixtureMethods()) {
      for (const test of fixtureTests(method)) for (const ex of test.exchanges) seeds.push(JSON.parse(ex.request))
    }
    assert.ok(seeds.length > 100, `seeds from ${CONFORMANCE}`)
    const rnd = prng(SEED)
    const bodies: string[] = []
    for (let i = 0; i < REQUESTS; i++) {
      const seed = seeds[Math.floor(rnd() * seeds.length)]
      const kind = rnd()
      if (kind < 0.05) bodies.push(JSON.stringify(seed).slice(0, Math.floor(rnd() * 40))) // truncated JSON
      else if (kind < 0.1) bodies.push(JSON.stringify([seed, mutate(seed, rnd), 7])) // batches with junk members
      else if (kind < 0.15) bodies.push(JSON.stringify({ jsonrpc: '2.0', id: i, method: `eth_${Math.floor(rnd() * 1e6).toString(36)}`, params: [] }))
      else bodies.push(JSON.stringify({ jsonrpc: '2.0', id: i, method: rnd() < 0.9 ? seed.method : mutate(seed.method, rnd), params: mutate(seed.params, rnd) }))
    }

    const answer = async (body: string) => {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      const text = await res.text()
      assert.ok(res.status === 200 || res.status === 413, `HTTP ${res.status} for ${body.slice(0, 200)}`)
      // notifications (a mutation may drop the id) are answered with an empty body, as geth does
      if (res.status !== 200 || text === '') return
      const json = JSON.parse(text)
      for (const r of Array.isArray(json) ? json : [json]) {
        assert.equal(r.jsonrpc, '2.0', text.slice(0, 200))
        assert.ok('result' in r !== 'error' in r, `exactly one of result/error: ${text.slice(0, 200)}`)
        if (r.error !== undefined) {
          assert.equal(typeof r.error.code, 'number')
          assert.doesNotMatch(String(r.error.message), /\n\s+at /, `no stack traces: ${r.error.message}`)
        }
      }
    }
    let next = 0
    const worker = async () => {
      while (next < bodies.length) await answer(bodies[next++])
    }
    await Promise.all(Array.from({ length: 8 }, worker))

    const head = await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"}' })).json()
    assert.deepEqual(head, { jsonrpc: '2.0', id: 1, result: '0x36' })
    assert.equal(child.exitCode, null, 'the node is still running')
  })
})
