import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { BlockHeader } from '@ethereumjs/block'
import { Hardfork } from '@ethereumjs/common'
import { bytesToHex, createZeroAddress, hexToBytes } from '@ethereumjs/util'

import { SignerCache, recoverSigner } from '../../../src/consensus/clique/seal.ts'
import {
  applyHeaders,
  blockNumberOf,
  canSeal,
  checkpointSnapshot,
  checkProposal,
  decodeSnapshot,
  effectiveEpoch,
  encodeSnapshot,
  isAuthorized,
  isInTurn,
  newSnapshot,
  NONCE_AUTHORIZE,
  NONCE_DROP,
  recentlySigned,
  signerLimit,
  signersFromExtraData,
  snapshotFromJSON,
  snapshotToJSON,
  validVote,
} from '../../../src/consensus/clique/snapshot.ts'
import { addressOf, cliqueCommon, extraDataWith, makeHeader, readFixture, type RpcHeader, headerFromRpc, sealHeader } from './testkit.ts'

const common = cliqueCommon(Hardfork.London)
const [A, B, C, D] = ['A', 'B', 'C', 'D'].map(addressOf)
const sorted = (...addresses: string[]) => [...addresses].sort()

/** A chain of sealed headers on `genesis`, one per entry: [signer, vote target, authorize]. */
function chain(genesis: BlockHeader, blocks: [signer: string, target?: string, authorize?: boolean][]): BlockHeader[] {
  const headers: BlockHeader[] = []
  let parent = genesis
  for (const [signer, target, authorize] of blocks) {
    parent = sealHeader(
      {
        parentHash: parent.hash(),
        number: parent.number + 1n,
        timestamp: parent.timestamp + 15n,
        coinbase: target === undefined ? createZeroAddress() : addressOf(target),
        nonce: authorize === true ? NONCE_AUTHORIZE : NONCE_DROP,
        difficulty: 1n,
      },
      signer,
      common,
    )
    headers.push(parent)
  }
  return headers
}

function genesisOf(...names: string[]): BlockHeader {
  return makeHeader({ number: 0n, extraData: extraDataWith(sorted(...names.map(addressOf))) }, common)
}

describe('signers from extraData', () => {
  const rinkeby = readFixture<{ extraData: string; timestamp: string }>('rinkeby/genesis.geth.json')
  const expected = readFixture<{ rinkeby: { genesis: { signers: string[] } } }>('expected.json').rinkeby.genesis

  it('reads the Rinkeby genesis signer list', () => {
    assert.deepEqual(signersFromExtraData(hexToBytes(rinkeby.extraData as `0x${string}`)), expected.signers)
  })

  it('refuses extraData too short for vanity and seal, or a list not made of 20-byte addresses', () => {
    assert.throws(() => signersFromExtraData(new Uint8Array(31)), { message: 'extra-data 32 byte vanity prefix missing' })
    assert.throws(() => signersFromExtraData(new Uint8Array(96)), { message: 'extra-data 65 byte signature suffix missing' })
    assert.throws(() => signersFromExtraData(new Uint8Array(97 + 19)), { message: 'invalid signer list on checkpoint block' })
    assert.deepEqual(signersFromExtraData(new Uint8Array(97)), [])
  })

  it('a checkpoint snapshot holds the sorted, deduplicated list and nothing else', () => {
    const genesis = makeHeader({ number: 0n, extraData: extraDataWith([C, A, B, A]) }, common)
    const snapshot = checkpointSnapshot(genesis)
    assert.equal(snapshot.number, 0)
    assert.equal(snapshot.hash, bytesToHex(genesis.hash()))
    assert.deepEqual(snapshot.signers, sorted(A, B, C))
    assert.equal(snapshot.recents.size, 0)
    assert.deepEqual(snapshot.votes, [])
    assert.equal(snapshot.tally.size, 0)
  })

  it('newSnapshot lowercases, and refuses what is not an address, a hash or a block number', () => {
    const upper = `0x${A.slice(2).toUpperCase()}`
    assert.deepEqual(newSnapshot(1, `0x${'AB'.repeat(32)}`, [upper]).signers, [A])
    assert.equal(newSnapshot(1, `0x${'AB'.repeat(32)}`, []).hash, `0x${'ab'.repeat(32)}`)
    assert.throws(() => newSnapshot(1, `0x${'00'.repeat(32)}`, ['0x1234']), TypeError)
    assert.throws(() => newSnapshot(1, '0x00', []), TypeError)
    assert.throws(() => newSnapshot(-1, `0x${'00'.repeat(32)}`, []), RangeError)
  })
})

