/**
 * The clique namespace and the Clique `miner` over real chains: geth-sealed Rinkeby blocks 1-5 and Goerli blocks 1-7
 * imported into LevelDB datadirs, answers checked against the recorded signers of test/fixtures/clique, plus votes
 * cast by a real Sealer on a two-signer dev chain.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'

import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { importBlockFiles } from '../../src/chain/importer.ts'
import { createLogger } from '../../src/cli/log.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { IdleProposals } from '../../src/rpc/clique.ts'
import { RpcError } from '../../src/rpc/errors.ts'
import { clientVersion, cliqueRpcContext, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import type { RpcContext } from '../../src/rpc/index.ts'
import type { MethodTable } from '../../src/rpc/registry.ts'
import { expectedClique, fixture } from '../helpers.ts'

interface RecordedBlock {
  number: number
  hash: string
  signer: string
}

const rinkeby = expectedClique.rinkeby as { genesis: { hash: string; signers: string[] }; blocks: { blocks: RecordedBlock[] } }
const goerli = expectedClique.goerli as { genesis: { hash: string; signers: string[] }; headers: { blocks: RecordedBlock[] } }
const UNKNOWN_HASH = `0x${'de'.repeat(32)}`
const OUTSIDER = `0x${'ab'.repeat(20)}`
const ZERO_ADDRESS = `0x${'00'.repeat(20)}`

/** A datadir holding `genesis` and the blocks of `files`, removed after the suite. */
async function importedChain(genesis: string, files: string[]): Promise<{ chain: Chain; close(): Promise<void> }> {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-clique-rpc-'))
  await Chain.init(datadir, readFileSync(fixture(genesis), 'utf8'))
  const chain = await Chain.open(datadir)
  await importBlockFiles(chain, files.map(fixture), () => {})
  return {
    chain,
    close: async () => {
      await chain.close()
      rmSync(datadir, { recursive: true, force: true })
    },
  }
}

function contextFor(chain: Chain, sealer?: Sealer): RpcContext {
  return { chain, clientVersion: clientVersion('0.1.0'), peerCount: () => 0, ...cliqueRpcContext(chain, chain.engine as CliqueEngine, sealer) }
}

const methodsFor = (ctx: RpcContext): MethodTable => createRegistry(ctx).select(['eth', 'clique'])

/** Rejects as geth would answer: the JSON-RPC code and message. */
async function rejects(call: Promise<unknown>, code: number, message: string | RegExp): Promise<void> {
  await assert.rejects(call, (err) => {
    assert.ok(err instanceof RpcError, String(err))
    assert.equal(err.code, code)
    if (typeof message === 'string') assert.equal(err.message, message)
    else assert.match(err.message, message)
    return true
  })
}

