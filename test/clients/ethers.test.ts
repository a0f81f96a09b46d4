import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { JsonRpcProvider, Wallet, parseEther } from 'ethers'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { startDevNode } from './devchain.ts'

const [sender, recipient] = devAccounts(2)

describe('ethers v6 against cairn --dev', () => {
  it('a signed EIP-1559 transfer is accepted and sealed', { timeout: 60_000 }, async (t) => {
    const node = await startDevNode(t)
    // cacheTimeout -1: ethers would otherwise reuse a nonce read within 250 ms (see the offline toolchain notes)
    const provider = new JsonRpcProvider(node.url, undefined, { cacheTimeout: -1, pollingInterval: 200 })
    t.after(() => provider.destroy())
    const wallet = new Wallet(sender.privateKey, provider)
    assert.equal((await provider.getNetwork()).chainId, 1337n)
    const before = await provider.getBalance(recipient.address)
    const head = await provider.getBlock('latest')
    const tx = await wallet.sendTransaction({
      to: recipient.address,
      value: parseEther('1.5'),
      gasLimit: 21_000n,
      maxFeePerGas: head!.baseFeePerGas! * 2n + 10n ** 9n,
      maxPriorityFeePerGas: 10n ** 9n,
    })
    const receipt = await tx.wait(1, 30_000)
    assert.equal(receipt?.status, 1)
    assert.equal(await provider.getBalance(recipient.address), before + parseEther('1.5'))
    assert.equal((await provider.getTransaction(tx.hash))?.blockNumber, receipt?.blockNumber)
    assert.equal(await node.stop(), 0)
  })
})