describe('turn, recent window and proposals', () => {
  it('in turn means sortedSigners[number % N]', () => {
    const snapshot = newSnapshot(0, `0x${'00'.repeat(32)}`, [C, A, B])
    const [first, second, third] = sorted(A, B, C)
    assert.equal(isInTurn(snapshot, 3, first), true)
    assert.equal(isInTurn(snapshot, 4, second), true)
    assert.equal(isInTurn(snapshot, 5, third), true)
    assert.equal(isInTurn(snapshot, 5, first), false)
    assert.equal(isInTurn(snapshot, 3, D), false)
    assert.equal(isInTurn(newSnapshot(0, `0x${'00'.repeat(32)}`, []), 0, A), false)
  })

  it('a signer may seal one of floor(N/2)+1 consecutive blocks', () => {
    const genesis = genesisOf('A', 'B', 'C')
    const afterA = applyHeaders(checkpointSnapshot(genesis), chain(genesis, [['A']]), 0)
    assert.equal(signerLimit(afterA), 2)
    assert.equal(recentlySigned(afterA, A, 2), true)
    assert.equal(canSeal(afterA, A, 2), false)
    assert.equal(canSeal(afterA, B, 2), true)
    // by block 3, block 1 has left the window
    assert.equal(recentlySigned(afterA, A, 3), false)
    assert.equal(canSeal(afterA, A, 3), true)
    assert.equal(canSeal(afterA, D, 3), false)
  })

  it('the window also holds below block floor(N/2)+1', () => {
    const genesis = genesisOf('A', 'B', 'C', 'D', 'E')
    const afterA = applyHeaders(checkpointSnapshot(genesis), chain(genesis, [['A']]), 0)
    assert.equal(signerLimit(afterA), 3)
    assert.equal(recentlySigned(afterA, A, 2), true)
    assert.equal(recentlySigned(afterA, A, 3), true)
    assert.equal(recentlySigned(afterA, A, 4), false)
  })

  it('only votes that would change something count', () => {
    const snapshot = newSnapshot(0, `0x${'00'.repeat(32)}`, [A, B])
    assert.equal(validVote(snapshot, C, true), true)
    assert.equal(validVote(snapshot, C, false), false)
    assert.equal(validVote(snapshot, A, false), true)
    assert.equal(validVote(snapshot, A, true), false)
    assert.equal(isAuthorized(snapshot, A.toUpperCase().replace('0X', '0x')), true)
  })

  it('refuses to propose dropping the last signer, allows everything else', () => {
    const single = newSnapshot(0, `0x${'00'.repeat(32)}`, [A])
    assert.throws(() => checkProposal(single, A, false), { name: 'CliqueError', message: 'refusing to vote out the last signer' })
    checkProposal(single, B, true)
    checkProposal(single, B, false)
    checkProposal(newSnapshot(0, `0x${'00'.repeat(32)}`, [A, B]), A, false)
  })
})

