import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlockHeader } from '@ethereumjs/block'
import { bytesToHex } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { GenesisError, buildCommon, childBaseFee, isZeroBaseFee, parseGenesis } from '../../src/config/genesis.ts'
import { expectedClique, readFixture, tempDir } from '../helpers.ts'

const CASES = [
  ['Goerli', 'clique/goerli/genesis.geth.json', expectedClique.goerli.genesis.hash, expectedClique.goerli.genesis.stateRoot],
  ['Rinkeby', 'clique/rinkeby/genesis.geth.json', expectedClique.rinkeby.genesis.hash, expectedClique.rinkeby.genesis.stateRoot],
  ['Besu private Clique', 'clique/besu-private/genesis.geth.json', expectedClique.besuPrivate?.genesis?.hash ?? '0x815c2ed5f07175936649d2cd8a3e09eb8037c6528be07b9241f48343e97e763c', '0x166ed98eea93ab2b6f6b1a425526994adc2d675bf9a0d77d600ed1e02d8f77df'],
  // block 0 of the execution-apis chain: chain.rlp's block 1 names it as parent
  ['execution-apis suite', 'execution-apis/genesis.json', '0x44fd89d504659cd58f48f4796b77a7e7012cf296a2409afa2f6c3cb99b5b3d99', undefined],
] as const

describe('genesis (geth format) reproduces geth genesis hashes', () => {
  for (const [name, file, hash, stateRoot] of CASES) {
    it(`${name}: ${hash.slice(0, 10)}…`, async (t) => {
      const dir = tempDir(t)
      const res = await Chain.init(dir, readFixture(file))
      assert.equal(bytesToHex(res.hash), hash)
      assert.equal(res.created, true)
      const chain = await Chain.open(dir)
      t.after(() => chain.close())
      assert.equal(bytesToHex(chain.genesis.hash()), hash)
      if (stateRoot !== undefined) assert.equal(bytesToHex(chain.genesis.header.stateRoot), stateRoot)
    })
  }

  it('the execution-apis genesis is the parent of its chain.rlp block 1', async () => {
    const { readBlockFile } = await import('../../src/chain/blockFile.ts')
    const { buildCommon } = await import('../../src/config/genesis.ts')
    const { fixture } = await import('../helpers.ts')
    const common = buildCommon(parseGenesis(readFixture('execution-apis/genesis.json')))
    const blocks = readBlockFile(fixture('execution-apis/chain.rlp'), common)
    const first = await blocks.next()
    await blocks.return(undefined)
    assert.equal(bytesToHex(first.value!.header.parentHash), CASES[3][2])
  })
})

