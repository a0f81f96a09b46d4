/**
 * Free-gas chains (genesis `config.zeroBaseFee`, Besu's option) against real cairn processes: the fee answers, and
 * ethers, viem and MetaMask's call sequence sending transactions that cost nothing from accounts holding no ETH.
 * Hardhat Ignition on a free-gas chain is in hardhat.test.ts (one Hardhat project, one file at a time).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { ContractFactory, JsonRpcProvider, Wallet, keccak256 } from 'ethers'
import type { Contract } from 'ethers'
import { createPublicClient, createWalletClient, defineChain, http } from 'viem'
import type { Hex } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { suiteDevNode } from '../clients/devchain.ts'
import { signersOfBlocks, startSealerNetwork } from '../clients/network.ts'
import { rpc } from '../net/processKit.ts'
import { compileContract } from '../solc.ts'

const [, , recipient] = devAccounts(3)
const token = compileContract('PlainToken.sol', 'PlainToken')

/** Polls for a receipt, as wallets do; fails after `ms`. */
async function receiptOf(url: string, hash: string, ms = 20_000): Promise<Record<string, string>> {
  const deadline = Date.now() + ms
  for (;;) {
    const receipt = (await rpc(url, 'eth_getTransactionReceipt', [hash])) as Record<string, string> | null
    if (receipt !== null) return receipt
    assert.ok(Date.now() < deadline, `${hash} mined within ${ms} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

describe('a free-gas chain (cairn --dev --dev.free-gas)', { timeout: 120_000 }, () => {
  const node = suiteDevNode(['--dev.free-gas'])

  it('the base fee, eth_gasPrice, eth_maxPriorityFeePerGas and eth_feeHistory are all 0', async () => {
    const url = node().url
    assert.match(node().log(), /Created development chain .*freeGas=true/)
    const head = (await rpc(url, 'eth_getBlockByNumber', ['latest', false])) as Record<string, string>
    assert.equal(head.baseFeePerGas, '0x0')
    assert.equal(await rpc(url, 'eth_gasPrice'), '0x0')
    assert.equal(await rpc(url, 'eth_maxPriorityFeePerGas'), '0x0')
    assert.equal(await rpc(url, 'eth_baseFee'), '0x0')
    const history = (await rpc(url, 'eth_feeHistory', ['0x3', 'latest', [10, 50]])) as { baseFeePerGas: string[]; reward: string[][] }
    assert.ok(history.baseFeePerGas.length >= 2 && history.baseFeePerGas.every((fee) => fee === '0x0'), 'the base fees, the next block included')
    assert.ok(history.reward.flat().every((r) => r === '0x0'))
  })

  it('ethers v6: getFeeData, then a transfer and a contract deploy from an account with 0 ETH', async (t) => {
    const provider = new JsonRpcProvider(node().url, undefined, { cacheTimeout: -1, pollingInterval: 200 })
    t.after(() => provider.destroy())
    const pauper = Wallet.createRandom(provider)
    // a base fee of 0 is falsy for ethers: no EIP-1559 fees, so it sends legacy transactions at eth_gasPrice
    const fees = await provider.getFeeData()
    assert.deepEqual([fees.gasPrice, fees.maxFeePerGas, fees.maxPriorityFeePerGas], [0n, null, null])

    const tx = await pauper.sendTransaction({ to: recipient.address, value: 0n })
    assert.equal(tx.gasPrice, 0n)
    const receipt = (await tx.wait(1, 20_000))!
    assert.equal(receipt.status, 1)
    assert.equal(receipt.gasPrice, 0n)

    const deployed = (await new ContractFactory(token.abi as never, token.bytecode, pauper).deploy(1_000n)) as Contract
    await deployed.waitForDeployment()
    assert.equal(await deployed.getFunction('balanceOf')(pauper.address), 1_000n)
    // an explicit EIP-1559 transaction with both fee caps at 0 goes through too
    const typed = await pauper.sendTransaction({ to: recipient.address, value: 0n, type: 2, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n })
    assert.equal((await typed.wait(1, 20_000))!.status, 1)
    assert.equal(await provider.getBalance(pauper.address), 0n)
    assert.equal(await provider.getTransactionCount(pauper.address), 3)
  })

  it('viem: estimateFeesPerGas gives 0 and 0, and a transfer from an account with 0 ETH is sealed', async () => {
    const chain = defineChain({ id: 1337, name: 'cairn free gas', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [node().url] } } })
    const account = privateKeyToAccount(generatePrivateKey())
    const client = createPublicClient({ chain, transport: http(), pollingInterval: 200 })
    const wallet = createWalletClient({ account, chain, transport: http(), pollingInterval: 200 })
    assert.deepEqual(await client.estimateFeesPerGas(), { maxFeePerGas: 0n, maxPriorityFeePerGas: 0n })
    const hash = await wallet.sendTransaction({ to: recipient.address as Hex, value: 0n })
    const receipt = await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
    assert.equal(receipt.status, 'success')
    assert.equal(receipt.type, 'eip1559')
    assert.equal(receipt.effectiveGasPrice, 0n)
  })

  it("MetaMask's call sequence sends a type-2 transfer priced by eth_gasPrice (0) from an account with 0 ETH", async () => {
    const url = node().url
    const user = Wallet.createRandom()
    assert.equal(await rpc(url, 'eth_chainId'), '0x539')
    const blockTag = (await rpc(url, 'eth_blockNumber')) as string
    const block = (await rpc(url, 'eth_getBlockByNumber', [blockTag, false])) as Record<string, string>
    // MetaMask's EIP-1559 signal is the presence of baseFeePerGas, 0 included
    assert.equal(block.baseFeePerGas, '0x0')
    assert.equal(await rpc(url, 'eth_getCode', [recipient.address, blockTag]), '0x')
    const gas = BigInt((await rpc(url, 'eth_estimateGas', [{ from: user.address.toLowerCase(), to: recipient.address.toLowerCase(), value: '0x0', data: '0x' }])) as string)
    assert.equal(gas, 21_000n)
    const gasPrice = BigInt((await rpc(url, 'eth_gasPrice')) as string)
    assert.equal(gasPrice, 0n)
    // the fee-history estimate MetaMask's gas fee controller makes where it has no gas API
    const history = (await rpc(url, 'eth_feeHistory', ['0x5', 'latest', [10, 20, 30]])) as { baseFeePerGas: string[] }
    assert.ok(history.baseFeePerGas.every((fee) => fee === '0x0'))
    const nonce = BigInt((await rpc(url, 'eth_getTransactionCount', [user.address, blockTag])) as string)
    const raw = await user.signTransaction({ type: 2, chainId: 1337, nonce: Number(nonce), to: recipient.address, value: 0n, gasLimit: gas, maxFeePerGas: gasPrice, maxPriorityFeePerGas: gasPrice })
    const hash = (await rpc(url, 'eth_sendRawTransaction', [raw])) as string
    assert.equal(hash, keccak256(raw))
    const receipt = await receiptOf(url, hash)
    assert.deepEqual([receipt.status, receipt.type, receipt.effectiveGasPrice], ['0x1', '0x2', '0x0'])
    const included = (await rpc(url, 'eth_getBlockByHash', [receipt.blockHash, false])) as Record<string, unknown>
    assert.ok((included.transactions as string[]).includes(hash))
  })
})

describe('a free-gas 2-sealer network (cairn genesis new --free-gas)', { timeout: 120_000 }, () => {
  it('both sealers admit and seal transactions without fees from an account with 0 ETH, with their default price limits', async (t) => {
    const network = await startSealerNetwork(t, { freeGas: true })
    const url = network.url
    const pauper = Wallet.createRandom()
    const sealedBy = new Set<string>()
    // one at a time: the sealers alternate, so the next transfer lands in the other one's block, which only has it by
    // gossip (a remote transaction there, held to --txpool.pricelimit and --miner.gasprice)
    for (let nonce = 0; nonce < 4; nonce++) {
      const raw = await pauper.signTransaction({ type: 2, chainId: 1337, nonce, to: recipient.address, value: 0n, gasLimit: 21_000n, maxFeePerGas: 0n, maxPriorityFeePerGas: 0n })
      const receipt = await receiptOf(url, (await rpc(url, 'eth_sendRawTransaction', [raw])) as string)
      assert.equal(receipt.status, '0x1')
      sealedBy.add(String(await rpc(url, 'clique_getSigner', [receipt.blockNumber])).toLowerCase())
    }
    assert.deepEqual([...sealedBy].sort(), [...network.signers].sort())
    assert.deepEqual([...(await signersOfBlocks(url))].sort(), [...network.signers].sort())
    assert.equal(await rpc(url, 'eth_getBalance', [pauper.address, 'latest']), '0x0')
    assert.equal(await network.stop(), 0)
  })
})
