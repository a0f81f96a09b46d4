/**
 * geth 1.13's tip oracle (eth/gasprice) and eth_feeHistory's rules, over hand-built blocks: which tips are sampled,
 * the percentile, the price an idle chain answers, and the request checks with geth's messages.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlock } from '@ethereumjs/block'
import type { Block } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { createAddressFromPrivateKey, hexToBytes } from '@ethereumjs/util'

import type { ChainReader } from '../../src/chain/types.ts'
import { buildCommon, parseGenesis } from '../../src/config/genesis.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import { DEFAULT_TIP, GasPriceOracle, baseFee, feeHistory, gasPriceOracle } from '../../src/rpc/fees.ts'

const GWEI = 10n ** 9n
const BASE_FEE = 10n * GWEI
const KEY = hexToBytes(`0x${'11'.repeat(32)}`)
const OTHER_KEY = hexToBytes(`0x${'22'.repeat(32)}`)
const mainnet = new Common({ chain: Mainnet, hardfork: Hardfork.London })
const common = mainnet

let nonce = 0n
/** a transaction paying `tip` per gas above the base fee */
const tipping = (tip: bigint, key = KEY) =>
  createFeeMarket1559Tx({ nonce: nonce++, to: `0x${'00'.repeat(20)}`, gasLimit: 21_000n, maxFeePerGas: BASE_FEE + tip, maxPriorityFeePerGas: tip }, { common }).sign(key)

/** A chain of blocks on top of a genesis, each with the given transactions; block 1 is the first element. */
function chainOf(
  blocks: { txs: TypedTransaction[]; coinbase?: Uint8Array }[],
  { common = mainnet, baseFee = BASE_FEE, gasLimit = 30_000_000n }: { common?: Common; baseFee?: bigint; gasLimit?: bigint } = {},
): ChainReader & { add(txs: TypedTransaction[]): void } {
  const all: Block[] = []
  const add = (txs: TypedTransaction[], coinbase?: Uint8Array) => {
    const gasUsed = 21_000n * BigInt(txs.length)
    all.push(createBlock({ header: { number: BigInt(all.length), baseFeePerGas: baseFee, gasLimit, gasUsed, coinbase }, transactions: txs }, { common, setHardfork: common !== mainnet, skipConsensusFormatValidation: true }))
  }
  add([])
  for (const b of blocks) add(b.txs, b.coinbase)
  return {
    heads: () => ({ latest: all[all.length - 1].header, safe: all[all.length - 1].header, finalized: all[all.length - 1].header }),
    getBlockByNumber: async (n: bigint) => all[Number(n)],
    getCanonicalHash: async (n: bigint) => all[Number(n)]?.hash(),
    getHeaderByHash: async (hash: Uint8Array) => all.find((b) => b.hash().every((x, i) => x === hash[i]))?.header,
    getReceipts: async (hash: Uint8Array) => {
      const block = all.find((b) => b.hash().every((x, i) => x === hash[i]))!
      return block.transactions.map((_, i) => ({ type: 2, status: 1 as const, cumulativeGasUsed: 21_000n * BigInt(i + 1), logsBloom: new Uint8Array(256), logs: [] }))
    },
    common,
    add: (txs: TypedTransaction[]) => add(txs),
  } as unknown as ChainReader & { add(txs: TypedTransaction[]): void }
}

describe('gas price oracle (geth 1.13)', () => {
  it('answers 1 gwei on a chain with no transactions', async () => {
    const oracle = new GasPriceOracle(chainOf([{ txs: [] }, { txs: [] }]))
    assert.equal(DEFAULT_TIP, GWEI)
    assert.equal(await oracle.suggestTipCap(), GWEI)
  })

  it('takes the 60th percentile of the three lowest tips per block, ignoring tips under 2 wei', async () => {
    // sampled: [1, 2, 3] gwei and [4, 5, 6] gwei (7 gwei is the 4th of its block, 1 wei is ignored)
    const chain = chainOf([{ txs: [tipping(3n * GWEI), tipping(1n), tipping(1n * GWEI), tipping(2n * GWEI)] }, { txs: [tipping(7n * GWEI), tipping(6n * GWEI), tipping(5n * GWEI), tipping(4n * GWEI)] }])
    // sorted [1,2,3,4,5,6] gwei, index (6-1)*60/100 = 3
    assert.equal(await new GasPriceOracle(chain).suggestTipCap(), 4n * GWEI)
  })

  it("leaves out the block producer's own transactions", async () => {
    const producer = createAddressFromPrivateKey(KEY).bytes
    const chain = chainOf([{ txs: [tipping(1n * GWEI), tipping(9n * GWEI, OTHER_KEY)], coinbase: producer }])
    assert.equal(await new GasPriceOracle(chain).suggestTipCap(), 9n * GWEI)
  })

  it('keeps its last answer while blocks are empty, and caps at 500 gwei', async () => {
    const chain = chainOf([{ txs: [tipping(3n * GWEI)] }])
    const oracle = new GasPriceOracle(chain)
    assert.equal(await oracle.suggestTipCap(), 3n * GWEI)
    for (let i = 0; i < 30; i++) chain.add([])
    assert.equal(await oracle.suggestTipCap(), 3n * GWEI)
    const expensive = chainOf([{ txs: [tipping(900n * GWEI)] }])
    assert.equal(await new GasPriceOracle(expensive).suggestTipCap(), 500n * GWEI)
  })

  it('samples legacy transactions by gas price above the base fee', async () => {
    const legacy = createLegacyTx({ nonce: nonce++, to: `0x${'00'.repeat(20)}`, gasLimit: 21_000n, gasPrice: BASE_FEE + 7n * GWEI }, { common }).sign(KEY)
    assert.equal(await new GasPriceOracle(chainOf([{ txs: [legacy] }])).suggestTipCap(), 7n * GWEI)
  })
})

