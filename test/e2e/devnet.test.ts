import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import type { DevnetNode } from '../../src/cli/devnet.ts'
import { NODE_FLAGS } from '../../src/cli/nodeFlags.ts'
import { CAIRN, runCairn, tempDir } from '../helpers.ts'
import { headsAgree, rpc, transferIsSealed, waitFor } from './networkChecks.ts'

/** Starts `cairn devnet ARGS` and resolves with its JSON line, a way to wait for its exit, and its stderr so far. */
async function startDevnet(t: TestContext, args: string[]) {
  const devnet = spawn(process.execPath, [CAIRN, 'devnet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.after(() => devnet.kill('SIGKILL'))
  let stderr = ''
  devnet.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => devnet.on('exit', (code) => resolve(code)))
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`devnet did not start:\n${stderr}`)), 90_000)
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
  return { devnet, nodes, exited, stderr: () => stderr }
}

// the two networks are independent: running them side by side keeps the file well under a minute
describe('cairn devnet', { concurrency: true }, () => {
  it('starts a bootnode, two sealers and a worker, prints them as one JSON line, seals a transfer, reports a dead node, stops the rest on SIGTERM', async (t) => {
    const dir = tempDir(t, 'cairn-devnet-')
    const { devnet, nodes, exited, stderr } = await startDevnet(t, ['--sealers', '2', '--workers', '1', '--datadir', dir, '--period', '1'])
    assert.deepEqual(nodes.map((n) => n.role), ['bootnode', 'sealer', 'sealer', 'worker'])
    const worker = nodes[3]
    assert.match(worker.rpc!, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(worker.ws!, /^ws:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(new Set(nodes.map((n) => n.peerId)).size, 4)
    // each node runs Node with NODE_FLAGS (V8's heap limit): the kernel's record of its command line
    for (const n of nodes) {
      const argv = readFileSync(`/proc/${n.pid}/cmdline`, 'utf8').split('\0')
      assert.deepEqual(argv.slice(1, 1 + NODE_FLAGS.length), [...NODE_FLAGS], `${n.role} ${n.pid}: ${argv.join(' ')}`)
    }

    const urls = nodes.filter((n) => n.rpc !== null).map((n) => n.rpc!)
    assert.equal(await rpc(worker.rpc!, 'eth_chainId'), '0x539')
    assert.deepEqual((await rpc(nodes[1].rpc!, 'clique_getSigners')).length, 2)
    await headsAgree(urls, 2, 40_000)
    const included = await transferIsSealed(worker.rpc!, 15_000)
    await headsAgree(urls, included, 15_000)

    // a node that dies is reported; the others keep running
    process.kill(worker.pid, 'SIGKILL')
    await waitFor('the report of the dead worker', 5_000, async () => (/Devnet node exited node=node3 role=worker/.test(stderr()) ? true : undefined))
    assert.equal(await rpc(nodes[1].rpc!, 'eth_chainId'), '0x539')

    devnet.kill('SIGTERM')
    assert.equal(await exited, 0)
    for (const n of nodes) assert.throws(() => process.kill(n.pid, 0), 'every child is gone')
  })

  it('--base-port gives fixed ports, and a second run continues the same chain', async (t) => {
    const dir = tempDir(t, 'cairn-devnet-')
    const base = 40_000 + Math.floor(Math.random() * 20_000)
    const args = ['--sealers', '1', '--workers', '0', '--datadir', dir, '--period', '1', '--base-port', String(base)]
    const first = await startDevnet(t, args)
    assert.match(first.nodes[0].p2p, new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/${base}/p2p/`))
    assert.match(first.nodes[1].p2p, new RegExp(`/tcp/${base + 1}/p2p/`))
    assert.equal(first.nodes[1].rpc, `http://127.0.0.1:${base + 101}`)
    const head = await waitFor('block 2', 10_000, async () => {
      const n = Number(await rpc(first.nodes[1].rpc!, 'eth_blockNumber'))
      return n >= 2 ? n : undefined
    })
    first.devnet.kill('SIGINT')
    assert.equal(await first.exited, 0)

    const second = await startDevnet(t, args)
    assert.ok(Number(await rpc(second.nodes[1].rpc!, 'eth_blockNumber')) >= head, 'the chain goes on from where it stopped')
    assert.equal(second.nodes[1].peerId, first.nodes[1].peerId, 'node keys are kept')
    second.devnet.kill('SIGTERM')
    assert.equal(await second.exited, 0)
  })

  it('refuses bad arguments with exit code 2 and prints its usage on --help', async () => {
    const missing = await runCairn(['devnet', '--sealers', '2'])
    assert.equal(missing.code, 2)
    assert.match(missing.stderr, /--datadir DIR is required/)
    const tooMany = await runCairn(['devnet', '--sealers', '11', '--datadir', 'x'])
    assert.equal(tooMany.code, 2)
    assert.match(tooMany.stderr, /--sealers: expected an integer in \[1, 10\]/)
    const help = await runCairn(['devnet', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /--base-port P/)
  })
})
