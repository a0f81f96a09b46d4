import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import type { BlockHeader, HeaderData } from '@ethereumjs/block'
import { type Common, createCommonFromGethGenesis, type GethGenesis, Hardfork } from '@ethereumjs/common'
import { bytesToHex, hexToBytes, KECCAK256_RLP } from '@ethereumjs/util'

import { recoverSigner } from '../../../src/consensus/clique/seal.ts'
import {
  calcBaseFee,
  calcDifficulty,
  type CliqueConfig,
  INITIAL_BASE_FEE,
  isCheckpoint,
  verifyBaseFee,
  verifyBlobGas,
  verifyBody,
  verifyCascadingFields,
  verifyForkFields,
  verifyGasLimit,
  verifyHeader,
  verifyHeaderFields,
  verifySeal,
} from '../../../src/consensus/clique/rules.ts'
import {
  applyHeaders,
  checkpointSnapshot,
  isInTurn,
  NONCE_AUTHORIZE,
  type Snapshot,
} from '../../../src/consensus/clique/snapshot.ts'
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

const PERIOD = 15n
const config: CliqueConfig = { period: Number(PERIOD), epoch: 30000 }
const NOW = 1n << 40n
const names = ['A', 'B', 'C']
const signers = names.map(addressOf).sort()
const london = cliqueCommon(Hardfork.London)

function genesisFor(common: Common, extraSigners: readonly string[] = signers): BlockHeader {
  return makeHeader(
    {
      number: 0n,
      timestamp: 1_000_000n,
      gasLimit: 30_000_000n,
      difficulty: 1n,
      baseFeePerGas: common.isActivatedEIP(1559) ? INITIAL_BASE_FEE : undefined,
      extraData: extraDataWith(extraSigners),
    },
    common,
  )
}

const genesis = genesisFor(london)
const genesisSnapshot = checkpointSnapshot(genesis)

/** Name of the signer in turn for block `number`. */
function inTurn(number: bigint, snapshot: Snapshot = genesisSnapshot): string {
  const name = names.find((n) => isInTurn(snapshot, Number(number), addressOf(n)))
  assert.ok(name !== undefined)
  return name
}

/** A valid child of `parent` sealed by `signer`, then `overrides` applied before sealing. */
function child(
  parent: BlockHeader,
  signer: string,
  overrides: HeaderData = {},
  snapshot: Snapshot = genesisSnapshot,
  common: Common = parent.common,
): BlockHeader {
  const number = parent.number + 1n
  const data: HeaderData = {
    parentHash: parent.hash(),
    number,
    timestamp: parent.timestamp + PERIOD,
    gasLimit: parent.gasLimit,
    difficulty: isInTurn(snapshot, Number(number), addressOf(signer)) ? 2n : 1n,
    baseFeePerGas: common.isActivatedEIP(1559) ? calcBaseFee(parent) : undefined,
    ...overrides,
  }
  return sealHeader(data, signer, common)
}

/** `header` with some fields read differently: for values ethereumjs refuses to construct. */
function withFields(header: BlockHeader, fields: Record<string, unknown>): BlockHeader {
  return Object.create(header, Object.fromEntries(Object.entries(fields).map(([k, value]) => [k, { value }])))
}

function rejects(run: () => void, message: string | RegExp): void {
  assert.throws(run, { name: 'CliqueError', message })
}

describe('valid headers', () => {
  it('accepts an in-turn block with difficulty 2 and an out-of-turn one with difficulty 1', () => {
    const signer = inTurn(1n)
    const inTurnHeader = child(genesis, signer)
    assert.equal(inTurnHeader.difficulty, 2n)
    verifyHeader(inTurnHeader, genesis, genesisSnapshot, config, NOW)
    const other = names.find((n) => n !== signer) as string
    const outOfTurn = child(genesis, other)
    assert.equal(outOfTurn.difficulty, 1n)
    verifyHeader(outOfTurn, genesis, genesisSnapshot, config, NOW)
    assert.equal(verifySeal(outOfTurn, genesisSnapshot), addressOf(other))
  })

  it('accepts a vote to add (nonce 0xff..ff) or drop (0x00..00) a beneficiary', () => {
    const signer = inTurn(1n)
    verifyHeader(child(genesis, signer, { coinbase: addressOf('D'), nonce: NONCE_AUTHORIZE }), genesis, genesisSnapshot, config, NOW)
    verifyHeader(child(genesis, signer, { coinbase: addressOf('A') }), genesis, genesisSnapshot, config, NOW)
  })

  it('calcDifficulty gives 2 to the signer in turn for the next block', () => {
    assert.equal(calcDifficulty(genesisSnapshot, addressOf(inTurn(1n))), 2n)
    assert.equal(calcDifficulty(genesisSnapshot, addressOf(inTurn(2n))), 1n)
  })
})