describe('clique namespace over Rinkeby blocks 1-5 (geth-sealed, 3 signers)', () => {
  let fixtureChain: { chain: Chain; close(): Promise<void> }
  let methods: MethodTable
  const call = (method: string, params: unknown[] = []) => methods.call(method, params)
  const blocks = rinkeby.blocks.blocks
  const head = blocks[blocks.length - 1]

  before(async () => {
    fixtureChain = await importedChain('clique/rinkeby/genesis.geth.json', ['clique/rinkeby/blocks-1-5.rlp'])
    methods = methodsFor(contextFor(fixtureChain.chain))
  })
  after(() => fixtureChain?.close())

  it('lists the sorted signers at every block, by number, tag and hash', async () => {
    for (const params of [[], [null], ['latest'], ['pending'], ['earliest'], ['0x0'], ['0x5']]) {
      assert.deepEqual(await call('clique_getSigners', params), rinkeby.genesis.signers, JSON.stringify(params))
    }
    assert.deepEqual(await call('clique_getSignersAtHash', [head.hash]), rinkeby.genesis.signers)
    assert.deepEqual(await call('clique_getSignersAtHash', [rinkeby.genesis.hash]), rinkeby.genesis.signers)
  })

  it("returns geth's snapshot JSON at the head: signers set, the recent window of N/2+1 blocks, no votes", async () => {
    const snapshot = await call('clique_getSnapshot')
    assert.equal(
      JSON.stringify(snapshot),
      JSON.stringify({
        number: 5,
        hash: head.hash,
        signers: Object.fromEntries(rinkeby.genesis.signers.map((s) => [s, {}])),
        recents: { 4: blocks[3].signer, 5: blocks[4].signer },
        votes: [],
        tally: {},
      }),
    )
    assert.deepEqual(await call('clique_getSnapshotAtHash', [head.hash]), snapshot)
    assert.deepEqual(await call('clique_getSnapshot', ['0x5']), snapshot)
    assert.deepEqual(await call('clique_getSnapshot', ['0x3']), { ...(snapshot as object), number: 3, hash: blocks[2].hash, recents: { 2: blocks[1].signer, 3: blocks[2].signer } })
  })

  it('gives the genesis snapshot null votes, as geth does for a checkpoint', async () => {
    const genesis = { number: 0, hash: rinkeby.genesis.hash, signers: Object.fromEntries(rinkeby.genesis.signers.map((s) => [s, {}])), recents: {}, votes: null, tally: {} }
    assert.deepEqual(await call('clique_getSnapshot', ['earliest']), genesis)
    assert.deepEqual(await call('clique_getSnapshotAtHash', [rinkeby.genesis.hash]), genesis)
  })

  it("answers unknown blocks with geth's error", async () => {
    await rejects(call('clique_getSnapshot', ['0x6']), -32000, 'unknown block')
    await rejects(call('clique_getSnapshotAtHash', [UNKNOWN_HASH]), -32000, 'unknown block')
    await rejects(call('clique_getSigners', ['0x99']), -32000, 'unknown block')
    await rejects(call('clique_getSignersAtHash', [UNKNOWN_HASH]), -32000, 'unknown block')
    await rejects(call('clique_getSnapshot', ['0xzz']), -32602, 'invalid argument 0: invalid hex string')
  })

  it('recovers the recorded signer of each block from its number, hash, block RLP and header RLP', async () => {
    for (const b of blocks) {
      const block = await fixtureChain.chain.getBlockByNumber(BigInt(b.number))
      assert.ok(block)
      for (const ref of [`0x${b.number.toString(16)}`, b.hash, { blockHash: b.hash }, { blockNumber: `0x${b.number.toString(16)}` }, bytesToHex(block.serialize()), bytesToHex(block.header.serialize())]) {
        assert.equal(await call('clique_getSigner', [ref]), b.signer, `block ${b.number} by ${JSON.stringify(ref).slice(0, 80)}`)
      }
    }
  })

  it('recovers the signer of header RLP outside the chain (Rinkeby 269) and takes the head when no block is named', async () => {
    const header269 = JSON.parse(readFileSync(fixture('clique/rinkeby/header-269.json'), 'utf8')) as { rlp: string; signer: string }
    assert.equal(await call('clique_getSigner', [header269.rlp]), header269.signer)
    for (const params of [[], [null], ['0x'], ['latest']]) assert.equal(await call('clique_getSigner', params), head.signer, JSON.stringify(params))
  })

  it("fails clique_getSigner as geth: missing blocks, undecodable hex, bad RLP, the unsealed genesis", async () => {
    await rejects(call('clique_getSigner', ['0x6']), -32000, 'missing block 0x6')
    await rejects(call('clique_getSigner', [UNKNOWN_HASH]), -32000, `missing block ${UNKNOWN_HASH}`)
    await rejects(call('clique_getSigner', ['zz']), -32602, 'invalid argument 0: hex string without 0x prefix')
    await rejects(call('clique_getSigner', [`0x${'d'.repeat(33)}`]), -32602, 'invalid argument 0: hex string of odd length')
    await rejects(call('clique_getSigner', [5]), -32602, 'invalid argument 0: json: cannot unmarshal number into Go value of type string')
    await rejects(call('clique_getSigner', [`0x${'de'.repeat(10)}`]), -32000, /^invalid block or header RLP: /)
    await rejects(call('clique_getSigner', ['earliest']), -32000, 'recovery failed')
  })

  it('reports the last 64 blocks before the head: here blocks 1-4, all in turn', async () => {
    assert.equal(
      JSON.stringify(await call('clique_status')),
      JSON.stringify({
        inturnPercent: 100,
        sealerActivity: { [blocks[2].signer]: 1, [blocks[0].signer]: 2, [blocks[1].signer]: 1 },
        numBlocks: 4,
      }),
    )
  })

  it('reports the sealer as miner in eth_getBlockByNumber and eth_getBlockByHash; the genesis keeps its coinbase', async () => {
    for (const b of blocks) {
      const byNumber = (await call('eth_getBlockByNumber', [`0x${b.number.toString(16)}`, false])) as { miner: string; hash: string }
      assert.equal(byNumber.miner, b.signer)
      assert.equal(byNumber.hash, b.hash)
      assert.equal(((await call('eth_getBlockByHash', [b.hash, true])) as { miner: string }).miner, b.signer)
    }
    assert.equal(((await call('eth_getBlockByNumber', ['0x0', false])) as { miner: string }).miner, ZERO_ADDRESS)
  })

  it('keeps votes on a node that does not seal, as geth: propose, list (sorted, lowercase), discard', async () => {
    assert.deepEqual(await call('clique_proposals'), {})
    const upper = `0x${'CD'.repeat(20)}`
    assert.equal(await call('clique_propose', [upper, true]), null)
    assert.equal(await call('clique_propose', [OUTSIDER, false]), null)
    assert.equal(JSON.stringify(await call('clique_proposals')), JSON.stringify({ [OUTSIDER]: false, [upper.toLowerCase()]: true }))
    assert.equal(await call('clique_discard', [upper]), null)
    assert.deepEqual(await call('clique_proposals'), { [OUTSIDER]: false })
    await call('clique_discard', [OUTSIDER])
    assert.deepEqual(await call('clique_proposals'), {})
  })
})

