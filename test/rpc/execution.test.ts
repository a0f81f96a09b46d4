/**
 * eth_call, eth_estimateGas and the fee methods on a Clique dev chain over HTTP: a solc-compiled contract is deployed
 * by the sealer, called, reverted against, estimated and then sent with the estimate; COINBASE is the signer; and
 * eth_gasPrice, what MetaMask prices with on a private chain, covers the base fee plus the oracle's tip.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, concatBytes, createAddressFromString, createContractAddress, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { clientVersion, createRegistry, startHttpServer } from '../../src/rpc/index.ts'
import { tempDir } from '../helpers.ts'
import { compileContract } from '../solc.ts'

const [dev] = devAccounts(1)
const KEY = hexToBytes(dev.privateKey as `0x${string}`)
const GWEI = 10n ** 9n
const selector = (sig: string) => keccak_256(new TextEncoder().encode(sig)).subarray(0, 4)
const uint = (n: bigint) => setLengthLeft(hexToBytes(`0x${n.toString(16).padStart(2, '0')}` as `0x${string}`), 32)

describe('calls and fees on a Clique dev chain', () => {
  it('deploys, calls, reverts, estimates and sends; COINBASE is the signer; eth_gasPrice covers the base fee', { timeout: 60_000 }, async (t) => {
    const compiled = compileContract('CallProbe.sol', 'CallProbe')
    const dir = tempDir(t)
    await Chain.init(dir, JSON.stringify(devGenesis({ period: 0, gasLimit: 30_000_000n })))
    const chain = await Chain.open(dir)
    t.after(() => chain.close())
    let queue: TypedTransaction[] = []
    const sealer = new Sealer({
      chain,
      engine: chain.engine as CliqueEngine,
      signerKey: KEY,
      log: createLogger(0),
      txs: { candidates: () => queue.splice(0), hasPending: () => queue.length > 0, onPending: () => () => {} },
    })
    const server = await startHttpServer({
      port: 0,
      methods: createRegistry({ chain, execution: chain.callExecution(), clientVersion: clientVersion('0.1.0'), peerCount: () => 0 }).select(['eth']),
    })
    t.after(() => server.close())
    const rpc = async (method: string, params: unknown[] = []) => {
      const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
      const { result, error } = (await res.json()) as { result?: any; error?: { code: number; message: string; data?: string } }
      return { result, error }
    }

    // an idle chain: geth 1.13's oracle answers the price it starts with, 1 gwei
    const genesisBaseFee = chain.heads().latest.baseFeePerGas!
    assert.deepEqual(await rpc('eth_maxPriorityFeePerGas'), { result: '0x3b9aca00', error: undefined })
    assert.deepEqual(await rpc('eth_gasPrice'), { result: `0x${(genesisBaseFee + GWEI).toString(16)}`, error: undefined })

    const common = chain.common.copy()
    common.setHardfork('prague')
    const send = async (nonce: bigint, to: `0x${string}` | undefined, data: Uint8Array, gasLimit = 1_000_000n) => {
      queue = [createFeeMarket1559Tx({ nonce, to, data, gasLimit, maxFeePerGas: 10n * GWEI, maxPriorityFeePerGas: 2n * GWEI }, { common }).sign(KEY)]
      const block = await sealer.sealNow()
      return (await chain.getReceipts(block.hash()))![0]
    }
    assert.equal((await send(0n, undefined, hexToBytes(compiled.bytecode as `0x${string}`))).status, 1)
    const probe = createContractAddress(createAddressFromString(dev.address), 0n).toString()

    const call = (data: Uint8Array, block: unknown = 'latest') => rpc('eth_call', [{ from: dev.address, to: probe, input: bytesToHex(data) }, block])
    assert.deepEqual(await call(selector('count()')), { result: bytesToHex(uint(0n)), error: undefined })
    assert.deepEqual(await call(selector('count()'), '0x0'), { result: '0x', error: undefined }, 'no code before the deployment')
    assert.deepEqual(await call(concatBytes(selector('add(uint256)'), uint(3n))), { result: bytesToHex(uint(3n)), error: undefined }, 'a call sees its own write')
    const reverted = await call(concatBytes(selector('add(uint256)'), uint(0n)))
    assert.equal(reverted.error?.code, 3)
    assert.equal(reverted.error?.message, 'execution reverted: nothing to add')
    assert.match(reverted.error?.data ?? '', /^0x08c379a0/)
    // COINBASE on Clique is the block's signer, not the header's coinbase (votes live there)
    assert.deepEqual(await call(selector('producer()')), { result: bytesToHex(setLengthLeft(hexToBytes(dev.address as `0x${string}`), 32)), error: undefined })

    const addFive = concatBytes(selector('add(uint256)'), uint(5n))
    const estimate = await rpc('eth_estimateGas', [{ from: dev.address, to: probe, input: bytesToHex(addFive) }])
    const gas = BigInt(estimate.result)
    assert.ok(gas > 21_000n + 20_000n && gas < 60_000n, `estimate ${gas}`)
    const receipt = await send(1n, probe, addFive, gas)
    assert.equal(receipt.status, 1, 'the transaction succeeds with the estimate as its gas limit')
    assert.deepEqual(await call(selector('count()')), { result: bytesToHex(uint(5n)), error: undefined })
    const short = await rpc('eth_estimateGas', [{ from: dev.address, to: probe, input: bytesToHex(addFive), gas: '0x5500' }])
    assert.deepEqual(short.error, { code: -32000, message: 'gas required exceeds allowance (21760)' })

    // blocks now carry 2 gwei tips: the oracle's suggestion follows, on top of the head's base fee
    const head = chain.heads().latest
    assert.deepEqual(await rpc('eth_maxPriorityFeePerGas'), { result: `0x${(2n * GWEI).toString(16)}`, error: undefined })
    const gasPrice = BigInt((await rpc('eth_gasPrice')).result)
    assert.equal(gasPrice, head.baseFeePerGas! + 2n * GWEI)
    assert.ok(gasPrice >= head.baseFeePerGas!)
    const history = (await rpc('eth_feeHistory', ['0x2', 'latest', [50]])).result
    assert.deepEqual(history.reward, [[`0x${(2n * GWEI).toString(16)}`], [`0x${(2n * GWEI).toString(16)}`]])
    assert.equal(history.oldestBlock, '0x1')
    assert.equal(history.baseFeePerGas.length, 3)
    assert.equal(history.baseFeePerGas[2], `0x${head.calcNextBaseFee().toString(16)}`)
  })
})
