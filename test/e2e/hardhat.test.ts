import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { Contract, JsonRpcProvider } from 'ethers'

import { startDevNode } from '../clients/devchain.ts'
import { ROOT } from '../helpers.ts'

// Hardhat's CLI (its package.json `bin`) run on this Node (24): `npx hardhat` would take whichever `node` is first on PATH.
const HARDHAT = join(ROOT, 'node_modules/hardhat/dist/src/cli.js')

interface Run {
  code: number | null
  output: string
}

function hardhat(args: string[], env: Record<string, string>, timeoutMs = 90_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env, HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: 'true', HARDHAT_DISABLE_TELEMETRY: 'true', CI: 'true' }
    delete childEnv.NODE_TEST_CONTEXT // this runner's marker: the child is not one of its tests
    const child = spawn(process.execPath, [HARDHAT, ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output += d))
    child.stderr.on('data', (d) => (output += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}

describe('Hardhat 3 against cairn --dev', () => {
  it('compiles offline, deploys the tokens with Ignition and passes its mocha and Solidity tests', { timeout: 180_000 }, async (t) => {
    const node = await startDevNode(t)
    const env = { CAIRN_URL: node.url }

    const build = await hardhat(['build'], env)
    assert.equal(build.code, 0, build.output)
    assert.match(build.output, /Compiled \d+ Solidity files? with solc 0\.8\.30 \(evm target: prague\)|No contracts to compile/)

    // A deployment id of its own: Ignition's journal in ignition/deployments belongs to one chain.
    const deploymentId = `e2e-${process.pid}-${Date.now()}`
    const deploymentDir = join(ROOT, 'ignition/deployments', deploymentId)
    t.after(() => rmSync(deploymentDir, { recursive: true, force: true }))
    const deploy = await hardhat(['ignition', 'deploy', 'ignition/modules/Tokens.ts', '--network', 'cairn', '--deployment-id', deploymentId], env)
    assert.equal(deploy.code, 0, deploy.output)
    assert.match(deploy.output, /successfully deployed/)

    const addresses = JSON.parse(readFileSync(join(deploymentDir, 'deployed_addresses.json'), 'utf8')) as Record<string, string>
    const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 })
    t.after(() => provider.destroy())
    const deployer = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
    const token = new Contract(addresses['Tokens#CairnToken']!, ['function symbol() view returns (string)', 'function balanceOf(address) view returns (uint256)'], provider)
    assert.equal(await token.getFunction('symbol')(), 'CAIRN')
    assert.equal(await token.getFunction('balanceOf')(deployer), 1_000_000n * 10n ** 18n)
    const collectible = new Contract(addresses['Tokens#CairnCollectible']!, ['function name() view returns (string)', 'function ownerOf(uint256) view returns (address)'], provider)
    assert.equal(await collectible.getFunction('name')(), 'Cairn Collectible')
    assert.equal(await collectible.getFunction('ownerOf')(1n), deployer)

    const test = await hardhat(['test', '--network', 'cairn'], env, 120_000)
    assert.equal(test.code, 0, test.output)
    assert.match(test.output, /(\d+) passing \(2 solidity, \d+ mocha\)/)
    assert.doesNotMatch(test.output, /failing/)

    assert.equal(await node.stop(), 0)
  })
})