describe('header fields on their own (geth verifyHeader)', () => {
  const signer = inTurn(1n)
  const verify = (overrides: HeaderData, cfg: CliqueConfig = config) =>
    verifyHeader(child(genesis, signer, overrides), genesis, genesisSnapshot, cfg, NOW)

  it("'block in the future': timestamp after now", () => {
    const header = child(genesis, signer)
    rejects(() => verifyHeader(header, genesis, genesisSnapshot, config, header.timestamp - 1n), 'block in the future')
    verifyHeader(header, genesis, genesisSnapshot, config, header.timestamp)
  })

  it("'vote nonce not 0x00..0 or 0xff..f'", () => {
    rejects(() => verify({ nonce: Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1) }), 'vote nonce not 0x00..0 or 0xff..f')
  })

  it("'extra-data 32 byte vanity prefix missing' and 'extra-data 65 byte signature suffix missing'", () => {
    const header = child(genesis, signer)
    rejects(() => verifyHeaderFields(withFields(header, { extraData: new Uint8Array(31) }), config, NOW), 'extra-data 32 byte vanity prefix missing')
    rejects(() => verifyHeaderFields(withFields(header, { extraData: new Uint8Array(96) }), config, NOW), 'extra-data 65 byte signature suffix missing')
  })

  it("'non-checkpoint block contains extra signer list'", () => {
    rejects(() => verify({ extraData: extraDataWith([signers[0]]) }), 'non-checkpoint block contains extra signer list')
  })

  it("'non-zero mix digest'", () => {
    rejects(() => verify({ mixHash: new Uint8Array(32).fill(1) }), 'non-zero mix digest')
  })

  it("'non empty uncle hash'", () => {
    rejects(() => verify({ uncleHash: new Uint8Array(32).fill(1) }), 'non empty uncle hash')
  })

  it("'invalid difficulty': neither 1 nor 2", () => {
    for (const difficulty of [0n, 3n, 131072n]) rejects(() => verify({ difficulty }), 'invalid difficulty')
  })

  it("'invalid gasLimit: have X, max 2^63-1'", () => {
    const header = child(genesis, signer)
    rejects(
      () => verifyHeaderFields(withFields(header, { gasLimit: 2n ** 63n }), config, NOW),
      'invalid gasLimit: have 9223372036854775808, max 9223372036854775807',
    )
  })
})

describe('checkpoint blocks', () => {
  // epoch 1: every block is a checkpoint
  const everyBlock: CliqueConfig = { period: Number(PERIOD), epoch: 1 }
  const signer = inTurn(1n)
  const verify = (overrides: HeaderData) =>
    verifyHeader(child(genesis, signer, { extraData: extraDataWith(signers), ...overrides }), genesis, genesisSnapshot, everyBlock, NOW)

  it('accepts the sorted signer list of the snapshot', () => {
    verify({})
    assert.equal(isCheckpoint(30000n, config), true)
    assert.equal(isCheckpoint(30001, config), false)
    assert.equal(isCheckpoint(60000, { period: 0 }), true)
  })

  it("'beneficiary in checkpoint block non-zero'", () => {
    rejects(() => verify({ coinbase: addressOf('D') }), 'beneficiary in checkpoint block non-zero')
  })

  it("'vote nonce in checkpoint block non-zero'", () => {
    rejects(() => verify({ nonce: NONCE_AUTHORIZE }), 'vote nonce in checkpoint block non-zero')
  })

  it("'invalid signer list on checkpoint block': not a multiple of 20 bytes", () => {
    const extraData = extraDataWith(signers).slice(1)
    rejects(() => verify({ extraData }), 'invalid signer list on checkpoint block')
  })

  it("'mismatching signer list on checkpoint block': missing, extra or unsorted signers", () => {
    for (const list of [signers.slice(1), [...signers, addressOf('D')].sort(), [...signers].reverse()]) {
      rejects(() => verify({ extraData: extraDataWith(list) }), 'mismatching signer list on checkpoint block')
    }
  })
})

