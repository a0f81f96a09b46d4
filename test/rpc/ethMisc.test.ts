/**
 * eth_getProof, eth_getStorageValues, eth_config, eth_capabilities and eth_baseFee over the conformance chain: every
 * fixture byte for byte (eth_capabilities, a spec-only test, as far as cairn's history differs from geth's), proofs
 * that verify against the state root, geth's limits and key encodings, and EIP-7910 configurations of other chains.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { verifyMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex, createAccountFromRLP, hexToBytes } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

import type { Chain } from '../../src/chain/chain.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { forkConfigs } from '../../src/config/forkConfig.ts'
import { buildCommon, parseGenesis } from '../../src/config/genesis.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { HttpServer } from '../../src/rpc/index.ts'
import { fixtureTests, openFixtureChain } from './fixtureChain.ts'

// from the fixtures: a contract with storage (slot 0 holds 0x38), and an account that does not exist
const CONTRACT = '0x7dcd17433742f4c0ca53122ab541d0ba67fc27df'
const ABSENT = '0xc1cadaffffffffffffffffffffffffffffffffff'
const ZERO_HASH = `0x${'00'.repeat(32)}`
const SLOT_0 = ZERO_HASH

/** The value `proof` proves for `key` in the trie of `root` (null: proven absent). */
async function proven(key: string, proof: string[], root: Uint8Array): Promise<Uint8Array | null> {
  assert.equal(bytesToHex(keccak_256(hexToBytes(proof[0] as `0x${string}`))), bytesToHex(root), 'the proof starts at the root')
  return verifyMerkleProof(hexToBytes(key as `0x${string}`), proof.map((p) => hexToBytes(p as `0x${string}`)), { useKeyHashing: true })
}

type Answer = { result?: any; error?: { code: number; message: string } }

async function rpc(server: HttpServer, method: string, params: unknown[] = []): Promise<Answer> {
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const { result, error } = (await res.json()) as Answer
  return error === undefined ? { result } : { error }
}

