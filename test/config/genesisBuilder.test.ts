import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { parseGenesis } from '../../src/config/genesis.ts'
import { GenesisOptionError, buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import type { CliqueGenesisOptions } from '../../src/config/genesisBuilder.ts'
import { tempDir } from '../helpers.ts'

const A = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const B = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'
const BEACON_ROOTS = '0x000f3df6d732807ef1319fb7b8bb8522d0beac02'
const HISTORY_STORAGE = '0x0000f90827f1c53a10cb7a02335b175320002935'
const WITHDRAWAL_REQUESTS = '0x00000961ef480eb55e80d19ad83579a64c007002'
const CONSOLIDATION_REQUESTS = '0x0000bbddc7ce488642fb579f8b00f3a590007251'

const base: CliqueGenesisOptions = {
  chainId: 4242,
  period: 5,
  epoch: 30000,
  signers: [B, A],
  alloc: [{ address: A, balance: 10n ** 18n }],
  fork: 'prague',
  gasLimit: 30_000_000n,
  emptyBlocks: true,
}

type GenesisJson = { config: Record<string, unknown> & { clique: Record<string, unknown> }; extraData: string; alloc: Record<string, unknown> }
const build = (overrides: Partial<CliqueGenesisOptions> = {}) => buildCliqueGenesis({ ...base, ...overrides }) as GenesisJson

describe('the dev genesis is built by the shared builder without changing the chain', () => {
  // Hashes of devGenesis() computed before it was rebuilt on buildCliqueGenesis.
  for (const [gasLimit, hash] of [
    [60_000_000n, '0x3655f29066a51ddaea6a0020cbaa56dbafe6872c9a0d8c01642071e63be98ef4'],
    [30_000_000n, '0x9cd6a6bece1aa12b405bd6f6efc58eb4e8e748e55490373b84b93bad5519b81a'],
  ] as const) {
    it(`gas limit ${gasLimit}: genesis ${hash.slice(0, 10)}…`, async (t) => {
      const { hash: actual } = await Chain.init(tempDir(t), JSON.stringify(devGenesis({ period: 1, gasLimit })))
      assert.equal(bytesToHex(actual), hash)
    })
  }
})

describe('buildCliqueGenesis', () => {
  it('writes the vanity, the signers sorted, and an empty seal into extraData', () => {
    const extra = build().extraData
    assert.equal(extra, `0x${'00'.repeat(32)}${A.slice(2).toLowerCase()}${B.slice(2).toLowerCase()}${'00'.repeat(65)}`)
  })

  it('is deterministic and parses as a Clique genesis', () => {
    assert.deepEqual(build(), build())
    const parsed = parseGenesis(JSON.stringify(build()))
    assert.deepEqual(parsed.config.clique, { period: 5, epoch: 30000, emptyBlocks: true })
    assert.equal(parsed.config.chainId, 4242n)
    assert.equal(parsed.gasLimit, 30_000_000n)
    assert.equal(parsed.difficulty, 1n)
  })

  it('writes emptyBlocks only when blocks must carry transactions', () => {
    assert.equal('emptyBlocks' in build().config.clique, false)
    assert.equal(build({ emptyBlocks: false }).config.clique.emptyBlocks, false)
    assert.equal(parseGenesis(JSON.stringify(build({ emptyBlocks: false }))).config.clique?.emptyBlocks, false)
  })

  it('--free-gas writes zeroBaseFee and a genesis base fee of 0, and the dev genesis follows it', () => {
    const paid = build() as GenesisJson & { baseFeePerGas: string }
    assert.equal('zeroBaseFee' in paid.config, false)
    assert.equal(paid.baseFeePerGas, '0x3b9aca00')
    const free = build({ freeGas: true }) as GenesisJson & { baseFeePerGas: string }
    assert.equal(free.config.zeroBaseFee, true)
    assert.equal(free.baseFeePerGas, '0x0')
    const parsed = parseGenesis(JSON.stringify(free))
    assert.equal(parsed.config.zeroBaseFee, true)
    assert.equal(parsed.baseFeePerGas, 0n)
    assert.equal((devGenesis({ period: 1, gasLimit: 60_000_000n, freeGas: true }) as GenesisJson).config.zeroBaseFee, true)
  })

  const forkCases = [
    ['london', [], [], []],
    ['shanghai', ['shanghaiTime'], [], []],
    ['cancun', ['shanghaiTime', 'cancunTime'], ['cancun'], [BEACON_ROOTS]],
    ['prague', ['shanghaiTime', 'cancunTime', 'pragueTime'], ['cancun', 'prague'], [BEACON_ROOTS, HISTORY_STORAGE, WITHDRAWAL_REQUESTS, CONSOLIDATION_REQUESTS]],
  ] as const
  for (const [fork, timeForks, blobForks, contracts] of forkCases) {
    it(`${fork}: timestamp forks, blob schedule and system contracts of the forks up to it`, () => {
      const g = build({ fork })
      assert.equal(g.config.londonBlock, 0)
      for (const key of ['shanghaiTime', 'cancunTime', 'pragueTime', 'osakaTime']) {
        assert.equal(g.config[key], (timeForks as readonly string[]).includes(key) ? 0 : undefined, key)
      }
      assert.deepEqual(Object.keys((g.config.blobSchedule as object | undefined) ?? {}), blobForks)
      assert.deepEqual(Object.keys(g.alloc), [...contracts, A])
    })
  }

  it('writes balances as hex and addresses with their checksum', () => {
    const g = build({ alloc: [{ address: A.toLowerCase(), balance: 255n }] })
    assert.deepEqual(g.alloc[A], { balance: '0xff' })
  })

  const invalid: [string, Partial<CliqueGenesisOptions>, RegExp][] = [
    ['no signers', { signers: [] }, /no signers: a Clique chain needs at least one/],
    ['a short signer', { signers: ['0x1234'] }, /signer "0x1234": not a 0x-prefixed 20-byte hex address/],
    ['a signer without 0x', { signers: [A.slice(2)] }, /not a 0x-prefixed 20-byte hex address/],
    ['a bad checksum', { signers: [A.replace('C51812', 'c51812')] }, /signer 0x70997970c51812dc3A010C7d01b50e0d17dc79C8: bad EIP-55 checksum/],
    ['a duplicate signer in another case', { signers: [A, A.toLowerCase()] }, /duplicate signer 0x70997970c51812dc3a010c7d01b50e0d17dc79c8/],
    ['the zero address as signer', { signers: [`0x${'00'.repeat(20)}`] }, /the zero address cannot sign/],
    ['a duplicate alloc', { alloc: [{ address: A, balance: 1n }, { address: A, balance: 2n }] }, /duplicate alloc/],
    ['a negative balance', { alloc: [{ address: A, balance: -1n }] }, /balance -1 out of range \[0, 2\^256-1\]/],
    ['a balance over 2^256-1', { alloc: [{ address: A, balance: 2n ** 256n }] }, /out of range \[0, 2\^256-1\]/],
    ['an alloc on a system contract', { alloc: [{ address: BEACON_ROOTS, balance: 1n }] }, /alloc 0x000f3df6.*: the address holds the EIP-4788 beacon roots system contract/],
    ['chain id 0', { chainId: 0 }, /chain id 0 out of range \[1, /],
    ['a period over a day', { period: 86401 }, /period 86401 out of range \[0, 86400\]/],
    ['a fractional period', { period: 1.5 }, /period 1.5 out of range/],
    ['epoch 0', { epoch: 0 }, /epoch 0 out of range \[1, /],
    ['a gas limit under geth\'s minimum', { gasLimit: 4999n }, /gas limit 4999 out of range \[5000, 9223372036854775807\]/],
    ['an unknown fork', { fork: 'osaka' as CliqueGenesisOptions['fork'] }, /unknown fork "osaka" \(expected one of london, shanghai, cancun, prague\)/],
  ]
  for (const [name, overrides, message] of invalid) {
    it(`refuses ${name}`, () => {
      assert.throws(() => build(overrides), (err: Error) => err instanceof GenesisOptionError && message.test(err.message))
    })
  }

  it('allows an alloc at a system contract address whose fork is off', () => {
    assert.deepEqual(build({ fork: 'shanghai', alloc: [{ address: BEACON_ROOTS, balance: 1n }] }).alloc, { '0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02': { balance: '0x1' } })
  })
})