describe('genesis init on an existing datadir', () => {
  it('is a no-op for the same genesis and refuses another', async (t) => {
    const dir = tempDir(t)
    await Chain.init(dir, readFixture('clique/rinkeby/genesis.geth.json'))
    const again = await Chain.init(dir, readFixture('clique/rinkeby/genesis.geth.json'))
    assert.equal(again.created, false)
    await assert.rejects(Chain.init(dir, readFixture('clique/goerli/genesis.geth.json')), /database contains incompatible genesis \(have 0x6341fd3d.*, new 0xbf7e331f/)
  })
})

describe('malformed genesis files are refused with the field named', () => {
  const base = () => JSON.parse(readFixture('clique/besu-private/genesis.geth.json'))
  const cases: [string, (g: any) => void, RegExp][] = [
    ['not JSON', () => {}, /not JSON/],
    ['missing chainId', (g) => delete g.config.chainId, /config\.chainId is missing/],
    ['bad hex in gasLimit', (g) => (g.gasLimit = '0xzz'), /gasLimit: invalid number/],
    ['odd-length extraData', (g) => (g.extraData = '0x123'), /extraData: hex string of odd length/],
    ['short coinbase', (g) => (g.coinbase = '0x1234'), /coinbase: expected 20 bytes, got 2/],
    ['bad alloc balance', (g) => (g.alloc[Object.keys(g.alloc)[0]].balance = 'lots'), /alloc\[.*\]\.balance: invalid number/],
    ['fork order', (g) => { delete g.config.byzantiumBlock; g.config.constantinopleBlock = 0 }, /unsupported fork ordering: byzantiumBlock not enabled, but constantinopleBlock enabled at 0/],
    ['fork scheduled earlier than its predecessor', (g) => { g.config.berlinBlock = 10; g.config.londonBlock = 5 }, /unsupported fork ordering: berlinBlock enabled at 10, but londonBlock enabled at 5/],
    ['clique extraData too short', (g) => (g.extraData = '0x00'), /extraData: a Clique genesis needs/],
  ]
  for (const [name, mutate, message] of cases) {
    it(name, () => {
      if (name === 'not JSON') return assert.throws(() => parseGenesis('{"config":'), message)
      const g = base()
      mutate(g)
      assert.throws(() => parseGenesis(JSON.stringify(g)), (err: Error) => err instanceof GenesisError && message.test(err.message))
    })
  }

  it('a refused genesis leaves no database behind that later blocks a good init', async (t) => {
    const dir = tempDir(t)
    await assert.rejects(Chain.init(dir, '{"config":{}}'), /chainId is missing/)
    const res = await Chain.init(dir, readFixture('clique/rinkeby/genesis.geth.json'))
    assert.equal(res.created, true)
  })
})

describe('config.zeroBaseFee (free-gas chains, as Besu)', () => {
  // a cairn Clique genesis (London at block 0) with the flag and base fee given or not
  const freeGenesis = (zeroBaseFee: unknown, baseFeePerGas?: string) => {
    const g = JSON.parse(readFixture('clique/besu-private/genesis.geth.json'))
    g.config.zeroBaseFee = zeroBaseFee
    if (baseFeePerGas === undefined) delete g.baseFeePerGas
    else g.baseFeePerGas = baseFeePerGas
    return g
  }

  it('is read, makes a missing genesis base fee 0, and travels in the Common to the header rules', () => {
    const genesis = parseGenesis(freeGenesis(true))
    assert.equal(genesis.config.zeroBaseFee, true)
    assert.equal(genesis.baseFeePerGas, 0n)
    assert.equal(parseGenesis(freeGenesis(true, '0x0')).baseFeePerGas, 0n)
    assert.equal(isZeroBaseFee(buildCommon(genesis)), true)
    // the Common's copies (each header holds one) keep it
    assert.equal(isZeroBaseFee(buildCommon(genesis).copy()), true)
    const paid = parseGenesis(freeGenesis(false))
    assert.equal(paid.config.zeroBaseFee, false)
    assert.equal(paid.baseFeePerGas, 1_000_000_000n)
    assert.equal(isZeroBaseFee(buildCommon(paid)), false)
    assert.equal(isZeroBaseFee(buildCommon(parseGenesis(readFixture('execution-apis/genesis.json')))), false)
  })

  const refused: [string, () => unknown, RegExp][] = [
    ['a non-zero genesis base fee', () => freeGenesis(true, '0x3b9aca00'), /^invalid genesis: baseFeePerGas: must be 0 when config\.zeroBaseFee is true, got 1000000000$/],
    ['a value other than true or false', () => freeGenesis('yes'), /^invalid genesis: config\.zeroBaseFee must be true or false$/],
    ['a chain without Clique', () => ({ ...freeGenesis(true), config: { ...freeGenesis(true).config, clique: undefined, ethash: {} } }), /config\.zeroBaseFee needs a Clique chain/],
    ['London after genesis', () => ({ ...freeGenesis(true), config: { ...freeGenesis(true).config, londonBlock: 10 } }), /config\.zeroBaseFee needs config\.londonBlock 0/],
  ]
  for (const [name, genesis, message] of refused) {
    it(`refuses ${name}`, () => {
      assert.throws(() => parseGenesis(JSON.stringify(genesis())), (err: Error) => err instanceof GenesisError && message.test(err.message))
    })
  }

  it('childBaseFee stays 0 after a full block, where the plain EIP-1559 formula gives 1 wei', () => {
    const full = (genesis: unknown) =>
      createBlockHeader({ number: 1n, gasLimit: 30_000_000n, gasUsed: 30_000_000n, baseFeePerGas: 0n }, { common: buildCommon(parseGenesis(JSON.stringify(genesis))), setHardfork: true, skipConsensusFormatValidation: true })
    assert.equal(full(freeGenesis(true)).calcNextBaseFee(), 1n)
    assert.equal(childBaseFee(full(freeGenesis(true))), 0n)
    assert.equal(childBaseFee(full(freeGenesis(false))), 1n)
  })

  it('a free-gas chain opens with a genesis block whose base fee is 0', async (t) => {
    const dir = tempDir(t)
    await Chain.init(dir, JSON.stringify(freeGenesis(true)))
    const chain = await Chain.open(dir)
    t.after(() => chain.close())
    assert.equal(chain.genesis.header.baseFeePerGas, 0n)
    assert.equal(chain.genesisSpec.config.zeroBaseFee, true)
  })
})