describe('fields against the parent (geth verifyCascadingFields)', () => {
  const signer = inTurn(1n)

  it("'unknown ancestor': parent hash or number does not match", () => {
    const header = child(genesis, signer, { parentHash: new Uint8Array(32).fill(9) })
    rejects(() => verifyHeader(header, genesis, genesisSnapshot, config, NOW), 'unknown ancestor')
    const grandchild = child(child(genesis, signer), inTurn(2n))
    rejects(() => verifyCascadingFields(grandchild, genesis, genesisSnapshot, config), 'unknown ancestor')
  })

  it("'unknown block': the genesis has no parent to check against", () => {
    rejects(() => verifyCascadingFields(genesis, genesis, genesisSnapshot, config), 'unknown block')
    rejects(() => verifySeal(genesis, genesisSnapshot), 'unknown block')
  })

  it("'invalid timestamp': earlier than parent + period", () => {
    rejects(
      () => verifyHeader(child(genesis, signer, { timestamp: genesis.timestamp + PERIOD - 1n }), genesis, genesisSnapshot, config, NOW),
      'invalid timestamp',
    )
    // period 0 allows the parent's own timestamp
    verifyHeader(child(genesis, signer, { timestamp: genesis.timestamp }), genesis, genesisSnapshot, { period: 0 }, NOW)
  })

  it("'invalid gasUsed: have X, gasLimit Y'", () => {
    const header = withFields(child(genesis, signer), { gasUsed: 30_000_001n })
    rejects(() => verifyCascadingFields(header, genesis, genesisSnapshot, config), 'invalid gasUsed: have 30000001, gasLimit 30000000')
  })

  it("refuses a snapshot that is not the parent's with a plain Error (a caller's bug, not a bad block)", () => {
    const header = child(genesis, signer)
    const later = applyHeaders(genesisSnapshot, [header], 0)
    assert.throws(() => verifyHeader(child(genesis, signer), genesis, later, config, NOW), (error: Error) => error.name === 'Error')
  })
})

describe('the seal (geth verifySeal)', () => {
  it("'unauthorized signer'", () => {
    rejects(() => verifyHeader(child(genesis, 'D'), genesis, genesisSnapshot, config, NOW), 'unauthorized signer')
  })

  it("'recently signed': a signer may not seal two of floor(N/2)+1 blocks", () => {
    const first = child(genesis, 'A')
    const snapshot = applyHeaders(genesisSnapshot, [first], 0)
    rejects(() => verifyHeader(child(first, 'A', {}, snapshot), first, snapshot, config, NOW), 'recently signed')
    const other = names.find((n) => n !== 'A') as string
    verifyHeader(child(first, other, {}, snapshot), first, snapshot, config, NOW)
  })

  it("'recently signed' also below block floor(N/2)+1, where geth 1.13's verifySeal lets it through", () => {
    const five = ['A', 'B', 'C', 'D', 'E']
    const genesis5 = genesisFor(london, five.map(addressOf).sort())
    const first = child(genesis5, 'A', {}, checkpointSnapshot(genesis5))
    const snapshot = applyHeaders(checkpointSnapshot(genesis5), [first], 0)
    rejects(() => verifySeal(child(first, 'A', {}, snapshot), snapshot), 'recently signed')
  })

  it("'wrong difficulty': 2 must mean in turn, 1 out of turn", () => {
    const signer = inTurn(1n)
    rejects(() => verifyHeader(child(genesis, signer, { difficulty: 1n }), genesis, genesisSnapshot, config, NOW), 'wrong difficulty')
    const other = names.find((n) => n !== signer) as string
    rejects(() => verifyHeader(child(genesis, other, { difficulty: 2n }), genesis, genesisSnapshot, config, NOW), 'wrong difficulty')
  })

  it('a bad seal surfaces as the recovery error', () => {
    const header = child(genesis, inTurn(1n))
    const extraData = header.extraData.slice()
    extraData[96] = 27
    rejects(() => verifySeal(withFields(header, { extraData }), genesisSnapshot), 'invalid signature recovery id')
  })
})