describe('clique namespace over Goerli blocks 1-7 (one signer)', () => {
  let fixtureChain: { chain: Chain; close(): Promise<void> }
  let sealer: Sealer
  let methods: MethodTable
  const call = (method: string, params: unknown[] = []) => methods.call(method, params)
  const blocks = goerli.headers.blocks
  const [signer] = goerli.genesis.signers

  before(async () => {
    fixtureChain = await importedChain('clique/goerli/genesis.geth.json', ['clique/goerli/blocks-1-7.rlp'])
    // a real sealer (never started) whose key is not a Goerli signer: votes are all it is used for here
    const { chain } = fixtureChain
    sealer = new Sealer({ chain, engine: chain.engine as CliqueEngine, signerKey: hexToBytes(devAccounts(1)[0].privateKey as `0x${string}`), log: createLogger(0) })
    methods = methodsFor(contextFor(chain, sealer))
  })
  after(() => fixtureChain?.close())

  it('lists the single signer and recovers it for every block', async () => {
    assert.deepEqual(await call('clique_getSigners'), [signer])
    for (const b of blocks) {
      assert.equal(b.signer, signer)
      assert.equal(await call('clique_getSigner', [b.hash]), signer)
      assert.equal(((await call('eth_getBlockByNumber', [`0x${b.number.toString(16)}`, false])) as { miner: string }).miner, signer)
    }
  })

  it('reports blocks 1-6 of head 7, all sealed in turn by the one signer', async () => {
    assert.deepEqual(await call('clique_status'), { inturnPercent: 100, sealerActivity: { [signer]: 6 }, numBlocks: 6 })
  })

  it("keeps only one signer's recent block in the snapshot", async () => {
    const snapshot = (await call('clique_getSnapshot')) as { number: number; recents: object; votes: unknown }
    assert.equal(snapshot.number, 7)
    assert.deepEqual(snapshot.recents, { 7: signer })
    assert.deepEqual(snapshot.votes, [])
  })

  it('routes votes to the sealer and refuses to vote out the last signer', async () => {
    await rejects(call('clique_propose', [signer, false]), -32000, 'refusing to vote out the last signer')
    assert.deepEqual(await call('clique_proposals'), {})
    assert.equal(await call('clique_propose', [OUTSIDER, true]), null)
    assert.deepEqual(sealer.currentProposals(), { [OUTSIDER]: true })
    assert.deepEqual(await call('clique_proposals'), { [OUTSIDER]: true })
    assert.equal(await call('clique_discard', [OUTSIDER]), null)
    assert.deepEqual(sealer.currentProposals(), {})
  })

  it('refuses the same vote on a node that does not seal', async () => {
    const idle = new IdleProposals(fixtureChain.chain, fixtureChain.chain.engine as CliqueEngine)
    await assert.rejects(idle.propose(signer, false), { message: 'refusing to vote out the last signer' })
    await idle.propose(signer, true)
    assert.deepEqual(idle.currentProposals(), { [signer]: true })
  })
})

