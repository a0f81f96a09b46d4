import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { bytesToHex, createAddressFromString } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { signersFromExtraData } from '../../src/consensus/clique/snapshot.ts'
import { runCairn, tempDir } from '../helpers.ts'

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const B = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const C = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC'
const BEACON_ROOTS = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
const CONSOLIDATION_REQUESTS = '0x0000bbddc7ce488642fb579f8b00f3a590007251'
/** `cairn --dev`'s genesis (gas limit 60M), asserted against devGenesis in test/config/genesisBuilder.test.ts */
const DEV_GENESIS_HASH = '0x3655f29066a51ddaea6a0020cbaa56dbafe6872c9a0d8c01642071e63be98ef4'

async function genesisNew(args: string[]): Promise<string> {
  const r = await runCairn(['genesis', 'new', ...args])
  assert.equal(r.code, 0, r.stderr)
  return r.stdout
}

/** `cairn genesis new` then `cairn init` as processes, then the chain opened in this process. */
async function initChain(t: TestContext, args: string[]): Promise<Chain> {
  const dir = tempDir(t)
  const file = join(dir, 'genesis.json')
  const r = await runCairn(['genesis', 'new', ...args, '--out', file])
  assert.equal(r.code, 0, r.stderr)
  const init = await runCairn(['init', '--datadir', join(dir, 'data'), file])
  assert.equal(init.code, 0, init.stderr)
  const chain = await Chain.open(join(dir, 'data'))
  t.after(() => chain.close())
  return chain
}

async function initInProcess(t: TestContext, genesisJson: string): Promise<Chain> {
  const dir = tempDir(t)
  await Chain.init(dir, genesisJson)
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  return chain
}

