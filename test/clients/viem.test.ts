import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { BaseError, ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain, encodeAbiParameters, encodeFunctionData, http, keccak256, parseEther, webSocket } from 'viem'
import type { Abi, Address, Hex, Transport } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { compileContract } from '../solc.ts'
import { TARGETS } from './network.ts'
import { within } from './devchain.ts'
import type { DevNode } from './devchain.ts'

// account 0 seals the dev chain; its own tips would not count for the fee oracle
const [, deployerKeys, recipientKeys, spareKeys] = devAccounts(4)
const deployer = privateKeyToAccount(deployerKeys.privateKey as Hex)
const recipient = privateKeyToAccount(recipientKeys.privateKey as Hex)
const spare = spareKeys.address as Address
const token = compileContract('PlainToken.sol', 'PlainToken')
const events = compileContract('Events.sol', 'Events')
const probe = compileContract('CallProbe.sol', 'CallProbe')
const SUPPLY = 10n ** 24n

/** The innermost error viem decoded from a revert, if any. */
function revertOf(err: unknown): ContractFunctionRevertedError | undefined {
  const found = err instanceof BaseError ? err.walk((e) => e instanceof ContractFunctionRevertedError) : null
  return found instanceof ContractFunctionRevertedError ? found : undefined
}

function connectClients(node: DevNode, transport: Transport) {
  const chain = defineChain({
    id: 1337,
    name: 'cairn dev',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [node.url], webSocket: [node.wsUrl!] } },
  })
  return {
    client: createPublicClient({ chain, transport, pollingInterval: 200 }),
    wallet: createWalletClient({ account: deployer, chain, transport, pollingInterval: 200 }),
  }
}

const transports: [string, (node: DevNode) => Transport][] = [
  ['HTTP', (node) => http(node.url)],
  ['WebSocket', (node) => webSocket(node.wsUrl!)],
]