describe('gas limit and base fee', () => {
  it('verifyGasLimit: moves by less than parent/1024, never below 5000', () => {
    verifyGasLimit(8_000_000n, 8_007_811n)
    verifyGasLimit(8_000_000n, 7_992_189n)
    rejects(() => verifyGasLimit(8_000_000n, 8_007_812n), 'invalid gas limit: have 8007812, want 8000000 +-= 7811')
    rejects(() => verifyGasLimit(8_000_000n, 7_992_188n), 'invalid gas limit: have 7992188, want 8000000 +-= 7811')
    rejects(() => verifyGasLimit(5_000n, 4_999n), 'invalid gas limit below 5000')
  })

  it('calcBaseFee follows EIP-1559', () => {
    const parentWith = (gasUsed: bigint, baseFeePerGas: bigint) =>
      makeHeader({ number: 5n, gasLimit: 30_000_000n, gasUsed, baseFeePerGas }, london)
    assert.equal(calcBaseFee(parentWith(15_000_000n, 1_000_000_000n)), 1_000_000_000n)
    assert.equal(calcBaseFee(parentWith(30_000_000n, 1_000_000_000n)), 1_125_000_000n)
    assert.equal(calcBaseFee(parentWith(0n, 1_000_000_000n)), 875_000_000n)
    assert.equal(calcBaseFee(parentWith(15_000_001n, 7n)), 8n) // the increase is at least 1
    assert.equal(calcBaseFee(parentWith(0n, 7n)), 7n) // 7 * 1/8 rounds to no decrease
    assert.equal(calcBaseFee(makeHeader({ number: 5n }, cliqueCommon(Hardfork.Berlin))), INITIAL_BASE_FEE)
  })

  it('on a free-gas chain (genesis zeroBaseFee) the base fee stays 0 after a full block, and 1 is refused', () => {
    // the Clique config of a Common built from a genesis with config.zeroBaseFee (see config/genesis.ts)
    const free = cliqueCommon(Hardfork.London, { period: Number(PERIOD), epoch: 30000, zeroBaseFee: true } as { period: number; epoch: number })
    const full = { number: 0n, timestamp: 1_000_000n, gasLimit: 30_000_000n, gasUsed: 30_000_000n, difficulty: 1n, baseFeePerGas: 0n, extraData: extraDataWith(signers) }
    assert.equal(calcBaseFee(makeHeader(full, london)), 1n) // what EIP-1559 alone would give
    const parent = makeHeader(full, free)
    assert.equal(calcBaseFee(parent), 0n)
    const snapshot = checkpointSnapshot(parent)
    const signer = inTurn(1n, snapshot)
    verifyHeader(child(parent, signer, {}, snapshot), parent, snapshot, config, NOW)
    assert.equal(child(parent, signer, {}, snapshot).baseFeePerGas, 0n)
    rejects(
      () => verifyHeader(child(parent, signer, { baseFeePerGas: 1n }, snapshot), parent, snapshot, config, NOW),
      'invalid baseFee: have 1, want 0, parentBaseFee 0, parentGasUsed 30000000',
    )
  })

  it("'invalid baseFee: have X, want Y, parentBaseFee Z, parentGasUsed W'", () => {
    const header = child(genesis, inTurn(1n), { baseFeePerGas: 1n })
    rejects(
      () => verifyHeader(header, genesis, genesisSnapshot, config, NOW),
      'invalid baseFee: have 1, want 875000000, parentBaseFee 1000000000, parentGasUsed 0',
    )
  })

  it("gas limit bounds apply to London headers too ('invalid gas limit')", () => {
    const header = child(genesis, inTurn(1n), { gasLimit: 30_029_297n })
    rejects(() => verifyHeader(header, genesis, genesisSnapshot, config, NOW), 'invalid gas limit: have 30029297, want 30000000 +-= 29295')
  })

  it('the first London block may double the gas limit and must carry 1 gwei', () => {
    const berlin = cliqueCommon(Hardfork.Berlin)
    const parent = genesisFor(berlin)
    const snapshot = checkpointSnapshot(parent)
    const first = child(parent, inTurn(1n, snapshot), { gasLimit: 59_990_000n }, snapshot, london)
    assert.equal(first.baseFeePerGas, INITIAL_BASE_FEE)
    verifyHeader(first, parent, snapshot, config, NOW)
    rejects(
      () => verifyBaseFee(withFields(first, { baseFeePerGas: 7n }), parent),
      'invalid baseFee: have 7, want 1000000000, parentBaseFee <nil>, parentGasUsed 0',
    )
    rejects(() => verifyBaseFee(withFields(first, { baseFeePerGas: undefined }), parent), 'header is missing baseFee')
  })

  it('a pre-London header keeps the plain gas limit rule and may not carry a base fee', () => {
    const berlin = cliqueCommon(Hardfork.Berlin)
    const parent = genesisFor(berlin)
    const snapshot = checkpointSnapshot(parent)
    const header = child(parent, inTurn(1n, snapshot))
    verifyHeader(header, parent, snapshot, config, NOW)
    rejects(
      () => verifyHeader(child(parent, inTurn(1n, snapshot), { gasLimit: 30_029_297n }, snapshot), parent, snapshot, config, NOW),
      'invalid gas limit: have 30029297, want 30000000 +-= 29295',
    )
    rejects(
      () => verifyCascadingFields(withFields(header, { baseFeePerGas: 7n }), parent, snapshot, config),
      'invalid baseFee before fork: have 7, want <nil>',
    )
  })
})