describe('eth_getProof, eth_getStorageValues, eth_config, eth_capabilities, eth_baseFee', () => {
  let fixture: { chain: Chain; close(): Promise<void> }
  let server: HttpServer

  before(async () => {
    fixture = await openFixtureChain()
    const { chain } = fixture
    server = await startHttpServer({
      port: 0,
      methods: createRegistry({ chain, clientVersion: clientVersion('0.1.0'), peerCount: () => 0, proofs: chain.stateProofs() }).select(['eth']),
    })
  })
  after(async () => {
    await server?.close()
    await fixture?.close()
  })

  for (const method of ['eth_getProof', 'eth_getStorageValues', 'eth_config', 'eth_baseFee']) {
    it(`answers the ${method} conformance tests exactly as geth`, async () => {
      for (const test of fixtureTests(method)) {
        for (const { request, response } of test.exchanges) {
          const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request })
          assert.equal(await res.text(), response, test.name)
        }
      }
    })
  }

  it('answers eth_capabilities as geth does, less the log index window cairn does not have', async () => {
    for (const test of fixtureTests('eth_capabilities')) {
      for (const { request, response } of test.exchanges) {
        const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request })
        const want = JSON.parse(response)
        // geth drops log index entries older than 2,350,000 blocks; cairn keeps every receipt, so logs go back to genesis
        delete want.result.logs.deleteStrategy
        assert.deepEqual(await res.json(), want, test.name)
      }
    }
  })

  it('proves an account and its storage against the state root', async () => {
    const head = fixture.chain.heads().latest
    const { result } = await rpc(server, 'eth_getProof', [CONTRACT, [SLOT_0, '0x1'], 'latest'])
    const account = createAccountFromRLP((await proven(CONTRACT, result.accountProof, head.stateRoot))!)
    assert.equal(`0x${account.balance.toString(16)}`, result.balance)
    assert.equal(bytesToHex(account.storageRoot), result.storageHash)
    const [slot0, slot1] = result.storageProof
    // a 32-byte key comes back as given, a shorter one as a quantity
    assert.equal(slot0.key, SLOT_0)
    assert.equal(slot1.key, '0x1')
    const value = RLP.decode((await proven(SLOT_0, slot0.proof, account.storageRoot))!) as Uint8Array
    assert.equal(BigInt(bytesToHex(value)), BigInt(slot0.value))
    assert.equal(slot0.value, '0x38')
  })

  it('proves an account absent, with zero hashes and empty storage proofs as geth', async () => {
    const head = fixture.chain.heads().latest
    const { result } = await rpc(server, 'eth_getProof', [ABSENT, ['0x00'], 'latest'])
    assert.equal(await proven(ABSENT, result.accountProof, head.stateRoot), null)
    assert.deepEqual(
      { balance: result.balance, codeHash: result.codeHash, nonce: result.nonce, storageHash: result.storageHash, storageProof: result.storageProof },
      { balance: '0x0', codeHash: ZERO_HASH, nonce: '0x0', storageHash: ZERO_HASH, storageProof: [{ key: '0x0', value: '0x0', proof: [] }] },
    )
  })

  it("refuses what geth refuses, the keys before the block", async () => {
    const tooMany = Array.from({ length: 1025 }, (_, i) => `0x${i.toString(16)}`)
    assert.deepEqual(await rpc(server, 'eth_getProof', [CONTRACT, tooMany]), { error: { code: -32602, message: 'too many storage keys requested (max 1024, got 1025)' } })
    assert.deepEqual(await rpc(server, 'eth_getProof', [CONTRACT, ['0xzz'], '0x3e8']), { error: { code: -32602, message: 'invalid hex in storage key: "0xzz"' } })
    assert.deepEqual(await rpc(server, 'eth_getProof', [CONTRACT, [], '0x3e8']), { error: { code: -32000, message: 'header not found' } })
    assert.deepEqual(await rpc(server, 'eth_getProof', [CONTRACT]), { error: { code: -32602, message: 'missing value for required argument 1' } })

    const slots = Array.from({ length: 1025 }, () => SLOT_0)
    assert.deepEqual(await rpc(server, 'eth_getStorageValues', [{ [CONTRACT]: slots }]), { error: { code: -38026, message: 'too many slots (max 1024)' } })
    assert.deepEqual(await rpc(server, 'eth_getStorageValues', [{ [CONTRACT]: [] }]), { error: { code: -32602, message: 'empty request' } })
    assert.deepEqual(await rpc(server, 'eth_getStorageValues', [{ [CONTRACT]: [SLOT_0] }, '0x3e8']), { error: { code: -32000, message: 'header not found' } })
    assert.deepEqual(await rpc(server, 'eth_getStorageValues', [{ '0x7dcd': [SLOT_0] }]), { error: { code: -32602, message: 'invalid argument 0: hex string has length 4, want 40 for common.Address' } })
  })

  it('reads storage at past blocks and answers accounts in address order', async () => {
    const { result } = await rpc(server, 'eth_getStorageValues', [{ [ABSENT]: [SLOT_0], [CONTRACT]: [SLOT_0, SLOT_0] }, '0x0'])
    assert.deepEqual(Object.keys(result), [CONTRACT, ABSENT])
    assert.deepEqual(result[ABSENT], [ZERO_HASH])
  })

  it("answers the next block's base fee, and null before London", async () => {
    const at = async (number: bigint) => {
      const header = (await fixture.chain.getBlockByNumber(number))!.header
      const reader = Object.create(fixture.chain, { heads: { value: () => ({ latest: header, safe: header, finalized: header }) } })
      const s = await startHttpServer({ port: 0, methods: createRegistry({ chain: reader, clientVersion: '', peerCount: () => 0 }).select(['eth']) })
      try {
        return (await rpc(s, 'eth_baseFee')).result
      } finally {
        await s.close()
      }
    }
    // London is block 0x1b (27) on the conformance chain: the block before it has a London child at 1 gwei
    assert.equal(await at(1n), null)
    assert.equal(await at(26n), '0x3b9aca00')
  })
})

