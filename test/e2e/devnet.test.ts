import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { describe, it } from 'node:test'

import { CAIRN, tempDir } from '../helpers.ts'
import { headsAgree, rpc, transferIsSealed, waitFor } from './networkChecks.ts'

interface DevnetNode {
  role: 'bootnode' | 'sealer' | 'worker'
  rpc: string | null
  ws: string | null
  peerId: string
  pid: number
  datadir: string
}

describe('cairn devnet', () => {
  it('starts a bootnode, two sealers and a worker, prints them as one JSON line, seals a transfer, reports a dead node, stops the rest on SIGTERM', async (t) => {
    const dir = tempDir(t, 'cairn-devnet-')
    const devnet = spawn(process.execPath, [CAIRN, 'devnet', '--sealers', '2', '--workers', '1', '--datadir', dir, '--period', '1'], { stdio: ['ignore', 'pipe', 'pipe'] })
    t.after(() => devnet.kill('SIGKILL'))
    let stderr = ''
    devnet.stderr!.on('data', (d) => (stderr += d))
    const exited = new Promise<number | null>((resolve) => devnet.on('exit', (code) => resolve(code)))
    const line = await new Promise<string>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(() => reject(new Error(`devnet did not start:\n${stderr}`)), 40_000)
      devnet.stdout!.on('data', (d) => {
        out += d
        if (out.includes('\n')) {
          clearTimeout(timer)
          resolve(out.slice(0, out.indexOf('\n')))
        }
      })
      exited.then((code) => reject(new Error(`devnet exited with ${code}:\n${stderr}`)))
    })
    const { nodes } = JSON.parse(line) as { nodes: DevnetNode[] }
    // if the test fails midway, the children must not outlive it
    t.after(() => {
      for (const n of nodes) {
        try {
          process.kill(n.pid, 'SIGKILL')
        } catch {}
      }
    })
    assert.deepEqual(nodes.map((n) => n.role), ['bootnode', 'sealer', 'sealer', 'worker'])
    const worker = nodes[3]
    assert.match(worker.rpc!, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(worker.ws!, /^ws:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(new Set(nodes.map((n) => n.peerId)).size, 4)

    const urls = nodes.filter((n) => n.rpc !== null).map((n) => n.rpc!)
    assert.equal(await rpc(worker.rpc!, 'eth_chainId'), '0x539')
    assert.deepEqual((await rpc(nodes[1].rpc!, 'clique_getSigners')).length, 2)
    await headsAgree(urls, 2, 20_000)
    const included = await transferIsSealed(worker.rpc!, 15_000)
    await headsAgree(urls, included, 15_000)

    // a node that dies is reported; the others keep running
    process.kill(worker.pid, 'SIGKILL')
    await waitFor('the report of the dead worker', 5_000, async () => (/Devnet node exited node=node3 role=worker/.test(stderr) ? true : undefined))
    assert.equal(await rpc(nodes[1].rpc!, 'eth_chainId'), '0x539')

    devnet.kill('SIGTERM')
    assert.equal(await exited, 0)
    for (const n of nodes) assert.throws(() => process.kill(n.pid, 0), 'every child is gone')
  })
})
