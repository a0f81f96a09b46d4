import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Transaction, verifyMessage } from 'ethers'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { startDevNode } from '../clients/devchain.ts'
import { runCairn, tempDir } from '../helpers.ts'

const [dev0, dev1] = devAccounts(2)

async function call(url: string, method: string, params: unknown[] = []): Promise<{ result?: any; error?: { code: number; message: string } }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  return res.json() as Promise<{ result?: any; error?: { code: number; message: string } }>
}

describe('node-held keys (--dev unlocks the development accounts)', () => {
  it('eth_accounts, eth_sign, eth_signTransaction and eth_sendTransaction', { timeout: 60_000 }, async (t) => {
    const node = await startDevNode(t)
    const accounts = (await call(node.url, 'eth_accounts')).result as string[]
    assert.equal(accounts.length, 10)
    assert.equal(accounts[0], dev0.address.toLowerCase())

    const signature = (await call(node.url, 'eth_sign', [dev0.address, '0x68656c6c6f'])).result as string
    assert.equal(verifyMessage('hello', signature), dev0.address, 'EIP-191 personal message signature, v in {27,28}')

    assert.deepEqual((await call(node.url, 'eth_sign', ['0x000000000000000000000000000000000000dead', '0x00'])).error, { code: -32000, message: 'unknown account' })
    assert.equal((await call(node.url, 'eth_signTransaction', [{ from: dev0.address, to: dev1.address, value: '0x1' }])).error?.message, 'gas not specified')

    const signed = (await call(node.url, 'eth_signTransaction', [{ from: dev0.address, to: dev1.address, value: '0x1', gas: '0x5208', maxFeePerGas: '0x77359400', maxPriorityFeePerGas: '0x3b9aca00', nonce: '0x0' }])).result
    const decoded = Transaction.from(signed.raw)
    assert.equal(decoded.from, dev0.address)
    assert.equal(signed.tx.hash, decoded.hash)

    // no gas, no fees, no nonce: the node fills them (estimate, tip oracle, pending nonce) as geth does
    const before = BigInt((await call(node.url, 'eth_getBalance', [dev1.address, 'latest'])).result)
    const hash = (await call(node.url, 'eth_sendTransaction', [{ from: dev0.address, to: dev1.address, value: '0x2a' }])).result as string
    const deadline = Date.now() + 20_000
    let receipt: any = null
    while (receipt === null && Date.now() < deadline) {
      receipt = (await call(node.url, 'eth_getTransactionReceipt', [hash])).result
      if (receipt === null) await new Promise((r) => setTimeout(r, 200))
    }
    assert.equal(receipt?.status, '0x1')
    assert.equal(receipt.type, '0x2')
    assert.equal(BigInt((await call(node.url, 'eth_getBalance', [dev1.address, 'latest'])).result), before + 42n)
    await node.stop()
  })

  it('refuses unlocked keys behind an RPC endpoint off loopback unless --allow-insecure-unlock', async (t) => {
    const r = await runCairn(['--dev', '--datadir', tempDir(t), '--http.addr', '0.0.0.0', '--http.port', '0'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /Account unlock with HTTP access is forbidden!/)
  })
})