describe('eth_config', () => {
  // geth's mainnet configuration, merged at genesis for cairn's Common (geth's fork id ignores the merge)
  const MAINNET_GENESIS_HASH = hexToBytes('0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3')
  const mainnet = parseGenesis({
    config: {
      chainId: 1,
      homesteadBlock: 1_150_000,
      daoForkBlock: 1_920_000,
      eip150Block: 2_463_000,
      eip155Block: 2_675_000,
      eip158Block: 2_675_000,
      byzantiumBlock: 4_370_000,
      constantinopleBlock: 7_280_000,
      petersburgBlock: 7_280_000,
      istanbulBlock: 9_069_000,
      muirGlacierBlock: 9_200_000,
      berlinBlock: 12_244_000,
      londonBlock: 12_965_000,
      arrowGlacierBlock: 13_773_000,
      grayGlacierBlock: 15_050_000,
      terminalTotalDifficulty: 0,
      shanghaiTime: 1681338455,
      cancunTime: 1710338135,
      pragueTime: 1746612311,
      osakaTime: 1764798551,
      bpo1Time: 1765290071,
      bpo2Time: 1767747671,
      ethash: {},
      depositContractAddress: '0x00000000219ab540356cbb839cbe05303d7705fa',
      blobSchedule: {
        cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
        prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
        osaka: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
        bpo1: { target: 10, max: 15, baseFeeUpdateFraction: 8346193 },
        bpo2: { target: 14, max: 21, baseFeeUpdateFraction: 11684671 },
      },
    },
    difficulty: '0x400000000',
    gasLimit: '0x1388',
    extraData: '0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa',
  })
  const common = buildCommon(mainnet)
  const hex = (b: Uint8Array | undefined) => (b === undefined ? undefined : bytesToHex(b))

  it("gives geth's fork ids, activation times and blob schedules (mainnet, as geth's forkid tests)", () => {
    const prague = forkConfigs(mainnet, common, MAINNET_GENESIS_HASH, 1746612311n + 100n)
    assert.deepEqual(
      [prague.current, prague.next, prague.last].map((c) => [hex(c?.forkId), c?.activationTime, c?.blobSchedule?.max]),
      [
        ['0xc376cf8b', 1746612311n, 9],
        ['0x5167e2a6', 1764798551n, 9],
        ['0x07c9462e', 1767747671n, 21],
      ],
    )
    assert.equal(hex(forkConfigs(mainnet, common, MAINNET_GENESIS_HASH, 1710338135n).current?.forkId), '0x9f3d2254')
    const bpo2 = forkConfigs(mainnet, common, MAINNET_GENESIS_HASH, 2_000_000_000n)
    assert.deepEqual([hex(bpo2.current?.forkId), bpo2.next, bpo2.last], ['0x07c9462e', undefined, undefined])
  })

  it('lists the precompiles and system contracts of each fork', () => {
    const names = (t: bigint) => forkConfigs(mainnet, common, MAINNET_GENESIS_HASH, t).current!
    assert.equal(names(1681338455n).precompiles.length, 9)
    assert.deepEqual(names(1681338455n).systemContracts, [])
    assert.deepEqual(names(1710338135n).systemContracts, [['BEACON_ROOTS_ADDRESS', '0x000f3df6d732807ef1319fb7b8bb8522d0beac02']])
    const osaka = names(1764798551n)
    assert.equal(osaka.precompiles.length, 18)
    assert.deepEqual(osaka.precompiles.at(-1), ['P256VERIFY', '0x0000000000000000000000000000000000000100'])
    assert.ok(osaka.systemContracts.some(([name, at]) => name === 'DEPOSIT_CONTRACT_ADDRESS' && at === '0x00000000219ab540356cbb839cbe05303d7705fa'))
  })

  it('has no configuration before Shanghai, and a next one once Shanghai is scheduled', () => {
    const london = forkConfigs(mainnet, common, MAINNET_GENESIS_HASH, 1_600_000_000n)
    assert.equal(london.current, undefined)
    assert.equal(hex(london.next?.forkId), '0xdce96c2d')
  })

  it('reports a fork active from genesis with activation time 0 (a cairn --dev chain: Prague on Clique)', () => {
    const dev = parseGenesis(devGenesis({ period: 0, gasLimit: 30_000_000n }))
    const configs = forkConfigs(dev, buildCommon(dev), new Uint8Array(32), 0n)
    assert.equal(configs.current?.activationTime, 0n)
    assert.equal(configs.current?.chainId, 1337n)
    assert.deepEqual(configs.current?.blobSchedule, { target: 6, max: 9, baseFeeUpdateFraction: 5007716 })
    assert.equal(configs.next, undefined)
  })
})