describe('cairn genesis new', () => {
  it('writes a genesis that cairn init accepts, with its signers, balances and Prague by default', async (t) => {
    const chain = await initChain(t, ['--chain-id', '4242', '--period', '5', '--epoch', '100', '--signer', B, '--signer', A, '--alloc', `${A}=1000000000000000000`, '--alloc', `${C}=0x2a`])
    assert.equal(chain.chainId, 4242n)
    assert.deepEqual(signersFromExtraData(chain.genesis.header.extraData), [A, B].map((s) => s.toLowerCase()).sort())
    const state = await chain.stateAt(chain.genesis.header)
    assert.equal((await state.getAccount(createAddressFromString(A)))?.balance, 10n ** 18n)
    assert.equal((await state.getAccount(createAddressFromString(C)))?.balance, 42n)
    assert.ok((await state.getCode(createAddressFromString(CONSOLIDATION_REQUESTS))).length > 0)
    const header = chain.genesis.header
    assert.equal(header.gasLimit, 30_000_000n)
    assert.equal(header.baseFeePerGas, 1_000_000_000n)
    assert.ok(header.requestsHash !== undefined)
    assert.ok(header.common.isActivatedEIP(7702))
  })

  const forks = [
    ['london', { withdrawals: false, blobs: false, requests: false }],
    ['shanghai', { withdrawals: true, blobs: false, requests: false }],
    ['cancun', { withdrawals: true, blobs: true, requests: false }],
    ['prague', { withdrawals: true, blobs: true, requests: true }],
  ] as const
  for (const [fork, active] of forks) {
    it(`--fork ${fork}: the genesis header has exactly the fields of the forks up to ${fork}`, async (t) => {
      const chain = await initInProcess(t, await genesisNew(['--chain-id', '7', '--period', '1', '--signer', A, '--fork', fork]))
      assert.equal(chain.common.getHardforkBy({ blockNumber: 0n, timestamp: 0n }), fork)
      const header = chain.genesis.header
      assert.equal(header.baseFeePerGas !== undefined, true)
      assert.equal(header.withdrawalsRoot !== undefined, active.withdrawals)
      assert.equal(header.common.isActivatedEIP(4895), active.withdrawals)
      assert.equal(header.blobGasUsed !== undefined && header.excessBlobGas !== undefined && header.parentBeaconBlockRoot !== undefined, active.blobs)
      assert.equal(header.common.isActivatedEIP(4844), active.blobs)
      assert.equal(header.requestsHash !== undefined, active.requests)
      assert.equal(header.common.isActivatedEIP(7685), active.requests)
      const state = await chain.stateAt(header)
      assert.equal((await state.getCode(createAddressFromString(BEACON_ROOTS))).length > 0, active.blobs)
      assert.equal((await state.getCode(createAddressFromString(CONSOLIDATION_REQUESTS))).length > 0, active.requests)
    })
  }

  it('takes repeated flags and comma-separated lists alike', async () => {
    const repeated = await genesisNew(['--chain-id', '7', '--period', '1', '--signer', A, '--signer', B, '--alloc', `${A}=1`, '--alloc', `${B}=2`])
    const commas = await genesisNew(['--chain-id', '7', '--period', '1', '--signer', `${A},${B}`, '--alloc', `${A}=1,${B}=2`])
    assert.equal(commas, repeated)
  })

  it('writes clique.emptyBlocks only for --empty-blocks false, and sets the gas limit', async () => {
    const plain = JSON.parse(await genesisNew(['--chain-id', '7', '--period', '1', '--signer', A, '--empty-blocks', 'true']))
    assert.deepEqual(plain.config.clique, { period: 1, epoch: 30000 })
    const strict = JSON.parse(await genesisNew(['--chain-id', '7', '--period', '1', '--signer', A, '--empty-blocks', 'false', '--gas-limit', '60000000']))
    assert.deepEqual(strict.config.clique, { period: 1, epoch: 30000, emptyBlocks: false })
    assert.equal(strict.gasLimit, '0x3938700')
  })

  it('--out writes the same JSON as stdout and never replaces an existing file', async (t) => {
    const args = ['--chain-id', '7', '--period', '1', '--signer', A]
    const file = join(tempDir(t), 'genesis.json')
    const r = await runCairn(['genesis', 'new', ...args, '--out', file])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    assert.equal(readFileSync(file, 'utf8'), await genesisNew(args))
    writeFileSync(file, 'keep me')
    const again = await runCairn(['genesis', 'new', ...args, '--out', file])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /Fatal: could not write .*genesis\.json: EEXIST/)
    assert.equal(readFileSync(file, 'utf8'), 'keep me')
  })

  const required = ['--chain-id', '7', '--period', '1', '--signer', A]
  const invalid: [string, string[], RegExp][] = [
    ['a missing --chain-id', ['--period', '1', '--signer', A], /--chain-id is required/],
    ['a missing --period', ['--chain-id', '7', '--signer', A], /--period is required/],
    ['zero signers', ['--chain-id', '7', '--period', '1'], /no signers: a Clique chain needs at least one/],
    ['a bad signer address', [...required, '--signer', '0xabc'], /signer "0xabc": not a 0x-prefixed 20-byte hex address/],
    ['a duplicate signer', [...required, '--signer', A.toLowerCase()], /duplicate signer 0x70997970c51812dc3a010c7d01b50e0d17dc79c8/],
    ['a bad alloc entry', [...required, '--alloc', A], /--alloc: expected ADDR=WEI/],
    ['a bad wei amount', [...required, '--alloc', `${A}=1.5`], /--alloc 0x70997970C51812dc3A010C7d01b50e0d17dc79C8: expected a balance in wei \(decimal or 0x hex\), got "1.5"/],
    ['a bad alloc address', [...required, '--alloc', '0xzz=1'], /alloc "0xzz": not a 0x-prefixed 20-byte hex address/],
    ['a non-numeric period', ['--chain-id', '7', '--period', '5s', '--signer', A], /--period: expected a decimal integer, got "5s"/],
    ['a period over a day', ['--chain-id', '7', '--period', '90000', '--signer', A], /period 90000 out of range \[0, 86400\]/],
    ['epoch 0', [...required, '--epoch', '0'], /epoch 0 out of range \[1, /],
    ['an unknown fork', [...required, '--fork', 'osaka'], /unknown fork "osaka" \(expected one of london, shanghai, cancun, prague\)/],
    ['a bad --empty-blocks', [...required, '--empty-blocks', 'no'], /--empty-blocks: expected true or false, got "no"/],
    ['a gas limit under 5000', [...required, '--gas-limit', '4999'], /gas limit 4999 out of range/],
    ['an unknown flag', [...required, '--signers', A], /Unknown option '--signers'/],
  ]
  for (const [name, args, message] of invalid) {
    it(`refuses ${name} with exit code 2`, async () => {
      const r = await runCairn(['genesis', 'new', ...args])
      assert.equal(r.code, 2)
      assert.match(r.stderr, message)
      assert.equal(r.stdout, '')
    })
  }

  it('--help shows the usage; an unknown subcommand is a usage error', async () => {
    const help = await runCairn(['genesis', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /Usage: cairn genesis new --chain-id N --period S --signer ADDR/)
    const bad = await runCairn(['genesis', 'old'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /unknown genesis command "old"/)
  })

  it('cairn --help lists the command', async () => {
    const r = await runCairn(['--help'])
    assert.match(r.stdout, /cairn genesis new/)
    assert.match(r.stdout, /cairn account new\|list\|import/)
  })

  it('with the dev chain inputs it writes the dev genesis (one builder for both)', async (t) => {
    const alloc = devAccounts(10).map((a) => `${a.address}=${10_000n * 10n ** 18n}`)
    const chain = await initInProcess(t, await genesisNew(['--chain-id', '1337', '--period', '1', '--signer', B, '--gas-limit', '60000000', '--alloc', alloc.join(',')]))
    assert.equal(bytesToHex(chain.genesis.hash()), DEV_GENESIS_HASH)
  })
})
