import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { Contract, JsonRpcProvider, Wallet } from 'ethers'

import { startDevNode } from '../clients/devchain.ts'
import type { DevNode } from '../clients/devchain.ts'
import { DEV, NETWORK } from '../clients/network.ts'
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

/** development account 0, the `cairn` network's default key */
const DEV_DEPLOYER = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

/** `hardhat ignition deploy` of ignition/modules/Tokens.ts to `node` from `key` (its own deployment id); checks the contracts. */
async function deployTokens(t: TestContext, node: DevNode, env: Record<string, string>, deployer: string): Promise<void> {
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
  const token = new Contract(addresses['Tokens#CairnToken']!, ['function symbol() view returns (string)', 'function balanceOf(address) view returns (uint256)'], provider)
  assert.equal(await token.getFunction('symbol')(), 'CAIRN')
  assert.equal(await token.getFunction('balanceOf')(deployer), 1_000_000n * 10n ** 18n)
  const collectible = new Contract(addresses['Tokens#CairnCollectible']!, ['function name() view returns (string)', 'function ownerOf(uint256) view returns (address)'], provider)
  assert.equal(await collectible.getFunction('name')(), 'Cairn Collectible')
  assert.equal(await collectible.getFunction('ownerOf')(1n), deployer)
}

// Hardhat's runs share one project (artifacts, cache): the suites of this file run one after the other.
describe(`Hardhat 3 against ${DEV.name}`, () => {
  it('compiles offline, deploys the tokens with Ignition and passes its mocha and Solidity tests', { timeout: 180_000 }, async (t) => {
    const node = await DEV.start(t)
    const env = { CAIRN_URL: node.url }

    const build = await hardhat(['build'], env)
    assert.equal(build.code, 0, build.output)
    assert.match(build.output, /Compiled \d+ Solidity files? with solc 0\.8\.30 \(evm target: prague\)|No contracts to compile/)

    await deployTokens(t, node, env, DEV_DEPLOYER)

    const test = await hardhat(['test', '--network', 'cairn'], env, 120_000)
    assert.equal(test.code, 0, test.output)
    assert.match(test.output, /(\d+) passing \(2 solidity, \d+ mocha\)/)
    assert.doesNotMatch(test.output, /failing/)

    await DEV.close(node)
  })
})

// the deploy alone (its mocha tests above take as long again): what the README's `contracts:deploy` does on a network
describe(`Hardhat 3 against ${NETWORK.name}`, () => {
  it('deploys the tokens with Ignition; both signers sealed blocks', { timeout: 120_000 }, async (t) => {
    const node = await NETWORK.start(t)
    await deployTokens(t, node, { CAIRN_URL: node.url }, DEV_DEPLOYER)
    await NETWORK.close(node)
    assert.equal(await node.stop(), 0)
  })
})

describe('Hardhat Ignition on a free-gas chain (cairn --dev --dev.free-gas)', () => {
  it('deploys the tokens from an account with 0 ETH: Ignition sends maxFeePerGas 0 when the base fee is 0', { timeout: 120_000 }, async (t) => {
    const node = await startDevNode(t, ['--dev.free-gas'])
    const deployer = Wallet.createRandom()
    await deployTokens(t, node, { CAIRN_URL: node.url, CAIRN_KEY: deployer.privateKey }, deployer.address)
    const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1 })
    t.after(() => provider.destroy())
    assert.equal(await provider.getBalance(deployer.address), 0n)
    assert.equal(await provider.getTransactionCount(deployer.address), 3) // two deployments and the mint
    assert.equal(await node.stop(), 0)
  })
})