describe('post-London fields on Clique (cairn)', () => {
  for (const fork of [Hardfork.Shanghai, Hardfork.Cancun, Hardfork.Prague, Hardfork.Osaka]) {
    it(`accepts a chain at ${fork}`, () => {
      const parent = genesisFor(cliqueCommon(fork))
      const snapshot = checkpointSnapshot(parent)
      const header = child(parent, inTurn(1n, snapshot), {}, snapshot)
      verifyHeader(header, parent, snapshot, config, NOW)
      assert.equal(recoverSigner(header), addressOf(inTurn(1n, snapshot)))
    })
  }

  it('withdrawalsRoot must be the empty trie root (Shanghai)', () => {
    const parent = genesisFor(cliqueCommon(Hardfork.Shanghai))
    const header = child(parent, inTurn(1n), { withdrawalsRoot: new Uint8Array(32).fill(1) })
    rejects(
      () => verifyHeader(header, parent, checkpointSnapshot(parent), config, NOW),
      `invalid withdrawalsHash: have 0x${'01'.repeat(32)}, expected ${bytesToHex(KECCAK256_RLP)}`,
    )
  })

  it('parentBeaconBlockRoot must be zero (Cancun)', () => {
    const parent = genesisFor(cliqueCommon(Hardfork.Cancun))
    const header = child(parent, inTurn(1n), { parentBeaconBlockRoot: new Uint8Array(32).fill(2) })
    rejects(
      () => verifyHeader(header, parent, checkpointSnapshot(parent), config, NOW),
      `invalid parentBeaconRoot, have 0x${'02'.repeat(32)}, expected 0x${'00'.repeat(32)}`,
    )
  })

  it('fields a fork requires must be present', () => {
    const prague = child(genesisFor(cliqueCommon(Hardfork.Prague)), inTurn(1n))
    const missing: [string, string][] = [
      ['withdrawalsRoot', 'missing withdrawalsHash'],
      ['parentBeaconBlockRoot', 'header is missing beaconRoot'],
      ['requestsHash', 'missing requestsHash'],
    ]
    for (const [field, message] of missing) rejects(() => verifyForkFields(withFields(prague, { [field]: undefined })), message)
    const parent = genesisFor(cliqueCommon(Hardfork.Prague))
    rejects(() => verifyBlobGas(withFields(prague, { excessBlobGas: undefined }), parent), 'header is missing excessBlobGas')
    rejects(() => verifyBlobGas(withFields(prague, { blobGasUsed: undefined }), parent), 'header is missing blobGasUsed')
  })

  it('blob gas used: whole blobs, at most the fork maximum; excess blob gas from the parent', () => {
    const common = cliqueCommon(Hardfork.Cancun)
    const parent = genesisFor(common)
    const snapshot = checkpointSnapshot(parent)
    const verify = (overrides: HeaderData) => verifyHeader(child(parent, inTurn(1n), overrides), parent, snapshot, config, NOW)
    verify({ blobGasUsed: 786_432n })
    rejects(() => verify({ blobGasUsed: 917_504n }), 'blob gas used 917504 exceeds maximum allowance 786432')
    rejects(() => verify({ blobGasUsed: 1n }), 'blob gas used 1 not a multiple of blob gas per blob 131072')
    rejects(
      () => verify({ excessBlobGas: 131_072n }),
      'invalid excessBlobGas: have 131072, want 0, parent excessBlobGas 0, parent blobDataUsed 0',
    )
    // above the target (3 blobs at Cancun) the excess carries over
    const full = child(parent, inTurn(1n), { blobGasUsed: 786_432n })
    const next = applyHeaders(snapshot, [full], 0)
    verifyHeader(child(full, inTurn(2n), { excessBlobGas: 393_216n }, next), full, next, config, NOW)
  })
})

