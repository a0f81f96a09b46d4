import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { CAIRN, fixture, runCairn, tempDir } from '../helpers.ts'

interface Running {
  child: ChildProcess
  url: string
  stderr: () => string
}

/** Starts `cairn` with the given flags and waits for its HTTP endpoint line. */
function startNode(t: TestContext, args: string[]): Promise<Running> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    const timer = setTimeout(() => reject(new Error(`node did not start:\n${err}`)), 30_000)
    child.stderr!.on('data', (d) => {
      err += d
      const m = /HTTP server started endpoint=([\d.]+:\d+)/.exec(err)
      if (m) {
        clearTimeout(timer)
        resolve({ child, url: `http://${m[1]}`, stderr: () => err })
      }
    })
    child.on('exit', (code) => reject(new Error(`node exited with ${code}:\n${err}`)))
    t.after(() => child.kill('SIGKILL'))
  })
}

async function rpc(url: string, body: unknown): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return res.json()
}

describe('cairn node process', () => {
  it('serves the imported execution-apis chain over HTTP exactly as geth answers its fixtures, and stops on SIGTERM', async (t) => {
    const dir = tempDir(t)
    assert.equal((await runCairn(['init', '--datadir', dir, fixture('execution-apis/genesis.json')])).code, 0)
    assert.equal((await runCairn(['import', '--datadir', dir, fixture('execution-apis/chain.rlp')])).code, 0)
    const node = await startNode(t, ['--datadir', dir, '--http', '--http.port', '0', '--port', '0'])
    assert.match(node.url, /^http:\/\/127\.0\.0\.1:\d+$/, 'RPC binds 127.0.0.1 by default')

    // replay the suite's own request/response pairs for the methods this node serves
    const suite = new URL('../../../shared/conformance/execution-apis/tests/', import.meta.url).pathname
    let checked = 0
    for (const method of ['eth_chainId', 'eth_blockNumber', 'eth_getBlockByNumber', 'eth_getBlockByHash', 'eth_getBalance', 'eth_getCode', 'eth_getStorageAt', 'eth_getTransactionCount', 'eth_getTransactionByHash', 'eth_getTransactionReceipt', 'net_version']) {
      let files: string[] = []
      try {
        files = readdirSync(join(suite, method)).filter((f) => f.endsWith('.io'))
      } catch {
        continue // the shared suite is not beside this checkout
      }
      for (const f of files) {
        const lines = readFileSync(join(suite, method, f), 'utf8').split('\n')
        const req = lines.find((l) => l.startsWith('>> '))
        const res = lines.find((l) => l.startsWith('<< '))
        if (req === undefined || res === undefined) continue
        const expected = JSON.parse(res.slice(3))
        const got = await rpc(node.url, JSON.parse(req.slice(3)))
        if (expected.error !== undefined && got.error !== undefined) {
          assert.equal(got.error.code, expected.error.code, `${method}/${f}`)
        } else {
          assert.deepEqual(got, expected, `${method}/${f}`)
        }
        checked++
      }
    }
    t.diagnostic(`${checked} suite exchanges matched`)

    const unknown = await rpc(node.url, { jsonrpc: '2.0', id: 1, method: 'eth_fillTransaction', params: [] })
    assert.equal(unknown.error.code, -32601)
    const batch = await rpc(node.url, [{ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber' }, { jsonrpc: '2.0', id: 2, method: 'eth_chainId' }])
    assert.deepEqual(batch.map((r: any) => r.result), ['0x36', '0xc72dd9d5e883e'])

    const exited = new Promise<number | null>((resolve) => node.child.on('exit', (code) => resolve(code)))
    node.child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.match(node.stderr(), /Got SIGTERM, shutting down/)
  })
})