describe('votes cast by a real sealer', () => {
  const [a, b] = devAccounts(2)
  const voted = OUTSIDER
  let datadir: string
  let chain: Chain
  let sealer: Sealer
  let methods: MethodTable
  const call = (method: string, params: unknown[] = []) => methods.call(method, params)

  before(async () => {
    datadir = mkdtempSync(join(tmpdir(), 'cairn-clique-rpc-'))
    const genesis = devGenesis({ period: 1, gasLimit: 30_000_000n }) as { extraData: string }
    const signers = [a.address, b.address].map((s) => s.toLowerCase().slice(2)).sort()
    genesis.extraData = `0x${'00'.repeat(32)}${signers.join('')}${'00'.repeat(65)}`
    await Chain.init(datadir, JSON.stringify(genesis))
    chain = await Chain.open(datadir)
    sealer = new Sealer({ chain, engine: chain.engine as CliqueEngine, signerKey: hexToBytes(a.privateKey as `0x${string}`), log: createLogger(0) })
    methods = methodsFor(contextFor(chain, sealer))
  })
  after(async () => {
    sealer?.stop()
    await chain?.close()
    rmSync(datadir, { recursive: true, force: true })
  })

  it('puts a clique_propose vote into the next sealed block: snapshot votes and tally, miner = sealer, coinbase = vote', async () => {
    await call('clique_propose', [voted, true])
    const sealed = new Promise((resolve) => sealer.once('sealed', resolve))
    sealer.start()
    await sealed
    sealer.stop()

    const sealerAddress = a.address.toLowerCase()
    const block = (await call('eth_getBlockByNumber', ['0x1', false])) as { miner: string; nonce: string }
    assert.equal(block.miner, sealerAddress)
    assert.equal(block.nonce, '0xffffffffffffffff')
    assert.equal(bytesToHex((await chain.getBlockByNumber(1n))!.header.coinbase.bytes), voted)
    assert.equal(await call('clique_getSigner', ['0x1']), sealerAddress)

    const snapshot = await call('clique_getSnapshot', ['0x1'])
    assert.deepEqual(snapshot, {
      number: 1,
      hash: bytesToHex(chain.heads().latest.hash()),
      signers: Object.fromEntries([a, b].map((s) => s.address.toLowerCase()).sort().map((s) => [s, {}])),
      recents: { 1: sealerAddress },
      votes: [{ signer: sealerAddress, block: 1, address: voted, authorize: true }],
      tally: { [voted]: { authorize: true, votes: 1 } },
    })
    // one vote of two signers does not pass
    assert.ok(!((await call('clique_getSigners')) as string[]).includes(voted))
    // head 1: no block before it to report (geth 1.13 divides by zero here)
    assert.deepEqual(await call('clique_status'), { inturnPercent: 0, sealerActivity: Object.fromEntries([a, b].map((s) => s.address.toLowerCase()).sort().map((s) => [s, 0])), numBlocks: 0 })
  })
})

describe('clique namespace registration', () => {
  let fixtureChain: { chain: Chain; close(): Promise<void> }
  before(async () => {
    fixtureChain = await importedChain('clique/rinkeby/genesis.geth.json', ['clique/rinkeby/blocks-1-5.rlp'])
  })
  after(() => fixtureChain?.close())

  it('is registered only with a Clique context, and served over HTTP only when listed', async () => {
    const { chain } = fixtureChain
    assert.deepEqual(createRegistry({ chain, clientVersion: 'x', peerCount: () => 0 }).names().includes('clique'), false)
    const registry = createRegistry(contextFor(chain))
    assert.ok(registry.names().includes('clique'))
    const server = await startHttpServer({ port: 0, methods: registry.select(['eth', 'net', 'web3', 'clique']) })
    const post = async (method: string, params: unknown[] = []) =>
      (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })).text()
    try {
      assert.equal(await post('rpc_modules'), '{"jsonrpc":"2.0","id":1,"result":{"clique":"1.0","eth":"1.0","net":"1.0","rpc":"1.0","web3":"1.0"}}')
      const signers = rinkeby.genesis.signers.map((s) => `"${s}":{}`).join(',')
      assert.equal(
        await post('clique_getSnapshot', ['0x0']),
        `{"jsonrpc":"2.0","id":1,"result":{"number":0,"hash":"${rinkeby.genesis.hash}","signers":{${signers}},"recents":{},"votes":null,"tally":{}}}`,
      )
      assert.equal(await post('clique_getSigner', ['0x1']), `{"jsonrpc":"2.0","id":1,"result":"${rinkeby.blocks.blocks[0].signer}"}`)
    } finally {
      await server.close()
    }
    const defaults = registry.select(['eth', 'net', 'web3'])
    await assert.rejects(defaults.call('clique_getSigners', []), { message: 'the method clique_getSigners does not exist/is not available' })
  })
})