describe('applyHeaders', () => {
  const genesis = genesisOf('A', 'B', 'C')
  const start = checkpointSnapshot(genesis)

  it('records votes and tallies, and moves to the last header', () => {
    const headers = chain(genesis, [['A', 'D', true], ['B', 'C', false]])
    const snapshot = applyHeaders(start, headers, 0)
    assert.equal(snapshot.number, 2)
    assert.equal(snapshot.hash, bytesToHex(headers[1].hash()))
    assert.deepEqual(snapshot.votes, [
      { signer: A, block: 1, address: D, authorize: true },
      { signer: B, block: 2, address: C, authorize: false },
    ])
    assert.deepEqual([...snapshot.tally], [
      [D, { authorize: true, votes: 1 }],
      [C, { authorize: false, votes: 1 }],
    ])
    assert.deepEqual([...snapshot.recents], [
      [1, A],
      [2, B],
    ])
  })

  it("a signer's new vote on a target replaces its old one", () => {
    const headers = chain(genesis, [['A', 'D', true], ['B'], ['A', 'D', true]])
    const snapshot = applyHeaders(start, headers, 0)
    assert.deepEqual(snapshot.votes, [{ signer: A, block: 3, address: D, authorize: true }])
    assert.deepEqual(snapshot.tally.get(D), { authorize: true, votes: 1 })
  })

  it('a checkpoint block clears votes and tally but keeps the recent signers', () => {
    const headers = chain(genesis, [['A', 'D', true], ['B']])
    const snapshot = applyHeaders(start, headers, 2)
    assert.deepEqual(snapshot.votes, [])
    assert.equal(snapshot.tally.size, 0)
    assert.deepEqual([...snapshot.recents], [
      [1, A],
      [2, B],
    ])
  })

  it('returns new values and leaves its input alone', () => {
    const before = encodeSnapshot(start)
    const after = applyHeaders(start, chain(genesis, [['A', 'D', true]]), 0)
    assert.equal(encodeSnapshot(start), before)
    assert.notEqual(after, start)
    assert.equal(Object.isFrozen(after), true)
    assert.equal(Object.isFrozen(after.votes), true)
    assert.equal(applyHeaders(start, [], 0), start)
  })

  it("refuses headers that do not continue the snapshot's block ('invalid voting chain')", () => {
    const headers = chain(genesis, [['A'], ['B'], ['C']])
    const error = { name: 'CliqueError', message: 'invalid voting chain' }
    assert.throws(() => applyHeaders(start, headers.slice(1), 0), error)
    assert.throws(() => applyHeaders(start, [headers[0], headers[2]], 0), error)
    const stranger = chain(genesisOf('A', 'B'), [['A']])
    assert.throws(() => applyHeaders(start, stranger, 0), error)
  })

  it("refuses a nonce that is not a vote ('vote nonce not 0x00..0 or 0xff..f')", () => {
    const header = sealHeader(
      { parentHash: genesis.hash(), number: 1n, nonce: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1), difficulty: 1n },
      'A',
      common,
    )
    assert.throws(() => applyHeaders(start, [header], 0), { message: 'vote nonce not 0x00..0 or 0xff..f' })
  })

  it('uses the given signer lookup, e.g. one bound to a SignerCache', () => {
    const cache = new SignerCache()
    const headers = chain(genesis, [['A'], ['B']])
    applyHeaders(start, headers, 0, (header) => recoverSigner(header, cache))
    assert.equal(cache.size, 2)
  })

  it('replays real Rinkeby blocks 1-5 onto the genesis snapshot', () => {
    const facts = readFixture<{ rinkeby: { genesis: { hash: string; signers: string[] }; blocks: { head: { hash: string } } } }>(
      'expected.json',
    ).rinkeby
    const headers = readFixture<RpcHeader[]>('rinkeby/headers-1-5.json').map((json) =>
      headerFromRpc(json, cliqueCommon(Hardfork.SpuriousDragon)),
    )
    const genesisSnapshot = newSnapshot(0, facts.genesis.hash as `0x${string}`, facts.genesis.signers)
    const snapshot = applyHeaders(genesisSnapshot, headers, 30000)
    assert.deepEqual(snapshotToJSON(snapshot), {
      number: 5,
      hash: facts.blocks.head.hash,
      signers: Object.fromEntries(facts.genesis.signers.map((signer) => [signer, {}])),
      recents: { 4: '0x7ffc57839b00206d1ad20c69a1981b489f772031', 5: '0xb279182d99e65703f0076e4812653aab85fca0f0' },
      votes: [],
      tally: {},
    })
  })
})

