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
import { devGenesis } from '../../src/config/devGenesis.ts'
import { CAIRN, runCairn, tempDir } from '../helpers.ts'

const [, signer, stranger] = devAccounts(3)

interface Proc {
  child: ChildProcess
  log: () => string
  exited: Promise<number | null>
}

function spawnCairn(t: TestContext, args: string[]): Proc {
  const child = spawn(process.execPath, [CAIRN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (d) => (log += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => child.kill('SIGKILL'))
  return { child, log: () => log, exited }
}

async function waitForLog(p: Proc, re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const m = re.exec(p.log())
    if (m) return m
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`no ${re} in:\n${p.log()}`)
}

async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM')
  assert.equal(await p.exited, 0)
}

/** A datadir whose genesis makes `signer` the only Clique signer (period 1), with both keys in its keystore. */
async function signerDatadir(t: TestContext): Promise<{ dir: string; password: string }> {
  const dir = tempDir(t)
  const genesis = join(dir, 'genesis.json')
  writeFileSync(genesis, JSON.stringify(devGenesis({ period: 1, gasLimit: 30_000_000n, signer: signer.address })))
  assert.equal((await runCairn(['init', '--datadir', dir, genesis])).code, 0)
  const keystore = new Keystore(join(dir, 'keystore'), { scryptN: LightScryptN, scryptP: LightScryptP })
  for (const a of [signer, stranger]) await keystore.importKey(hexToBytes(a.privateKey as `0x${string}`), 'correct horse')
  const password = join(dir, 'password.txt')
  writeFileSync(password, 'correct horse\n')
  return { dir, password }
}

describe('sealing node processes', () => {
  it('cairn --dev seals on its period and a restart continues the chain', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t)
    const first = spawnCairn(t, ['--dev', '--datadir', dir, '--http.port', '0'])
    await waitForLog(first, /Successfully sealed new block number=3 /)
    assert.match(first.log(), /\(0\) 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 \(10000 ETH\)\s+private key 0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80/)
    await stop(first)
    const head = Number(/Successfully sealed new block number=(\d+) (?![\s\S]*Successfully sealed)/.exec(first.log())![1])

    const second = spawnCairn(t, ['--dev', '--datadir', dir, '--http.port', '0'])
    await waitForLog(second, new RegExp(`Loaded chain .* head=${head} `))
    // a restarted sealer resumes within one period
    await waitForLog(second, new RegExp(`Successfully sealed new block number=${head + 1} `), 3_000)
    await stop(second)
  })

  it('--mine --unlock --password seals with a keystore key', { timeout: 60_000 }, async (t) => {
    const { dir, password } = await signerDatadir(t)
    const p = spawnCairn(t, ['--datadir', dir, '--port', '0', '--mine', '--unlock', signer.address, '--password', password])
    await waitForLog(p, /Sealing started signer=0x70997970c51812dc3a010c7d01b50e0d17dc79c8/)
    await waitForLog(p, /Successfully sealed new block number=2 .*inturn=true/)
    await stop(p)
  })

  it('a wrong password fails at startup with a clear message', async (t) => {
    const { dir } = await signerDatadir(t)
    const wrong = join(dir, 'wrong.txt')
    writeFileSync(wrong, 'battery staple\n')
    const r = await runCairn(['--datadir', dir, '--mine', '--unlock', signer.address, '--password', wrong])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Failed to unlock account 0x70997970c51812dc3a010c7d01b50e0d17dc79c8: could not decrypt key with given password/)
  })

  it('--mine without a key to unlock says what to do', async (t) => {
    const { dir } = await signerDatadir(t)
    const r = await runCairn(['--datadir', dir, '--mine'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--mine needs the signer key: pass --unlock ADDRESS --password FILE/)
  })

  it('a key that is not a signer logs a clear warning and stays a follower', { timeout: 30_000 }, async (t) => {
    const { dir, password } = await signerDatadir(t)
    const p = spawnCairn(t, ['--datadir', dir, '--port', '0', '--mine', '--unlock', stranger.address, '--password', password])
    await waitForLog(p, /Sealer is not an authorized signer: following the chain only signer=0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc/)
    await new Promise((r) => setTimeout(r, 1500))
    assert.doesNotMatch(p.log(), /Successfully sealed/)
    await stop(p)
  })
})

describe('votes over RPC', () => {
  it('clique_propose on a sealing node puts the vote into its next block', { timeout: 30_000 }, async (t) => {
    const dir = tempDir(t)
    const p = spawnCairn(t, ['--dev', '--datadir', dir, '--http.port', '0', '--http.api', 'eth,clique'])
    const [, endpoint] = await waitForLog(p, /HTTP server started endpoint=([\d.]+:\d+)/)
    const call = async (method: string, params: unknown[] = []) => {
      const res = await fetch(`http://${endpoint}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
      return ((await res.json()) as { result: any }).result
    }
    const candidate = signer.address.toLowerCase()
    assert.equal(await call('clique_propose', [candidate, true]), null)
    assert.deepEqual(await call('clique_proposals'), { [candidate]: true })
    // a single signer's vote passes at once: the candidate becomes a signer
    const deadline = Date.now() + 15_000
    while (!(await call('clique_getSigners')).includes(candidate) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    assert.ok((await call('clique_getSigners')).includes(candidate))
    await stop(p)
  })
})
