import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { Web3 } from 'web3'
import type { Contract, ContractAbi } from 'web3'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { compileContract } from '../solc.ts'
import { TARGETS } from './network.ts'
import { within } from './devchain.ts'
import type { DevNode } from './devchain.ts'

// account 0 seals the dev chain; its own tips would not count for the fee oracle
const [, deployer, recipient, spare] = devAccounts(4)
const token = compileContract('PlainToken.sol', 'PlainToken')
const events = compileContract('Events.sol', 'Events')
const probe = compileContract('CallProbe.sol', 'CallProbe')
const SUPPLY = 10n ** 24n
const GWEI = 10n ** 9n

/** What web3 decoded from the node's revert answer (an Eip838ExecutionError). */
interface DecodedRevert {
  code: number
  message: string
  data: string
  errorName?: string
  errorArgs?: Record<string, unknown>
}

function revertOf(err: unknown): DecodedRevert {
  const { cause } = err as { cause?: DecodedRevert }
  assert.ok(cause, `no revert decoded from ${String(err)}`)
  return cause
}

const transports: [string, (node: DevNode) => string][] = [
  ['HTTP', (node) => node.url],
  ['WebSocket', (node) => node.wsUrl!],
]

// each transport against the dev chain (a node per suite) and a 2-sealer network (one per file)
const suites = TARGETS.flatMap((target) => transports.map(([transport, endpoint]) => [target, transport, endpoint] as const))
for (const [target, transport, endpoint] of suites) {
  describe(`web3 v4 over ${transport} against ${target.name}`, { timeout: 120_000 }, () => {
    const node = target.suite({ ws: true })
    let web3: Web3
    let plainToken: Contract<ContractAbi>
    let callProbe: Contract<ContractAbi>
    let eventSource: Contract<ContractAbi>

    before(() => {
      web3 = new Web3(endpoint(node()))
      web3.eth.transactionPollingInterval = 200
      web3.eth.accounts.wallet.add(deployer.privateKey)
      web3.eth.accounts.wallet.add(recipient.privateKey)
    })

    it('deploys contracts with the default fees', async () => {
      assert.equal(await web3.eth.getChainId(), 1337n)
      const deploy = async (c: typeof token, args: unknown[] = []) => {
        const contract = await new web3.eth.Contract(c.abi as ContractAbi).deploy({ data: c.bytecode, arguments: args as never }).send({ from: deployer.address })
        assert.equal(await web3.eth.getCode(contract.options.address!), c.deployedBytecode)
        return contract
      }
      plainToken = await deploy(token, [SUPPLY])
      callProbe = await deploy(probe)
      eventSource = await deploy(events)
      assert.equal(await plainToken.methods.totalSupply().call(), SUPPLY)
      assert.equal(await plainToken.methods.balanceOf(deployer.address).call(), SUPPLY)
    })

    it('calculateFeeData takes eth_gasPrice and eth_maxPriorityFeePerGas; getFeeHistory answers for the last blocks', async () => {
      const tip = BigInt(await web3.eth.getMaxPriorityFeePerGas())
      const fees = await web3.eth.calculateFeeData()
      assert.equal(fees.maxPriorityFeePerGas, tip)
      assert.ok(BigInt(fees.gasPrice!) >= tip)
      assert.ok(BigInt(fees.maxFeePerGas!) > tip)

      const head = await web3.eth.getBlockNumber()
      const history = await web3.eth.getFeeHistory(4, head, [25, 75])
      assert.equal(history.oldestBlock, head - 3n)
      assert.equal(history.baseFeePerGas.length, 5) // and the next block's
      assert.equal(history.gasUsedRatio.length, 4)
      assert.equal(history.reward.length, 4)
      assert.equal((await web3.eth.getBlock(head - 3n)).baseFeePerGas, history.baseFeePerGas[0])
    })

    it('an EIP-1559 transfer with default fees pays base fee plus web3 default tip (2.5 gwei)', async () => {
      const value = 1_250_000_000_000_000_000n
      const [senderBefore, recipientBefore] = await Promise.all([web3.eth.getBalance(deployer.address), web3.eth.getBalance(recipient.address)])
      const receipt = await web3.eth.sendTransaction({ from: deployer.address, to: recipient.address, value })
      assert.equal(receipt.status, 1n)
      assert.equal(receipt.type, 2n)
      assert.equal(receipt.gasUsed, 21_000n)
      const tx = await web3.eth.getTransaction(receipt.transactionHash)
      assert.equal(tx.maxPriorityFeePerGas, 5n * GWEI / 2n)
      const block = await web3.eth.getBlock(receipt.blockNumber)
      assert.equal(receipt.effectiveGasPrice, block.baseFeePerGas! + 5n * GWEI / 2n)
      assert.equal(await web3.eth.getBalance(recipient.address, receipt.blockNumber), recipientBefore + value)
      assert.equal(await web3.eth.getBalance(deployer.address, receipt.blockNumber), senderBefore - value - receipt.gasUsed * receipt.effectiveGasPrice!)
    })

    it('a legacy transfer with default fees pays eth_gasPrice', async () => {
      const value = 12_345n
      const recipientBefore = await web3.eth.getBalance(recipient.address)
      const receipt = await web3.eth.sendTransaction({ from: deployer.address, to: recipient.address, value, type: '0x0' })
      assert.equal(receipt.status, 1n)
      assert.equal(receipt.type, 0n)
      const tx = await web3.eth.getTransaction(receipt.transactionHash)
      assert.equal(tx.chainId, 1337n)
      assert.equal(receipt.effectiveGasPrice, tx.gasPrice)
      assert.equal(await web3.eth.getBalance(recipient.address, receipt.blockNumber), recipientBefore + value)
    })

    it('token transfers one after another from one account, then getPastEvents finds each', async () => {
      // web3 reads the nonce at "latest", so each send waits for its receipt (web3's default) before the next
      const firstNonce = await web3.eth.getTransactionCount(deployer.address, 'pending')
      const amounts = [1n, 2n, 3n]
      const receipts = []
      for (const amount of amounts) receipts.push(await plainToken.methods.transfer(spare.address, amount).send({ from: deployer.address }))
      assert.ok(receipts.every((r) => r.status === 1n))
      const nonces = await Promise.all(receipts.map(async (r) => (await web3.eth.getTransaction(r.transactionHash)).nonce))
      assert.deepEqual(nonces, amounts.map((_, i) => firstNonce + BigInt(i)))
      assert.equal(await plainToken.methods.balanceOf(spare.address).call(), 6n)

      const past = await plainToken.getPastEvents({ filter: { from: deployer.address, to: spare.address }, fromBlock: receipts[0].blockNumber })
      assert.deepEqual(
        past.map((e) => typeof e !== 'string' && [e.event, e.transactionHash, e.returnValues.from, e.returnValues.to, e.returnValues.value]),
        receipts.map((r, i) => ['Transfer', r.transactionHash, deployer.address, spare.address, amounts[i]]),
      )
      const logs = await web3.eth.getPastLogs({ address: plainToken.options.address, fromBlock: receipts[0].blockNumber, topics: [web3.utils.sha3('Transfer(address,address,uint256)')!] })
      assert.deepEqual(logs.map((l) => typeof l !== 'string' && l.transactionHash), receipts.map((r) => r.transactionHash))
    })

    if (transport === 'WebSocket') {
      it('contract.events delivers an event over eth_subscribe logs', async () => {
        const subscription = eventSource.events.Ping()
        await within<void>(5_000, (connected) => subscription.on('connected', () => connected()))
        const heard = within<Record<string, unknown>>(15_000, (deliver) => subscription.on('data', (event) => deliver(event.returnValues)))
        await eventSource.methods.ping(42n).send({ from: deployer.address })
        const values = await heard
        await subscription.unsubscribe()
        assert.deepEqual([values.from, values.value, values.note], [deployer.address, 42n, web3.utils.keccak256(web3.eth.abi.encodeParameter('uint256', 42n))])
      })

      it('eth_subscribe newHeads sees consecutive heads', async () => {
        const subscription = await web3.eth.subscribe('newHeads')
        const seen: bigint[] = []
        await within<void>(15_000, (done) =>
          subscription.on('data', (header) => {
            seen.push(BigInt(header.number!))
            if (seen.length === 3) done()
          }),
        )
        await subscription.unsubscribe()
        // more heads may come before the listener goes (a poll that finds several reports them all): the first three count
        assert.deepEqual(seen.slice(0, 3), [seen[0], seen[0] + 1n, seen[0] + 2n])
      })
    }

    it('a failing call and a failing estimate give the revert reason', async () => {
      for (const attempt of [() => callProbe.methods.add(0n).call({ from: deployer.address }), () => callProbe.methods.add(0n).estimateGas({ from: deployer.address })]) {
        await assert.rejects(attempt(), (err: unknown) => {
          const revert = revertOf(err)
          assert.deepEqual([revert.code, revert.message], [3, 'execution reverted: nothing to add'])
          return true
        })
      }
    })

    it('a custom error is decoded from a failing call and a failing estimate', async () => {
      const transfer = plainToken.methods.transfer(spare.address, 7n)
      await assert.rejects(transfer.call({ from: recipient.address }), (err: unknown) => {
        const revert = revertOf(err)
        assert.equal(revert.code, 3)
        assert.equal(revert.errorName, 'ERC20InsufficientBalance')
        assert.deepEqual([revert.errorArgs?.sender, revert.errorArgs?.balance, revert.errorArgs?.needed], [recipient.address, 0n, 7n])
        return true
      })
      // web3 decodes custom errors for calls only: an estimate's revert data is decoded here
      await assert.rejects(transfer.estimateGas({ from: recipient.address }), (err: unknown) => {
        const { code, data } = revertOf(err)
        assert.equal(code, 3)
        assert.equal(data.slice(0, 10), web3.eth.abi.encodeFunctionSignature('ERC20InsufficientBalance(address,uint256,uint256)'))
        const args = web3.eth.abi.decodeParameters(['address', 'uint256', 'uint256'], `0x${data.slice(10)}`)
        assert.deepEqual([args[0], args[1], args[2]], [recipient.address, 0n, 7n])
        return true
      })
    })

    it(target.closing, async () => {
      if (transport === 'WebSocket') web3.currentProvider?.disconnect()
      await target.close(node())
    })
  })
}