// each transport against the dev chain (a node per suite) and a 2-sealer network (one per file)
const suites = TARGETS.flatMap((target) => transports.map(([transportName, connect]) => [target, transportName, connect] as const))
for (const [target, transportName, connect] of suites) {
  describe(`viem over ${transportName} against ${target.name}`, { timeout: 120_000 }, () => {
    const node = target.suite({ ws: true })
    let client: ReturnType<typeof connectClients>['client']
    let wallet: ReturnType<typeof connectClients>['wallet']
    const addresses: Record<'token' | 'events' | 'probe', Address> = { token: '0x', events: '0x', probe: '0x' }

    before(() => {
      ;({ client, wallet } = connectClients(node(), connect(node())))
    })

    it('eth_fillTransaction answers -32601, the code on which viem falls back to filling transactions itself', async () => {
      await assert.rejects(client.request({ method: 'eth_fillTransaction' as never, params: [{}] as never }), (err: unknown) => {
        assert.equal(((err as BaseError).walk((e) => typeof (e as { code?: unknown }).code === 'number') as unknown as { code: number }).code, -32601)
        return true
      })
    })

    it('deploys contracts with the default fees', async () => {
      assert.equal(await client.getChainId(), 1337)
      for (const [name, compiled, args] of [['token', token, [SUPPLY]], ['probe', probe, []], ['events', events, []]] as const) {
        const hash = await wallet.deployContract({ abi: compiled.abi as Abi, bytecode: compiled.bytecode as Hex, args: [...args] })
        const receipt = await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
        assert.equal(receipt.status, 'success')
        addresses[name] = receipt.contractAddress!
        assert.equal(await client.getCode({ address: receipt.contractAddress! }), compiled.deployedBytecode)
      }
      const tokenAbi = token.abi as Abi
      assert.equal(await client.readContract({ address: addresses.token, abi: tokenAbi, functionName: 'totalSupply' }), SUPPLY)
      assert.equal(await client.readContract({ address: addresses.token, abi: tokenAbi, functionName: 'balanceOf', args: [deployer.address] }), SUPPLY)
    })

    it('estimateFeesPerGas takes eth_maxPriorityFeePerGas; eth_feeHistory answers for the last blocks', async () => {
      const tip = await client.estimateMaxPriorityFeePerGas()
      assert.equal(tip, BigInt(await client.request({ method: 'eth_maxPriorityFeePerGas' })))
      const fees = await client.estimateFeesPerGas()
      assert.equal(fees.maxPriorityFeePerGas, tip)
      assert.ok(fees.maxFeePerGas > tip)
      assert.ok((await client.getGasPrice()) >= tip)

      const head = await client.getBlockNumber()
      const history = await client.getFeeHistory({ blockCount: 4, blockNumber: head, rewardPercentiles: [25, 75] })
      assert.equal(history.oldestBlock, head - 3n)
      assert.equal(history.baseFeePerGas.length, 5) // and the next block's
      assert.equal(history.gasUsedRatio.length, 4)
      assert.equal(history.reward?.length, 4)
      assert.ok(history.reward!.every((r) => r.length === 2))
      const oldest = await client.getBlock({ blockNumber: head - 3n })
      assert.equal(history.baseFeePerGas[0], oldest.baseFeePerGas)
    })

    it('an EIP-1559 transfer with default fees pays base fee plus the suggested tip', async () => {
      const value = parseEther('1.25')
      const [senderBefore, recipientBefore, tip] = await Promise.all([
        client.getBalance({ address: deployer.address }),
        client.getBalance({ address: recipient.address }),
        client.estimateMaxPriorityFeePerGas(),
      ])
      const hash = await wallet.sendTransaction({ to: recipient.address, value })
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
      assert.equal(receipt.status, 'success')
      assert.equal(receipt.type, 'eip1559')
      assert.equal(receipt.gasUsed, 21_000n)
      const tx = await client.getTransaction({ hash })
      assert.equal(tx.maxPriorityFeePerGas, tip)
      const block = await client.getBlock({ blockNumber: receipt.blockNumber })
      assert.equal(receipt.effectiveGasPrice, block.baseFeePerGas! + tip)
      assert.equal(await client.getBalance({ address: recipient.address, blockNumber: receipt.blockNumber }), recipientBefore + value)
      assert.equal(
        await client.getBalance({ address: deployer.address, blockNumber: receipt.blockNumber }),
        senderBefore - value - receipt.gasUsed * receipt.effectiveGasPrice,
      )
    })

    it('a legacy transfer with default fees is priced from eth_gasPrice', async () => {
      const value = 12_345n
      const recipientBefore = await client.getBalance({ address: recipient.address })
      const hash = await wallet.sendTransaction({ to: recipient.address, value, type: 'legacy' })
      const receipt = await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
      assert.equal(receipt.status, 'success')
      assert.equal(receipt.type, 'legacy')
      const tx = await client.getTransaction({ hash })
      assert.equal(tx.chainId, 1337)
      assert.equal(receipt.effectiveGasPrice, tx.gasPrice)
      assert.equal(await client.getBalance({ address: recipient.address, blockNumber: receipt.blockNumber }), recipientBefore + value)
    })

    it('several quick token transfers from one account, then getContractEvents finds each', async () => {
      const firstNonce = await client.getTransactionCount({ address: deployer.address, blockTag: 'pending' })
      const amounts = [1n, 2n, 3n, 4n, 5n]
      const hashes: Hex[] = []
      for (const amount of amounts) {
        hashes.push(await wallet.writeContract({ address: addresses.token, abi: token.abi as Abi, functionName: 'transfer', args: [spare, amount] }))
      }
      const receipts = await Promise.all(hashes.map((hash) => client.waitForTransactionReceipt({ hash, timeout: 20_000 })))
      assert.ok(receipts.every((r) => r.status === 'success'))
      const nonces = await Promise.all(hashes.map(async (hash) => (await client.getTransaction({ hash })).nonce))
      assert.deepEqual(nonces, amounts.map((_, i) => firstNonce + i))
      assert.equal(await client.readContract({ address: addresses.token, abi: token.abi as Abi, functionName: 'balanceOf', args: [spare] }), 15n)

      const logs = await client.getContractEvents({
        address: addresses.token,
        abi: token.abi as Abi,
        eventName: 'Transfer',
        args: { from: deployer.address, to: spare },
        fromBlock: receipts.reduce((min, r) => (r.blockNumber < min ? r.blockNumber : min), receipts[0].blockNumber),
      })
      assert.deepEqual(
        logs.map((l) => [l.transactionHash, l.args]),
        hashes.map((hash, i) => [hash, { from: deployer.address, to: spare, value: amounts[i] }]),
      )
    })

    for (const poll of transportName === 'HTTP' ? [true] : [true, false]) {
      it(`watchContractEvent delivers an event (${poll ? 'eth_newFilter and eth_getFilterChanges' : 'eth_subscribe logs'})`, async () => {
        let unwatch = () => {}
        const heard = within<{ from: Address; value: bigint; note: Hex }>(15_000, (deliver) => {
          const watch = {
            address: addresses.events,
            abi: events.abi as Abi,
            eventName: 'Ping',
            onLogs: (logs: unknown[]) => deliver((logs[0] as { args: { from: Address; value: bigint; note: Hex } }).args),
          }
          // without poll, viem subscribes when the transport is a WebSocket
          unwatch = poll ? client.watchContractEvent({ ...watch, poll: true }) : client.watchContractEvent(watch)
        })
        // the filter (or subscription) must exist before the event is sealed
        await new Promise((resolve) => setTimeout(resolve, 500))
        const hash = await wallet.writeContract({ address: addresses.events, abi: events.abi as Abi, functionName: 'ping', args: [42n] })
        try {
          assert.deepEqual(await heard, { from: deployer.address, value: 42n, note: keccak256(encodeAbiParameters([{ type: 'uint256' }], [42n])) })
        } finally {
          unwatch()
        }
        await client.waitForTransactionReceipt({ hash, timeout: 20_000 })
      })
    }

    it(`watchBlocks sees consecutive new heads (${transportName === 'HTTP' ? 'polling' : 'eth_subscribe newHeads'})`, async () => {
      const seen: bigint[] = []
      let unwatch = () => {}
      await within<void>(15_000, (done) => {
        unwatch = client.watchBlocks({
          // a poll delayed past a block period (a busy machine) finds two new heads: viem fetches the one between
          // by number, as a dapp that needs every block asks it to
          emitMissed: true,
          onBlock: (block) => {
            seen.push(block.number!)
            if (seen.length === 3) done()
          },
        })
      })
      unwatch()
      // more heads may come before the listener goes (a poll that finds several reports them all): the first three count
      assert.deepEqual(seen.slice(0, 3), [seen[0], seen[0] + 1n, seen[0] + 2n])
    })

    it('a failing call and a failing estimate give the revert reason', async () => {
      const request = { address: addresses.probe, abi: probe.abi as Abi, functionName: 'add', args: [0n], account: deployer } as const
      for (const attempt of [() => client.simulateContract(request), () => client.estimateContractGas(request)]) {
        await assert.rejects(attempt(), (err: unknown) => {
          assert.equal(revertOf(err)?.reason, 'nothing to add')
          return true
        })
      }
      await assert.rejects(
        client.request({ method: 'eth_call', params: [{ to: addresses.probe, data: encodeFunctionData({ abi: probe.abi as Abi, functionName: 'add', args: [0n] }) }, 'latest'] }),
        (err: unknown) => {
          // the node's own answer: its code and message
          const rpc = (err as BaseError).walk((e) => typeof (e as { code?: unknown }).code === 'number') as unknown as { code: number; details: string }
          assert.deepEqual({ code: rpc.code, details: rpc.details }, { code: 3, details: 'execution reverted: nothing to add' })
          return true
        },
      )
    })

    it('a custom error is decoded from a failing call and a failing estimate', async () => {
      const request = { address: addresses.token, abi: token.abi as Abi, functionName: 'transfer', args: [spare, 7n], account: recipient } as const
      for (const attempt of [() => client.simulateContract(request), () => client.estimateContractGas(request)]) {
        await assert.rejects(attempt(), (err: unknown) => {
          const decoded = revertOf(err)?.data
          assert.equal(decoded?.errorName, 'ERC20InsufficientBalance')
          assert.deepEqual(decoded?.args, [recipient.address, 0n, 7n])
          return true
        })
      }
    })

    it(target.closing, async () => {
      if (transportName === 'WebSocket') await (await client.transport.getRpcClient?.())?.close?.()
      await target.close(node())
    })
  })
}
