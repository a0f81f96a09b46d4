import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { startDevNode } from '../clients/devchain.ts'
import { NETWORK } from '../clients/network.ts'
import { ROOT } from '../helpers.ts'

const EXAMPLE = join(ROOT, 'examples/truffle')
// Truffle's CLI (its package.json `bin`) run on this Node (24), whatever `node` is first on PATH.
const TRUFFLE = join(EXAMPLE, 'node_modules/truffle/build/cli.bundled.js')

interface Run {
  code: number | null
  output: string
}

function run(command: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, CI: 'true' }
    delete childEnv.NODE_TEST_CONTEXT // this runner's marker: the child is not one of its tests
    const child = spawn(command, args, { cwd: EXAMPLE, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', (e) => (output += `\n${e.message}`))
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

/**
 * Installs examples/truffle from its lockfile unless already installed (~30-60 s, ~520 MB). Returns why the test
 * must be skipped when, and only when, the npm registry cannot be reached; any other install failure fails the test.
 */
async function installTruffle(): Promise<string | undefined> {
  if (existsSync(TRUFFLE)) return undefined
  // Asked first and without retries: npm ci would retry an unreachable registry for minutes before failing.
  const ping = await run('npm', ['ping', '--fetch-retries=0', '--fetch-timeout=15000'], {}, 30_000)
  if (ping.code !== 0) {
    const reason = /FetchError: .*/.exec(ping.output)?.[0] ?? ping.output.trim().split('\n').pop()
    return `the npm registry is unreachable, so examples/truffle cannot be installed from its lockfile (npm ping: ${reason})`
  }
  const ci = await run('npm', ['ci', '--no-audit', '--no-fund'], {}, 240_000)
  assert.equal(ci.code, 0, `npm ci in examples/truffle failed although the registry answers:\n${ci.output}`)
  return undefined
}

describe('Truffle 5 against cairn --dev', () => {
  it('migrates the tokens and passes truffle test', { timeout: 300_000 }, async (t) => {
    const skip = await installTruffle()
    if (skip) return t.skip(skip)
    const node = await startDevNode(t)
    const env = { CAIRN_URL: node.url }

    // --reset: build/ may remember addresses on another (earlier) dev chain with the same chain id;
    // --compile-all: the compiler is checked even when build/ is up to date
    const migrate = await run(process.execPath, [TRUFFLE, 'migrate', '--network', 'cairn', '--reset', '--compile-all'], env, 120_000)
    assert.equal(migrate.code, 0, migrate.output)
    assert.match(migrate.output, /solc: 0\.8\.30/)
    assert.match(migrate.output, /(Deploying|Replacing) 'CairnToken'[\s\S]*(Deploying|Replacing) 'CairnCollectible'/)
    assert.match(migrate.output, /Total deployments: +2/)

    const test = await run(process.execPath, [TRUFFLE, 'test', '--network', 'cairn'], env, 120_000)
    assert.equal(test.code, 0, test.output)
    assert.match(test.output, /3 passing/)
    assert.doesNotMatch(test.output, /failing/)

    assert.equal(await node.stop(), 0)
  })
})

// the migration alone (truffle test redeploys and takes as long again): Truffle's deploy flow on a real network
describe(`Truffle 5 against ${NETWORK.name}`, () => {
  it('migrates the tokens; both signers sealed blocks', { timeout: 300_000 }, async (t) => {
    const skip = await installTruffle()
    if (skip) return t.skip(skip)
    const node = await NETWORK.start(t)
    const migrate = await run(process.execPath, [TRUFFLE, 'migrate', '--network', 'cairn', '--reset'], { CAIRN_URL: node.url }, 120_000)
    assert.equal(migrate.code, 0, migrate.output)
    assert.match(migrate.output, /(Deploying|Replacing) 'CairnToken'[\s\S]*(Deploying|Replacing) 'CairnCollectible'/)
    assert.match(migrate.output, /Total deployments: +2/)
    await NETWORK.close(node)
    assert.equal(await node.stop(), 0)
  })
})