describe('block bodies', () => {
  const header = child(genesis, inTurn(1n))

  it("'uncles not allowed'", () => {
    rejects(() => verifyBody(header, { transactions: 1, uncles: 1 }, config), 'uncles not allowed')
  })

  it('empty blocks are valid unless the genesis says emptyBlocks: false', () => {
    verifyBody(header, { transactions: 0, uncles: 0 }, config)
    const strict: CliqueConfig = { ...config, emptyBlocks: false }
    rejects(() => verifyBody(header, { transactions: 0, uncles: 0 }, strict), 'empty block on a chain that forbids empty blocks')
    verifyBody(header, { transactions: 1, uncles: 0 }, strict)
    // checkpoint blocks are exempt
    verifyBody(header, { transactions: 0, uncles: 0 }, { ...strict, epoch: 1 })
  })
})

describe('real chains', () => {
  interface ChainFacts {
    genesis: { hash: string; stateRoot: string; signers: string[] }
    clique: { period: number; epoch: number }
  }
  const expected = readFixture<{ rinkeby: ChainFacts & { blocks: { blocks: ExpectedBlock[] } }; goerli: ChainFacts & { headers: { blocks: ExpectedBlock[] } } }>(
    'expected.json',
  )

  /** Verify `headers` one by one from the genesis, as a node importing them would. */
  function importChain(genesisHeader: BlockHeader, headers: BlockHeader[], facts: ExpectedBlock[], cfg: CliqueConfig): Snapshot {
    let snapshot = checkpointSnapshot(genesisHeader)
    let parent = genesisHeader
    headers.forEach((header, i) => {
      verifyHeader(header, parent, snapshot, cfg, NOW)
      assert.equal(isInTurn(snapshot, Number(header.number), facts[i].signer), header.difficulty === 2n)
      snapshot = applyHeaders(snapshot, [header], cfg.epoch ?? 0)
      parent = header
    })
    return snapshot
  }

  function genesisHeaderOf(json: GethGenesis, stateRoot: string, common: Common): BlockHeader {
    return makeHeader(
      {
        number: 0n,
        timestamp: BigInt(json.timestamp),
        gasLimit: BigInt(json.gasLimit),
        difficulty: BigInt(json.difficulty ?? 0),
        extraData: hexToBytes((json.extraData ?? '0x') as `0x${string}`),
        stateRoot: hexToBytes(stateRoot as `0x${string}`),
      },
      common,
      true,
    )
  }

  it('Rinkeby #1-#5 pass every rule against the genesis signers, each in turn', () => {
    const json = readFixture<GethGenesis>('rinkeby/genesis.geth.json')
    const facts = expected.rinkeby
    const common = createCommonFromGethGenesis(json, { chain: 'rinkeby' })
    const genesisHeader = genesisHeaderOf(json, facts.genesis.stateRoot, common)
    assert.equal(bytesToHex(genesisHeader.hash()), facts.genesis.hash)
    const headers = readFixture<RpcHeader[]>('rinkeby/headers-1-5.json').map((h) => headerFromRpc(h, common, true))
    const snapshot = importChain(genesisHeader, headers, facts.blocks.blocks, facts.clique)
    assert.deepEqual(snapshot.signers, facts.genesis.signers)
    assert.ok(headers.every((h) => h.difficulty === 2n))
    rejects(() => verifyHeader(headers[0], genesisHeader, checkpointSnapshot(genesisHeader), facts.clique, headers[0].timestamp - 1n), 'block in the future')
  })

  it('Goerli #1-#7 (one signer, sealed by Parity) pass every rule', () => {
    const json = readFixture<GethGenesis>('goerli/genesis.geth.json')
    const facts = expected.goerli
    const common = cliqueCommon(Hardfork.Petersburg, facts.clique)
    const genesisHeader = genesisHeaderOf(json, facts.genesis.stateRoot, common)
    assert.equal(bytesToHex(genesisHeader.hash()), facts.genesis.hash)
    const headers = readFixture<RpcHeader[]>('goerli/headers-1-7.json').map((h) => headerFromRpc(h, common))
    const snapshot = importChain(genesisHeader, headers, facts.headers.blocks, facts.clique)
    assert.deepEqual(snapshot.signers, facts.genesis.signers)
  })
})