describe('eth_feeHistory', () => {
  const chain = chainOf([{ txs: [tipping(1n * GWEI), tipping(3n * GWEI)] }, { txs: [] }])

  it('reports rewards weighted by gas, base fees with the next block, and blob fields', async () => {
    const history = await feeHistory(chain, 2n, 'latest', [10, 90])
    assert.deepEqual(history, {
      oldestBlock: '0x1',
      reward: [
        ['0x3b9aca00', '0xb2d05e00'],
        ['0x0', '0x0'],
      ],
      // after an empty block the base fee drops by 1/8: 8.75 gwei
      baseFeePerGas: ['0x2540be400', '0x2540be400', '0x2098a6780'],
      gasUsedRatio: [0.0014, 0],
      baseFeePerBlobGas: ['0x0', '0x0', '0x0'],
      blobGasUsedRatio: [0, 0],
    })
  })

  it('trims the range at the genesis and at pending, and answers nothing for no blocks', async () => {
    assert.equal((await feeHistory(chain, 10n, 'latest', [])).oldestBlock, '0x0')
    assert.equal((await feeHistory(chain, 10n, 'latest', [])).reward, undefined)
    assert.deepEqual((await feeHistory(chain, 2n, 'pending', [])).gasUsedRatio, [0])
    assert.deepEqual(await feeHistory(chain, 0n, 'latest', []), { oldestBlock: '0x0', gasUsedRatio: null })
    assert.deepEqual(await feeHistory(chain, 1n, 'pending', []), { oldestBlock: '0x0', gasUsedRatio: null })
  })

  it("refuses bad percentiles and blocks past the head with geth's messages", async () => {
    await assert.rejects(feeHistory(chain, 1n, 'latest', [101]), { message: 'invalid reward percentile: 101.000000' })
    await assert.rejects(feeHistory(chain, 1n, 'latest', [50, 50]), { message: 'invalid reward percentile: #0:50.000000 >= #1:50.000000' })
    await assert.rejects(feeHistory(chain, 1n, 'latest', Array.from({ length: 101 }, (_, i) => i)), { message: 'invalid reward percentile: over the query limit 100' })
    await assert.rejects(feeHistory(chain, 1n, 9n, []), { message: 'request beyond head block: requested 9, head 2' })
  })
})

describe('fees on a free-gas chain (genesis zeroBaseFee)', () => {
  // the Common of `cairn genesis new --free-gas --fork london`
  const genesis = buildCliqueGenesis({ chainId: 4242, period: 1, epoch: 30000, signers: [createAddressFromPrivateKey(KEY).toString()], alloc: [], fork: 'london', gasLimit: 42_000n, emptyBlocks: true, freeGas: true })
  const free = buildCommon(parseGenesis(JSON.stringify(genesis)))
  const txCommon = free.copy()
  txCommon.setHardfork(Hardfork.London)
  let n = 0n
  const zeroFee = (key: Uint8Array) => createFeeMarket1559Tx({ nonce: n++, to: `0x${'00'.repeat(20)}`, gasLimit: 21_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n }, { common: txCommon }).sign(key)
  const zeroPrice = (key: Uint8Array) => createLegacyTx({ nonce: n++, to: `0x${'00'.repeat(20)}`, gasLimit: 21_000n, gasPrice: 0n }, { common: txCommon }).sign(key)
  // block 1 is full (2 x 21000 of 42000 gas): EIP-1559 alone would ask 1 wei next
  const chain = chainOf([{ txs: [zeroFee(OTHER_KEY), zeroPrice(OTHER_KEY)] }, { txs: [] }], { common: free, baseFee: 0n, gasLimit: 42_000n })

  it('eth_gasPrice and eth_maxPriorityFeePerGas start at 0 and stay there while no one tips', async () => {
    assert.equal(await gasPriceOracle(chain).suggestTipCap(), 0n)
  })

  it('eth_baseFee and eth_feeHistory give base fees of 0, also after a full block', async () => {
    assert.equal(baseFee(chain), '0x0')
    const history = await feeHistory(chain, 2n, 1n, [50])
    assert.deepEqual(history.baseFeePerGas, ['0x0', '0x0', '0x0'])
    assert.deepEqual(history.gasUsedRatio, [0, 1])
    assert.deepEqual(history.reward, [['0x0'], ['0x0']])
  })
})