describe('snapshot JSON', () => {
  const [s1, s2, s3] = sorted(A, B, C)
  // as geth's json.Marshal writes it: map keys sorted as strings, so "10" before "9"
  const tally = [
    [s2, '{"authorize":false,"votes":1}'],
    [D, '{"authorize":true,"votes":1}'],
  ].sort(([a], [b]) => (a < b ? -1 : 1))
  const gethText =
    `{"number":10,"hash":"0x${'ab'.repeat(32)}","signers":{"${s1}":{},"${s2}":{},"${s3}":{}},` +
    `"recents":{"10":"${s1}","9":"${s3}"},` +
    `"votes":[{"signer":"${s3}","block":9,"address":"${D}","authorize":true},{"signer":"${s1}","block":10,"address":"${s2}","authorize":false}],` +
    `"tally":{${tally.map(([address, entry]) => `"${address}":${entry}`).join(',')}}}`

  it('encodes byte for byte as geth does and decodes what it encodes', () => {
    const snapshot = decodeSnapshot(gethText)
    assert.equal(encodeSnapshot(snapshot), gethText)
    assert.deepEqual(decodeSnapshot(encodeSnapshot(snapshot)), snapshot)
    assert.deepEqual(
      snapshot.recents,
      new Map([
        [9, s3],
        [10, s1],
      ]),
    )
  })

  it("has the shape of geth's clique_getSnapshot result", () => {
    const json = snapshotToJSON(decodeSnapshot(gethText))
    assert.deepEqual(JSON.parse(gethText), json)
    assert.deepEqual(Object.keys(json), ['number', 'hash', 'signers', 'recents', 'votes', 'tally'])
    assert.deepEqual(snapshotFromJSON(json), decodeSnapshot(gethText))
  })

  it('accepts geth\'s "votes": null and mixed-case hex, and writes them canonically', () => {
    const text = `{"number":0,"hash":"0x${'AB'.repeat(32)}","signers":{"${s1.toUpperCase().replace('0X', '0x')}":{}},"recents":{},"votes":null,"tally":{}}`
    assert.equal(
      encodeSnapshot(decodeSnapshot(text)),
      `{"number":0,"hash":"0x${'ab'.repeat(32)}","signers":{"${s1}":{}},"recents":{},"votes":[],"tally":{}}`,
    )
  })

  it('refuses malformed snapshots', () => {
    const good = JSON.parse(gethText) as Record<string, unknown>
    const bad: Record<string, unknown>[] = [
      { ...good, number: -1 },
      { ...good, number: '10' },
      { ...good, hash: '0x12' },
      { ...good, signers: [] },
      { ...good, signers: { '0x12': {} } },
      { ...good, recents: { '01': s1 } },
      { ...good, recents: { x: s1 } },
      { ...good, votes: {} },
      { ...good, votes: [{ signer: s1, block: 1, address: s2, authorize: 'yes' }] },
      { ...good, tally: { [s1]: { authorize: true, votes: 1.5 } } },
    ]
    for (const json of bad) assert.throws(() => snapshotFromJSON(json), TypeError, JSON.stringify(json))
    assert.throws(() => snapshotFromJSON(null), TypeError)
  })
})

describe('numbers', () => {
  it('0 or no epoch means 30000', () => {
    assert.equal(effectiveEpoch(undefined), 30000)
    assert.equal(effectiveEpoch(0), 30000)
    assert.equal(effectiveEpoch(100), 100)
    assert.throws(() => effectiveEpoch(-1), RangeError)
  })

  it('refuses block numbers beyond 2^53', () => {
    assert.equal(blockNumberOf(makeHeader({ number: 2n ** 53n - 1n }, common)), 2 ** 53 - 1)
    assert.throws(() => blockNumberOf(makeHeader({ number: 2n ** 53n }, common)), RangeError)
  })
})
