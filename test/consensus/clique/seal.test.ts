import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { type BlockHeader, createBlockHeaderFromBytesArray, type HeaderData } from '@ethereumjs/block'
import { Hardfork } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bigIntToBytes, bytesToBigInt, bytesToHex, concatBytes, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'

import {
  EXTRA_SEAL,
  privateKeyToAddress,
  recoverAddress,
  recoverSigner,
  replaceSeal,
  SignerCache,
  sealHash,
  signSealHash,
} from '../../../src/consensus/clique/seal.ts'
import {
  addressOf,
  cliqueCommon,
  type ExpectedBlock,
  extraDataWith,
  headerFromRpc,
  makeHeader,
  readFixture,
  type RpcHeader,
  sealHeader,
} from './testkit.ts'

interface Expected {
  goerli: { headers: { blocks: ExpectedBlock[] }; block5102442: { hash: string; signer: string; sealHash: string } }
  rinkeby: { blocks: { blocks: ExpectedBlock[] }; header269: { hash: string; signer: string; sealHash: string } }
  gethEvmB11r: { hash: string; signer: string; sealHash: string }
}
const expected = readFixture<Expected>('expected.json')

function assertSealFacts(header: BlockHeader, facts: { hash: string; signer: string; sealHash: string }): void {
  assert.equal(bytesToHex(header.hash()), facts.hash, 'header rebuilt byte for byte')
  assert.equal(bytesToHex(sealHash(header)), facts.sealHash)
  assert.equal(recoverSigner(header), facts.signer)
}

describe('seal hash and signer of real sealed headers', () => {
  it('Rinkeby #1-#5, sealed by geth', () => {
    const headers = readFixture<RpcHeader[]>('rinkeby/headers-1-5.json')
    const common = cliqueCommon(Hardfork.SpuriousDragon)
    assert.equal(headers.length, expected.rinkeby.blocks.blocks.length)
    headers.forEach((json, i) => assertSealFacts(headerFromRpc(json, common), expected.rinkeby.blocks.blocks[i]))
  })

  it('Rinkeby #269, seal hash and signer recorded by Nethermind', () => {
    const json = readFixture<RpcHeader>('rinkeby/header-269.json')
    assertSealFacts(headerFromRpc(json, cliqueCommon(Hardfork.SpuriousDragon)), expected.rinkeby.header269)
  })

  it('Goerli #1-#7, sealed by Parity', () => {
    const headers = readFixture<RpcHeader[]>('goerli/headers-1-7.json')
    const common = cliqueCommon(Hardfork.Petersburg)
    assert.equal(headers.length, expected.goerli.headers.blocks.length)
    headers.forEach((json, i) => assertSealFacts(headerFromRpc(json, common), expected.goerli.headers.blocks[i]))
  })

  it('Goerli #5102442, a London header: baseFeePerGas is part of the seal hash', () => {
    const json = readFixture<RpcHeader>('goerli/block-5102442.rpc.json')
    assertSealFacts(headerFromRpc(json, cliqueCommon(Hardfork.London)), expected.goerli.block5102442)
  })

  it("geth evm b11r --seal.clique: same seal bytes as geth's crypto.Sign (RFC 6979, low-s)", () => {
    const { rlp } = readFixture<{ rlp: string }>('geth-evm-b11r/exp-clique.json')
    const { secretKey } = readFixture<{ secretKey: string }>('geth-evm-b11r/clique.json')
    const [headerFields] = RLP.decode(hexToBytes(rlp as `0x${string}`)) as Uint8Array[][]
    // not a valid Clique header (difficulty 0x1000, non-zero mixHash): only the seal is checked
    const header = createBlockHeaderFromBytesArray(headerFields, {
      common: cliqueCommon(Hardfork.Berlin),
      skipConsensusFormatValidation: true,
    })
    assertSealFacts(header, expected.gethEvmB11r)
    const key = hexToBytes(secretKey as `0x${string}`)
    assert.equal(privateKeyToAddress(key), expected.gethEvmB11r.signer)
    assert.deepEqual(signSealHash(sealHash(header), key), header.extraData.subarray(-EXTRA_SEAL))
  })
})

