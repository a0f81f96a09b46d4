/**
 * MetaMask's wire protocol against a real `cairn --dev` and a 2-sealer network, replayed call by call as MetaMask
 * (extension and MetaMask/core) makes it for a custom network: adding the network, an ETH transfer and an ERC-20
 * transfer. See ../shared/docs/offline-toolchain.md. Signing is done by ethers' Wallet, as MetaMask's keyring would.
 */
import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'

import { Interface, Wallet, keccak256, toBeHex, zeroPadValue } from 'ethers'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { compileContract } from '../solc.ts'
import { TARGETS } from './network.ts'

const [, user, recipient] = devAccounts(3)
const token = compileContract('PlainToken.sol', 'PlainToken')
const erc20 = new Interface(token.abi as never)
const CHAIN_ID = 1337

const QUANTITY = /^0x(0|[1-9a-f][0-9a-f]*)$/
const HASH = /^0x[0-9a-f]{64}$/
const ADDRESS = /^0x[0-9a-f]{40}$/
const DATA = /^0x([0-9a-f]{2})*$/

type Json = Record<string, unknown>

function quantity(value: unknown, field: string): bigint {
  assert.match(String(value), QUANTITY, `${field} is a quantity`)
  return BigInt(value as string)
}

function checkFields(object: Json, shapes: Record<string, RegExp>, what: string) {
  for (const [field, shape] of Object.entries(shapes)) assert.match(String(object[field]), shape, `${what}.${field}`)
}

function checkBlock(block: Json): { number: bigint; hash: string; baseFee: bigint; gasLimit: bigint; timestamp: bigint } {
  checkFields(
    block,
    {
      number: QUANTITY, hash: HASH, parentHash: HASH, sha3Uncles: HASH, stateRoot: HASH, transactionsRoot: HASH, receiptsRoot: HASH,
      miner: ADDRESS, difficulty: QUANTITY, extraData: DATA, gasLimit: QUANTITY, gasUsed: QUANTITY, timestamp: QUANTITY,
      baseFeePerGas: QUANTITY, size: QUANTITY, mixHash: HASH, nonce: /^0x[0-9a-f]{16}$/, logsBloom: /^0x[0-9a-f]{512}$/,
    },
    'block',
  )
  assert.ok(Array.isArray(block.transactions) && block.transactions.every((h) => HASH.test(h as string)), 'transactions are hashes')
  assert.deepEqual(block.uncles, [])
  return {
    number: BigInt(block.number as string),
    hash: block.hash as string,
    baseFee: BigInt(block.baseFeePerGas as string),
    gasLimit: BigInt(block.gasLimit as string),
    timestamp: BigInt(block.timestamp as string),
  }
}

function checkReceipt(receipt: Json, hash: string): Json {
  checkFields(
    receipt,
    {
      transactionHash: HASH, transactionIndex: QUANTITY, blockHash: HASH, blockNumber: QUANTITY, from: ADDRESS,
      cumulativeGasUsed: QUANTITY, gasUsed: QUANTITY, effectiveGasPrice: QUANTITY, logsBloom: /^0x[0-9a-f]{512}$/, status: QUANTITY, type: QUANTITY,
    },
    'receipt',
  )
  assert.equal(receipt.transactionHash, hash)
  assert.ok(Array.isArray(receipt.logs))
  return receipt
}

