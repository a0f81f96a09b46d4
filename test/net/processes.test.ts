import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Keystore, LightScryptN, LightScryptP } from '../../src/accounts/keystore.ts'
import { Chain } from '../../src/chain/chain.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import { CAIRN, tempDir } from '../helpers.ts'

const SIGNERS = devAccounts(3)
const PASSWORD = 'correct horse'

interface Proc {
  name: string
  child: ChildProcess
  log: () => string
  exited: Promise<number | null>
}

function spawnCairn(t: TestContext, name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [CAIRN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (d) => {
    log += d
    if (process.env.CAIRN_TEST_VERBOSITY) process.stderr.write(`[${name}] ${d}`)
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => child.kill('SIGKILL'))
  return { name, child, log: () => log, exited }
}

async function waitForLog(p: Proc, re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const m = re.exec(p.log())
    if (m) return m
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${p.name}: no ${re} within ${ms} ms in:\n${p.log()}`)
}

async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  return ((await res.json()) as { result: unknown }).result
}

async function head(url: string): Promise<{ number: number; hash: string }> {
  const b = await rpc(url, 'eth_getBlockByNumber', ['latest', false])
  return { number: Number(b.number), hash: b.hash }
}

async function waitUntil(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await cond().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** A datadir initialised with `genesis`, holding `key` (if any) in its keystore. */
async function datadir(t: TestContext, genesis: string, key?: string): Promise<string> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis)
  if (key !== undefined) {
    const keystore = new Keystore(join(dir, 'keystore'), { scryptN: LightScryptN, scryptP: LightScryptP })
    await keystore.importKey(hexToBytes(key as `0x${string}`), PASSWORD)
  }
  writeFileSync(join(dir, 'password.txt'), `${PASSWORD}\n`)
  return dir
}

describe('a Clique network of cairn processes', () => {
  it('3 sealers and a worker meet through a bootnode, agree on the head, survive a kill -9 and take the sealer back', { timeout: 120_000 }, async (t) => {
    const started = Date.now()
    const genesis = JSON.stringify(
      buildCliqueGenesis({ chainId: 4242, period: 1, epoch: 30000, signers: SIGNERS.map((s) => s.address), alloc: [], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
    )
    const bootnode = spawnCairn(t, 'bootnode', ['bootnode', '--nodekey', join(tempDir(t), 'boot.key'), '--addr', '/ip4/127.0.0.1/tcp/0'])
    const bootAddr = (await waitForLog(bootnode, /Started bootnode self=(\S+)/))[1]
    const p2p = ['--addr', '127.0.0.1', '--port', '0', '--bootnodes', bootAddr, '--http', '--http.port', '0']
    const sealerArgs = (dir: string, i: number) => ['--datadir', dir, ...p2p, '--mine', '--unlock', SIGNERS[i].address, '--password', join(dir, 'password.txt')]

    const dirs = await Promise.all(SIGNERS.map((s) => datadir(t, genesis, s.privateKey)))
    const sealers = dirs.map((dir, i) => spawnCairn(t, `sealer${i}`, sealerArgs(dir, i)))
    const worker = spawnCairn(t, 'worker', ['--datadir', await datadir(t, genesis), ...p2p])
    const url = async (p: Proc) => `http://${(await waitForLog(p, /HTTP server started endpoint=([\d.]+:\d+)/))[1]}`
    const urls = await Promise.all([...sealers, worker].map(url))
    const workerUrl = urls[3]
    for (const p of [...sealers, worker]) await waitForLog(p, /Started P2P networking self=\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/\S+/)
    const up = Date.now()

    // everyone finds everyone through the bootnode, and the heads agree within two periods
    await waitUntil('the worker at block 5', async () => (await head(workerUrl)).number >= 5, 30_000)
    await waitUntil('one head on all four nodes', async () => {
      const heads = await Promise.all(urls.map(head))
      return heads.every((h) => h.hash === heads[0].hash)
    }, 2_000)
    const agreed = Date.now()
    assert.equal(parseInt(await rpc(workerUrl, 'net_peerCount'), 16) >= 3, true, 'the worker counts the three sealers as peers')
    assert.equal(await rpc(workerUrl, 'eth_syncing'), false)

    // a sealer dies without a word; the two left keep sealing (each may seal every other block)
    sealers[0].child.kill('SIGKILL')
    await sealers[0].exited
    const before = (await head(workerUrl)).number
    await waitUntil('three more blocks without sealer 0', async () => (await head(workerUrl)).number >= before + 3, 15_000)

    // back on its datadir and node key, it catches up before it seals again
    const back = spawnCairn(t, 'sealer0-again', sealerArgs(dirs[0], 0))
    const backUrl = await url(back)
    const afterRestart = Date.now()
    await waitForLog(back, /Peer connected/, 15_000)
    await waitUntil('the restarted sealer on the common head', async () => {
      const [a, b] = await Promise.all([head(backUrl), head(workerUrl)])
      return a.hash === b.hash && a.number >= before + 3
    }, 15_000)
    const sealedLine = await waitForLog(back, /Successfully sealed new block number=(\d+)/, 15_000)
    const resealed = Date.now()
    assert.ok(Number(sealedLine[1]) > before + 3, 'it sealed on the current chain, not on its stale head')
    await waitUntil('its block on the worker', async () => (await rpc(workerUrl, 'eth_getBlockByNumber', [`0x${Number(sealedLine[1]).toString(16)}`, false])) !== null, 5_000)

    t.diagnostic(`startup ${((up - started) / 1000).toFixed(1)} s, agreement after ${((agreed - up) / 1000).toFixed(1)} s, restart to sealing ${((resealed - afterRestart) / 1000).toFixed(1)} s`)
    for (const p of [...sealers.slice(1), worker, back, bootnode]) p.child.kill('SIGTERM')
    for (const p of [...sealers.slice(1), worker, back, bootnode]) assert.equal(await p.exited, 0, `${p.name} stopped cleanly`)
  })
})