describe('sealing synthetic headers', () => {
  const forks = [Hardfork.Berlin, Hardfork.London, Hardfork.Shanghai, Hardfork.Cancun, Hardfork.Prague]
  for (const fork of forks) {
    it(`a header sealed at ${fork} recovers to its signer`, () => {
      const header = sealHeader({ number: 7n, difficulty: 2n, gasLimit: 8_000_000n }, 'A', cliqueCommon(fork))
      assert.equal(recoverSigner(header), addressOf('A'))
    })
  }

  it('the seal hash covers every header field of a Prague header but not the seal', () => {
    const common = cliqueCommon(Hardfork.Prague)
    const base: HeaderData = { number: 9n, difficulty: 1n, gasLimit: 30_000_000n, extraData: extraDataWith() }
    const reference = bytesToHex(sealHash(makeHeader(base, common)))
    const byte = (length: number) => new Uint8Array(length).fill(0x11)
    const changes: Record<string, HeaderData> = {
      parentHash: { parentHash: byte(32) },
      uncleHash: { uncleHash: byte(32) },
      coinbase: { coinbase: byte(20) },
      stateRoot: { stateRoot: byte(32) },
      transactionsTrie: { transactionsTrie: byte(32) },
      receiptTrie: { receiptTrie: byte(32) },
      logsBloom: { logsBloom: byte(256) },
      difficulty: { difficulty: 2n },
      number: { number: 10n },
      gasLimit: { gasLimit: 30_000_001n },
      gasUsed: { gasUsed: 1n },
      timestamp: { timestamp: 1n },
      vanity: { extraData: concatBytes(byte(32), new Uint8Array(EXTRA_SEAL)) },
      mixHash: { mixHash: byte(32) },
      nonce: { nonce: byte(8) },
      baseFeePerGas: { baseFeePerGas: 8n },
      withdrawalsRoot: { withdrawalsRoot: byte(32) },
      blobGasUsed: { blobGasUsed: 131072n },
      excessBlobGas: { excessBlobGas: 1n },
      parentBeaconBlockRoot: { parentBeaconBlockRoot: byte(32) },
      requestsHash: { requestsHash: byte(32) },
    }
    for (const [field, change] of Object.entries(changes)) {
      assert.notEqual(bytesToHex(sealHash(makeHeader({ ...base, ...change }, common))), reference, field)
    }
    const otherSeal = replaceSeal(extraDataWith(), byte(EXTRA_SEAL))
    assert.equal(bytesToHex(sealHash(makeHeader({ ...base, extraData: otherSeal }, common))), reference)
  })
})

describe('seal recovery failures', () => {
  const common = cliqueCommon(Hardfork.London)
  const data: HeaderData = { number: 3n, difficulty: 2n }
  const sealed = sealHeader(data, 'A', common)
  const seal = sealed.extraData.subarray(-EXTRA_SEAL)
  const withSeal = (bytes: Uint8Array) => makeHeader({ ...data, extraData: replaceSeal(sealed.extraData, bytes) }, common)

  it("refuses v outside {0, 1} (geth: 'invalid signature recovery id')", () => {
    for (const v of [2, 27, 28, 255]) {
      const header = withSeal(concatBytes(seal.subarray(0, 64), Uint8Array.of(v)))
      assert.throws(() => recoverSigner(header), { name: 'CliqueError', message: 'invalid signature recovery id' })
    }
  })

  it("refuses r = 0 or s >= n ('recovery failed')", () => {
    const zeroR = concatBytes(new Uint8Array(32), seal.subarray(32))
    const bigS = concatBytes(seal.subarray(0, 32), new Uint8Array(32).fill(0xff), seal.subarray(64))
    for (const bytes of [zeroR, bigS]) {
      assert.throws(() => recoverSigner(withSeal(bytes)), { message: 'recovery failed' })
    }
  })

  it('accepts a high-s seal, as geth does, and recovers the same signer', () => {
    const n = secp256k1.Point.Fn.ORDER
    const s = bytesToBigInt(seal.subarray(32, 64))
    const highS = concatBytes(seal.subarray(0, 32), setLengthLeft(bigIntToBytes(n - s), 32), Uint8Array.of(seal[64] ^ 1))
    assert.equal(recoverSigner(withSeal(highS)), addressOf('A'))
  })

  it('refuses extraData shorter than a seal', () => {
    const header = makeHeader({ number: 3n, extraData: new Uint8Array(64) }, common)
    assert.throws(() => sealHash(header), { message: 'extra-data 65 byte signature suffix missing' })
    assert.throws(() => recoverSigner(header), { message: 'extra-data 65 byte signature suffix missing' })
    assert.throws(() => recoverAddress(new Uint8Array(32), new Uint8Array(64)), {
      message: 'extra-data 65 byte signature suffix missing',
    })
  })

  it('replaceSeal needs a 65-byte seal and room for it', () => {
    assert.throws(() => replaceSeal(extraDataWith(), new Uint8Array(64)), RangeError)
    assert.throws(() => replaceSeal(new Uint8Array(10), new Uint8Array(65)), { message: 'extra-data 65 byte signature suffix missing' })
  })
})

describe('SignerCache', () => {
  it('evicts the least recently used entry beyond its capacity', () => {
    const cache = new SignerCache(2)
    cache.set('0x01', addressOf('A'))
    cache.set('0x02', addressOf('B'))
    assert.equal(cache.get('0x01'), addressOf('A')) // 0x02 is now the oldest
    cache.set('0x03', addressOf('C'))
    assert.equal(cache.size, 2)
    assert.equal(cache.get('0x02'), undefined)
    assert.equal(cache.get('0x01'), addressOf('A'))
    assert.equal(cache.get('0x03'), addressOf('C'))
  })

  it("defaults to geth's 4096 entries and refuses a useless capacity", () => {
    assert.equal(new SignerCache().capacity, 4096)
    assert.throws(() => new SignerCache(0), RangeError)
    assert.throws(() => new SignerCache(1.5), RangeError)
  })

  it('recoverSigner fills the cache by block hash and answers from it', () => {
    const header = sealHeader({ number: 5n, difficulty: 2n }, 'B', cliqueCommon(Hardfork.London))
    const cache = new SignerCache()
    assert.equal(recoverSigner(header, cache), addressOf('B'))
    assert.equal(cache.get(bytesToHex(header.hash())), addressOf('B'))
    // a planted entry proves the hit skips recovery
    cache.set(bytesToHex(header.hash()), addressOf('Z'))
    assert.equal(recoverSigner(header, cache), addressOf('Z'))
  })
})