for (const target of TARGETS) {
  describe(`MetaMask protocol against ${target.name}`, { timeout: 120_000 }, () => {
    const node = target.suite()
    let nextId = 1

    async function rpc(method: string, params: unknown[] = []): Promise<unknown> {
      const id = nextId++
      const response = await fetch(node().url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(10_000),
      })
      assert.equal(response.status, 200)
      const answer = (await response.json()) as { jsonrpc: string; id: number; result?: unknown; error?: { code: number; message: string } }
      assert.equal(answer.jsonrpc, '2.0')
      assert.equal(answer.id, id)
      assert.equal(answer.error, undefined, `${method} failed: ${JSON.stringify(answer.error)}`)
      assert.ok('result' in answer, `${method} answered a result`)
      return answer.result
    }

    /** The block tracker's view: MetaMask rewrites "latest" in every block parameter to this hex number. */
    async function trackedBlock(): Promise<string> {
      const head = await rpc('eth_blockNumber')
      quantity(head, 'eth_blockNumber')
      return head as string
    }

    /**
     * MetaMask's send flow on a custom EIP-1559 network with no gas API: recipient type, gas estimate, eth_gasPrice as
     * the only fee (type 2 with maxFeePerGas = maxPriorityFeePerGas = gasPrice), nonce at the tracked block, then the
     * receipt polled per new block (null while pending) and the block fetched by hash.
     */
    async function sendAsMetaMask(request: { to?: string; value: bigint; data: string }) {
      let blockTag = await trackedBlock()
      const block = checkBlock((await rpc('eth_getBlockByNumber', [blockTag, false])) as Json)
      const code = request.to === undefined ? '0x' : ((await rpc('eth_getCode', [request.to, blockTag])) as string)
      assert.match(code, DATA)
      const simpleSend = request.to !== undefined && code === '0x' && request.data === '0x'

      const estimateRequest: Json = { from: user.address.toLowerCase(), value: `0x${request.value.toString(16)}`, data: request.data, gas: `0x${((block.gasLimit * 95n) / 100n).toString(16)}` }
      if (request.to !== undefined) estimateRequest.to = request.to
      const estimate = quantity(await rpc('eth_estimateGas', [estimateRequest]), 'eth_estimateGas')
      // MetaMask pads estimates of contract interactions by 1.5 (below 90% of the block gas limit); plain sends get none
      const gasLimit = simpleSend ? estimate : (estimate * 3n) / 2n
      const gasPrice = quantity(await rpc('eth_gasPrice'), 'eth_gasPrice')
      assert.ok(gasPrice > block.baseFee, 'eth_gasPrice covers the base fee and a tip')
      const nonce = quantity(await rpc('eth_getTransactionCount', [user.address, blockTag]), 'eth_getTransactionCount')

      const raw = await new Wallet(user.privateKey).signTransaction({
        type: 2, chainId: CHAIN_ID, nonce: Number(nonce), to: request.to ?? null, value: request.value, data: request.data,
        gasLimit, maxFeePerGas: gasPrice, maxPriorityFeePerGas: gasPrice,
      })
      const hash = await rpc('eth_sendRawTransaction', [raw])
      assert.equal(hash, keccak256(raw))

      const deadline = Date.now() + 20_000
      let receipt: Json | null = null
      while (receipt === null) {
        assert.ok(Date.now() < deadline, 'mined within 20 s')
        await new Promise((resolve) => setTimeout(resolve, 250))
        const head = await trackedBlock()
        if (head === blockTag) continue
        blockTag = head
        receipt = (await rpc('eth_getTransactionReceipt', [hash])) as Json | null
        quantity(await rpc('eth_getTransactionCount', [user.address, 'latest']), 'eth_getTransactionCount')
      }
      checkReceipt(receipt, hash as string)
      assert.equal(receipt.status, '0x1')
      assert.equal(receipt.type, '0x2')
      assert.equal(BigInt(receipt.effectiveGasPrice as string), gasPrice)
      const included = checkBlock((await rpc('eth_getBlockByHash', [receipt.blockHash, false])) as Json)
      assert.equal(included.hash, receipt.blockHash)
      assert.equal(`0x${included.number.toString(16)}`, receipt.blockNumber)
      return { receipt, gasPrice, gasLimit, nonce }
    }

    before(async () => {
      // the user has sent nothing before: the first nonce is 0
      assert.equal(await rpc('eth_getTransactionCount', [user.address, 'latest']), '0x0')
    })

    it('adds cairn as a custom network: eth_chainId, then latest block with baseFeePerGas (EIP-1559)', async () => {
      assert.equal(await rpc('eth_chainId'), '0x539')
      const latest = checkBlock((await rpc('eth_getBlockByNumber', ['latest', false])) as Json)
      assert.equal(latest.baseFee > 0n, true)
      const head = BigInt(await trackedBlock())
      assert.ok(head >= latest.number)
      const byNumber = checkBlock((await rpc('eth_getBlockByNumber', [`0x${latest.number.toString(16)}`, false])) as Json)
      assert.equal(byNumber.hash, latest.hash)
      // a transaction hash the node does not know: null, not an error (MetaMask polls receipts of pending transactions)
      assert.equal(await rpc('eth_getTransactionReceipt', [`0x${'ab'.repeat(32)}`]), null)
    })

    it('sends ETH priced by eth_gasPrice alone', async () => {
      const value = 1_500_000_000_000_000_000n
      let blockTag = await trackedBlock()
      const [senderBefore, recipientBefore] = await Promise.all([
        rpc('eth_getBalance', [user.address, blockTag]).then((b) => quantity(b, 'eth_getBalance')),
        rpc('eth_getBalance', [recipient.address, blockTag]).then((b) => quantity(b, 'eth_getBalance')),
      ])
      const { receipt, gasPrice, gasLimit } = await sendAsMetaMask({ to: recipient.address.toLowerCase(), value, data: '0x' })
      assert.equal(gasLimit, 21_000n)
      assert.equal(receipt.gasUsed, '0x5208')
      assert.deepEqual(receipt.logs, [])
      blockTag = receipt.blockNumber as string
      assert.equal(quantity(await rpc('eth_getBalance', [recipient.address, blockTag]), 'eth_getBalance'), recipientBefore + value)
      assert.equal(quantity(await rpc('eth_getBalance', [user.address, blockTag]), 'eth_getBalance'), senderBefore - value - 21_000n * gasPrice)
    })

    it('a receipt is null while its transaction waits in the pool, then arrives', async () => {
      const blockTag = await trackedBlock()
      const gasPrice = quantity(await rpc('eth_gasPrice'), 'eth_gasPrice')
      const nonce = Number(quantity(await rpc('eth_getTransactionCount', [user.address, blockTag]), 'eth_getTransactionCount'))
      const sign = (n: number) =>
        new Wallet(user.privateKey).signTransaction({ type: 2, chainId: CHAIN_ID, nonce: n, to: recipient.address, value: 1n, gasLimit: 21_000n, maxFeePerGas: gasPrice, maxPriorityFeePerGas: gasPrice })
      // the later nonce first: it cannot be mined until the gap is filled, so it is certainly pending
      const waiting = (await rpc('eth_sendRawTransaction', [await sign(nonce + 1)])) as string
      await new Promise((resolve) => setTimeout(resolve, 1_500))
      assert.equal(await rpc('eth_getTransactionReceipt', [waiting]), null)
      // MetaMask's pending tracker: the pool's transaction, with no block yet
      const pending = (await rpc('eth_getTransactionByHash', [waiting])) as Json
      checkFields(pending, { hash: HASH, from: ADDRESS, to: ADDRESS, nonce: QUANTITY, gas: QUANTITY, maxFeePerGas: QUANTITY, maxPriorityFeePerGas: QUANTITY, value: QUANTITY, input: DATA, type: QUANTITY, chainId: QUANTITY, r: QUANTITY, s: QUANTITY }, 'transaction')
      assert.deepEqual(
        [pending.hash, pending.nonce, pending.blockHash, pending.blockNumber, pending.transactionIndex],
        [waiting, `0x${(nonce + 1).toString(16)}`, null, null, null],
      )
      const filler = (await rpc('eth_sendRawTransaction', [await sign(nonce)])) as string
      const deadline = Date.now() + 20_000
      for (;;) {
        assert.ok(Date.now() < deadline, 'mined within 20 s')
        const receipts = (await Promise.all([filler, waiting].map((hash) => rpc('eth_getTransactionReceipt', [hash])))) as (Json | null)[]
        if (receipts.every((r) => r !== null)) {
          assert.deepEqual(receipts.map((r, i) => checkReceipt(r!, [filler, waiting][i]).status), ['0x1', '0x1'])
          break
        }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    })

    it('deploys an ERC-20 and sends a token transfer', async () => {
      const supply = 10n ** 24n
      const deployData = token.bytecode + erc20.encodeDeploy([supply]).slice(2)
      const deployed = await sendAsMetaMask({ value: 0n, data: deployData })
      assert.match(String(deployed.receipt.contractAddress), ADDRESS)
      const address = deployed.receipt.contractAddress as string

      // what MetaMask reads to show the token: code, decimals, symbol, balance (eth_call at the tracked block)
      const blockTag = await trackedBlock()
      assert.equal(await rpc('eth_getCode', [address, blockTag]), token.deployedBytecode)
      const call = async (name: string, args: unknown[] = []) => {
        const result = (await rpc('eth_call', [{ to: address, data: erc20.encodeFunctionData(name, args) }, blockTag])) as string
        assert.match(result, DATA)
        return erc20.decodeFunctionResult(name, result)[0]
      }
      assert.equal(await call('decimals'), 18n)
      assert.equal(await call('symbol'), 'PLAIN')
      assert.equal(await call('balanceOf', [user.address]), supply)

      const amount = 2_500n
      const { receipt } = await sendAsMetaMask({ to: address, value: 0n, data: erc20.encodeFunctionData('transfer', [recipient.address, amount]) })
      assert.equal(receipt.to, address)
      const logs = receipt.logs as Json[]
      assert.equal(logs.length, 1)
      checkFields(logs[0], { address: ADDRESS, data: DATA, blockNumber: QUANTITY, blockHash: HASH, transactionHash: HASH, transactionIndex: QUANTITY, logIndex: QUANTITY }, 'log')
      assert.deepEqual(
        { address: logs[0].address, topics: logs[0].topics, data: logs[0].data, removed: logs[0].removed, transactionHash: logs[0].transactionHash, blockHash: logs[0].blockHash },
        {
          address,
          topics: [erc20.getEvent('Transfer')!.topicHash, zeroPadValue(user.address, 32).toLowerCase(), zeroPadValue(recipient.address, 32).toLowerCase()],
          data: toBeHex(amount, 32),
          removed: false,
          transactionHash: receipt.transactionHash,
          blockHash: receipt.blockHash,
        },
      )
      const after = receipt.blockNumber as string
      const balanceAt = async (who: string) => erc20.decodeFunctionResult('balanceOf', (await rpc('eth_call', [{ to: address, data: erc20.encodeFunctionData('balanceOf', [who]) }, after])) as string)[0]
      assert.equal(await balanceAt(recipient.address), amount)
      assert.equal(await balanceAt(user.address), supply - amount)
    })

    it(target.closing, () => target.close(node()))
  })
}
