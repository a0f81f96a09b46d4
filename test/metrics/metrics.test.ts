import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import type { Block } from '@ethereumjs/block'

import { NodeMetrics } from '../../src/metrics/metrics.ts'
import { startMetricsServer } from '../../src/metrics/server.ts'
import { CAIRN, tempDir } from '../helpers.ts'

/** A chain stand-in: a head number and the 'head' event. */
class FakeChain extends EventEmitter<{ head: [Block, Block[]] }> {
  head = 7n
  heads() {
    return { latest: { number: this.head } }
  }
}

const fakeBlock = (number: bigint) => ({ header: { number } }) as unknown as Block

async function serve(t: TestContext, health: { peers: () => number | undefined; blocksBehind: () => bigint }, metrics = new NodeMetrics({ chain: new FakeChain() })) {
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry: metrics.registry, health })
  t.after(() => server.close())
  return server.url
}

describe('metrics', () => {
  it('reports head, peers, pool, histograms and blocks per signer in Prometheus text', async (t) => {
    const chain = new FakeChain()
    const metrics = new NodeMetrics({ chain, txpool: { status: () => ({ pending: 3, queued: 1 }) }, network: { chainPeers: () => [1, 2] }, signerOf: () => '0xaaaa' })
    chain.emit('head', fakeBlock(8n), [])
    chain.emit('head', fakeBlock(9n), [])
    metrics.observeImport(0.02)
    metrics.observeSeal(0.3)
    metrics.observeRpc('eth_blockNumber', 0.001, true, true)
    metrics.observeRpc('no_such', 0.001, false, false)
    const text = await (await fetch(`${await serve(t, { peers: () => 2, blocksBehind: () => 0n }, metrics)}/metrics`)).text()
    for (const line of [
      'cairn_chain_head_block 7',
      'cairn_p2p_peers 2',
      'cairn_txpool_pending 3',
      'cairn_txpool_queued 1',
      'cairn_block_import_seconds_count 1',
      'cairn_block_seal_seconds_count 1',
      'cairn_rpc_duration_seconds_count{method="eth_blockNumber",outcome="success"} 1',
      'cairn_rpc_duration_seconds_count{method="unknown",outcome="error"} 1',
      'cairn_clique_signed_blocks_total{signer="0xaaaa"} 2',
    ]) assert.ok(text.includes(`${line}\n`), `missing ${line}`)
    metrics.close()
  })

  it('answers liveness always and readiness by Besu rules: peers >= minPeers and blocks behind <= maxBlocksBehind', async (t) => {
    let peers: number | undefined = 0
    let behind = 0n
    const url = await serve(t, { peers: () => peers, blocksBehind: () => behind })
    const get = async (path: string) => {
      const res = await fetch(url + path)
      return [res.status, await res.text()]
    }
    assert.deepEqual(await get('/liveness'), [200, '{"status":"UP"}'])
    assert.deepEqual(await get('/readiness'), [503, '{"status":"DOWN"}'], 'default minPeers is 1')
    assert.deepEqual(await get('/readiness?minPeers=0'), [200, '{"status":"UP"}'])
    peers = 1
    behind = 2n
    assert.deepEqual(await get('/readiness'), [200, '{"status":"UP"}'], 'default maxBlocksBehind is 2')
    behind = 3n
    assert.deepEqual(await get('/readiness'), [503, '{"status":"DOWN"}'])
    assert.deepEqual(await get('/readiness?maxBlocksBehind=5'), [200, '{"status":"UP"}'])
    peers = undefined
    behind = 0n
    assert.deepEqual(await get('/readiness?minPeers=3'), [200, '{"status":"UP"}'], 'a node without networking needs no peers')
    assert.equal((await get('/readiness?minPeers=x'))[0], 400)
    assert.equal((await get('/nothing'))[0], 404)
  })

  it('a --dev node with --metrics serves its head, RPC latency and its own sealed blocks', async (t) => {
    const dir = tempDir(t)
    const child = spawn(process.execPath, [CAIRN, '--dev', '--datadir', dir, '--http.port', '0', '--metrics', '--metrics.port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] })
    t.after(() => child.kill('SIGKILL'))
    let log = ''
    const endpoints = await new Promise<{ rpc: string; metrics: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`node did not start:\n${log}`)), 30_000)
      child.stderr!.on('data', (d) => {
        log += d
        const rpc = /HTTP server started endpoint=(\S+)/.exec(log)
        const metrics = /Metrics server started endpoint=(\S+)/.exec(log)
        if (rpc && metrics) {
          clearTimeout(timer)
          resolve({ rpc: `http://${rpc[1]}`, metrics: `http://${metrics[1]}` })
        }
      })
    })
    const res = await fetch(endpoints.rpc, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' }) })
    assert.ok(((await res.json()) as { result?: string }).result)
    // one block a second: wait for two
    await new Promise((r) => setTimeout(r, 2500))
    const text = await (await fetch(`${endpoints.metrics}/metrics`)).text()
    assert.match(text, /^cairn_chain_head_block [1-9]\d*$/m)
    assert.match(text, /^cairn_rpc_duration_seconds_count\{method="eth_blockNumber",outcome="success"\} 1$/m)
    assert.match(text, /^cairn_block_seal_seconds_count [1-9]\d*$/m)
    assert.match(text, /^cairn_clique_signed_blocks_total\{signer="0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"\} [1-9]\d*$/m)
    assert.match(text, /^cairn_process_cpu_seconds_total /m)
    const ready = await fetch(`${endpoints.metrics}/readiness`)
    assert.equal(ready.status, 200, 'a node without networking is ready without peers')
  })
})
