import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { Contract, ContractFactory, JsonRpcProvider, NonceManager, Wallet, WebSocketProvider, isError, parseEther, solidityPackedKeccak256 } from 'ethers'
import type { ContractTransactionResponse, EventLog, JsonRpcApiProvider } from 'ethers'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { compileContract } from '../solc.ts'
import { suiteDevNode } from './devchain.ts'
import { TARGETS } from './network.ts'
import type { DevNode } from './devchain.ts'

// account 0 seals the dev chain; its own tips would not count for the fee oracle
const [, deployer, recipient, spare] = devAccounts(4)
const token = compileContract('PlainToken.sol', 'PlainToken')
const events = compileContract('Events.sol', 'Events')
const probe = compileContract('CallProbe.sol', 'CallProbe')
const SUPPLY = 10n ** 24n

/** Resolves with the first value `subscribe` hands over, or fails after `ms`. */
function firstWithin<T>(ms: number, subscribe: (deliver: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived within ${ms} ms`)), ms)
    subscribe((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}

// cacheTimeout -1: ethers would otherwise reuse a nonce read within 250 ms (see the offline toolchain notes)
const transports: [string, (node: DevNode) => JsonRpcApiProvider][] = [
  ['HTTP', (node) => new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 200 })],
  ['WebSocket', (node) => new WebSocketProvider(node.wsUrl!, undefined, { cacheTimeout: -1 })],
]

// each transport against the dev chain (a node per suite) and a 2-sealer network (one per file)
const suites = TARGETS.flatMap((target) => transports.map(([transport, connect]) => [target, transport, connect] as const))
for (const [target, transport, connect] of suites) {
  describe(`ethers v6 over ${transport} against ${target.name}`, { timeout: 120_000 }, () => {
    const node = target.suite({ ws: true })
    let provider: JsonRpcApiProvider
    let wallet: Wallet
    let plainToken: Contract
    let callProbe: Contract
    let eventSource: Contract
    before(() => {
      provider = connect(node())
      wallet = new Wallet(deployer.privateKey, provider)
    })

    it('deploys contracts with the default fees', async () => {
      assert.equal((await provider.getNetwork()).chainId, 1337n)
      const deploy = async (c: typeof token, ...args: unknown[]) => {
        const contract = (await new ContractFactory(c.abi as never, c.bytecode, wallet).deploy(...args)) as Contract
        await contract.waitForDeployment()
        assert.equal(await provider.getCode(await contract.getAddress()), c.deployedBytecode)
        return contract
      }
      plainToken = await deploy(token, SUPPLY)
      callProbe = await deploy(probe)
      eventSource = await deploy(events)
      assert.equal(await plainToken.totalSupply(), SUPPLY)
      assert.equal(await plainToken.balanceOf(deployer.address), SUPPLY)
    })

    it('fee data comes from eth_gasPrice, eth_maxPriorityFeePerGas and the head', async () => {
      const fees = await provider.getFeeData()
      const tip = BigInt(await provider.send('eth_maxPriorityFeePerGas', []))
      assert.equal(fees.maxPriorityFeePerGas, tip)
      assert.ok(fees.gasPrice !== null && fees.gasPrice >= tip)
      assert.ok(fees.maxFeePerGas !== null && fees.maxFeePerGas > tip)
    })

    it('an EIP-1559 transfer with default fees pays base fee plus the suggested tip', async () => {
      const value = parseEther('1.25')
      const [senderBefore, recipientBefore, tip] = await Promise.all([
        provider.getBalance(deployer.address),
        provider.getBalance(recipient.address),
        provider.send('eth_maxPriorityFeePerGas', []).then(BigInt),
      ])
      const tx = await wallet.sendTransaction({ to: recipient.address, value })
      assert.equal(tx.type, 2)
      assert.equal(tx.gasLimit, 21_000n) // eth_estimateGas of a plain transfer
      assert.equal(tx.maxPriorityFeePerGas, tip)
      const receipt = (await tx.wait(1, 20_000))!
      assert.equal(receipt.status, 1)
      const block = (await provider.getBlock(receipt.blockNumber))!
      assert.equal(receipt.gasPrice, block.baseFeePerGas! + tip)
      assert.equal(await provider.getBalance(recipient.address, receipt.blockNumber), recipientBefore + value)
      assert.equal(await provider.getBalance(deployer.address, receipt.blockNumber), senderBefore - value - receipt.gasUsed * receipt.gasPrice)
    })

    it('a legacy transfer with default fees pays eth_gasPrice', async () => {
      const value = 12_345n
      const recipientBefore = await provider.getBalance(recipient.address)
      const tx = await wallet.sendTransaction({ to: recipient.address, value, type: 0 })
      assert.equal(tx.type, 0)
      assert.equal(tx.chainId, 1337n)
      const receipt = (await tx.wait(1, 20_000))!
      assert.equal(receipt.status, 1)
      assert.equal(receipt.gasPrice, tx.gasPrice)
      assert.equal((await provider.getTransaction(tx.hash))!.type, 0)
      assert.equal(await provider.getBalance(recipient.address, receipt.blockNumber), recipientBefore + value)
    })

    it('several quick token transfers from one account (NonceManager), then getLogs finds each', async () => {
      const signer = new NonceManager(new Wallet(deployer.privateKey, provider))
      const firstNonce = await provider.getTransactionCount(deployer.address, 'pending')
      const amounts = [1n, 2n, 3n, 4n, 5n]
      const sent: ContractTransactionResponse[] = []
      for (const amount of amounts) sent.push(await (plainToken.connect(signer) as Contract).transfer(spare.address, amount))
      assert.deepEqual(sent.map((tx) => tx.nonce), amounts.map((_, i) => firstNonce + i))
      const receipts = await Promise.all(sent.map((tx) => tx.wait(1, 20_000)))
      assert.ok(receipts.every((r) => r!.status === 1))
      assert.equal(await plainToken.balanceOf(spare.address), 15n)

      const fromBlock = Math.min(...receipts.map((r) => r!.blockNumber))
      const logs = (await plainToken.queryFilter(plainToken.filters.Transfer(deployer.address, spare.address), fromBlock)) as EventLog[]
      assert.deepEqual(logs.map((l) => [l.transactionHash, l.args.from, l.args.to, l.args.value]), sent.map((tx, i) => [tx.hash, deployer.address, spare.address, amounts[i]]))
    })

    it(`contract.on delivers an event (${transport === 'HTTP' ? 'eth_newFilter polling' : 'eth_subscribe logs'})`, async () => {
      const heard = firstWithin<[string, bigint, string]>(15_000, (deliver) => {
        void eventSource.on('Ping', (from: string, value: bigint, note: string) => deliver([from, value, note]))
      })
      // the subscription (or filter) must exist before the event is sealed
      await new Promise((resolve) => setTimeout(resolve, 500))
      const receipt = await ((await eventSource.ping(42n)) as ContractTransactionResponse).wait(1, 20_000)
      const [from, value, note] = await heard
      await eventSource.removeAllListeners()
      assert.equal(from, deployer.address)
      assert.equal(value, 42n)
      assert.equal(note, solidityPackedKeccak256(['uint256'], [42n])) // keccak256(abi.encode(value))
      assert.equal(receipt!.logs.length, 1)
    })

    it(`provider.on("block") sees consecutive new heads (${transport === 'HTTP' ? 'eth_blockNumber polling' : 'eth_subscribe newHeads'})`, async () => {
      const seen: number[] = []
      await firstWithin<void>(15_000, (done) => {
        void provider.on('block', (n: number) => {
          seen.push(n)
          if (seen.length === 3) done()
        })
      })
      await provider.removeAllListeners('block')
      // more heads may come before the listener goes (a poll that finds several reports them all): the first three count
      assert.deepEqual(seen.slice(0, 3), [seen[0], seen[0] + 1, seen[0] + 2])
    })

    it(`provider.on("pending") hears a sent transaction (${transport === 'HTTP' ? 'eth_newPendingTransactionFilter' : 'eth_subscribe newPendingTransactions'})`, async () => {
      const heard = new Set<string>()
      await provider.on('pending', (hash: string) => heard.add(hash))
      await new Promise((resolve) => setTimeout(resolve, 500))
      const tx = await wallet.sendTransaction({ to: recipient.address, value: 1n })
      const deadline = Date.now() + 15_000
      while (!heard.has(tx.hash) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      await provider.removeAllListeners('pending')
      assert.ok(heard.has(tx.hash), 'the pending transaction was announced')
      await tx.wait(1, 20_000)
    })

    it('a failing call and a failing estimate give the revert reason', async () => {
      for (const attempt of [() => callProbe.add.staticCall(0n), () => callProbe.add.estimateGas(0n)]) {
        await assert.rejects(attempt(), (err: unknown) => {
          assert.ok(isError(err, 'CALL_EXCEPTION'))
          assert.equal(err.reason, 'nothing to add')
          assert.equal(err.revert?.name, 'Error')
          return true
        })
      }
      // the node's own answer, which ethers keeps in info.error
      const raw = await provider
        .send('eth_call', [{ to: await callProbe.getAddress(), data: callProbe.interface.encodeFunctionData('add', [0n]) }, 'latest'])
        .catch((err: { info?: { error?: { code: number; message: string } } }) => err.info?.error)
      assert.deepEqual({ code: raw?.code, message: raw?.message }, { code: 3, message: 'execution reverted: nothing to add' })
    })

    it('a custom error is decoded from a failing call and a failing estimate', async () => {
      const stranger = plainToken.connect(new Wallet(recipient.privateKey, provider)) as Contract
      await assert.rejects(stranger.transfer.staticCall(spare.address, 7n), (err: unknown) => {
        assert.ok(isError(err, 'CALL_EXCEPTION'))
        assert.equal(err.revert?.name, 'ERC20InsufficientBalance')
        assert.deepEqual([...err.revert.args], [recipient.address, 0n, 7n])
        return true
      })
      // a contract's estimateGas goes straight to the provider, which has no ABI: the revert data is decoded with the contract's
      await assert.rejects(stranger.transfer.estimateGas(spare.address, 7n), (err: unknown) => {
        assert.ok(isError(err, 'CALL_EXCEPTION'))
        const decoded = plainToken.interface.parseError(err.data!)
        assert.equal(decoded?.name, 'ERC20InsufficientBalance')
        assert.deepEqual([...decoded.args], [recipient.address, 0n, 7n])
        return true
      })
    })

    it(target.closing, async () => {
      provider.destroy()
      await target.close(node())
    })
  })
}

describe('ethers v6 against cairn --dev --dev.period 0 (a block as soon as a transaction waits)', { timeout: 60_000 }, () => {
  const node = suiteDevNode(['--dev.period', '0'])

  it('transfers sent right after the previous one is mined reuse no nonce (cacheTimeout -1)', async (t) => {
    const provider = new JsonRpcProvider(node().url, undefined, { cacheTimeout: -1, pollingInterval: 100 })
    t.after(() => provider.destroy())
    const wallet = new Wallet(deployer.privateKey, provider)
    const before = await provider.getBalance(recipient.address)
    const blocks: number[] = []
    for (let i = 0; i < 5; i++) {
      const receipt = (await (await wallet.sendTransaction({ to: recipient.address, value: 1_000n })).wait(1, 10_000))!
      assert.equal(receipt.status, 1)
      blocks.push(receipt.blockNumber)
    }
    assert.equal(await provider.getBalance(recipient.address), before + 5_000n)
    assert.equal(new Set(blocks).size, 5, 'each transfer sealed in a block of its own')
  })

  it('a NonceManager burst is sealed in order without waiting for a period', async (t) => {
    const provider = new JsonRpcProvider(node().url, undefined, { cacheTimeout: -1, pollingInterval: 100 })
    t.after(() => provider.destroy())
    const signer = new NonceManager(new Wallet(spare.privateKey, provider))
    const first = await provider.getTransactionCount(spare.address, 'pending')
    const sent = []
    for (let i = 0; i < 10; i++) sent.push(await signer.sendTransaction({ to: recipient.address, value: 1n }))
    const receipts = await Promise.all(sent.map((tx) => tx.wait(1, 10_000)))
    assert.deepEqual(sent.map((tx) => tx.nonce), sent.map((_, i) => first + i))
    assert.ok(receipts.every((r) => r!.status === 1))
    assert.equal(await provider.getTransactionCount(spare.address, 'latest'), first + 10)
  })
})

describe('ethers v6 maps the pool refusals of cairn by their geth wording', { timeout: 60_000 }, () => {
  const node = suiteDevNode(['--dev.period', '0'])

  it('nonce too low, replacement underpriced, insufficient funds', async (t) => {
    const provider = new JsonRpcProvider(node().url, undefined, { cacheTimeout: -1, pollingInterval: 100 })
    t.after(() => provider.destroy())
    const wallet = new Wallet(deployer.privateKey, provider)
    const fees = { gasLimit: 21_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n }
    await (await wallet.sendTransaction({ to: recipient.address, value: 1n, ...fees })).wait(1, 10_000)

    await assert.rejects(wallet.sendTransaction({ to: recipient.address, value: 1n, nonce: 0, ...fees }), (err: unknown) => isError(err, 'NONCE_EXPIRED'))

    // a nonce beyond the next waits in the pool; the same nonce at the same price cannot replace it
    const queued = { to: recipient.address, value: 1n, nonce: 5, ...fees }
    await wallet.sendTransaction(queued)
    await assert.rejects(wallet.sendTransaction({ ...queued, value: 2n }), (err: unknown) => isError(err, 'REPLACEMENT_UNDERPRICED'))

    const pauper = Wallet.createRandom(provider)
    await assert.rejects(pauper.sendTransaction({ to: recipient.address, value: 1n, nonce: 0, ...fees }), (err: unknown) => isError(err, 'INSUFFICIENT_FUNDS'))
  })
})
