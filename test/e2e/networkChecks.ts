/** RPC checks shared by the devnet and compose tests: heads agree, and a transfer sent to a worker gets sealed. */
import assert from 'node:assert/strict'

import { Mainnet, createCustomCommon } from '@ethereumjs/common'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, createAddressFromString, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'

export async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const body = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`)
  return body.result
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const v = await probe()
      if (v !== undefined) return v
    } catch (err) {
      lastError = err
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`timed out waiting for ${what}${lastError !== undefined ? `: ${(lastError as Error).message}` : ''}`)
}

/** Waits until every node has passed `minHead` and they agree on the hash of one block below the slowest head. */
export async function headsAgree(urls: string[], minHead: number, timeoutMs: number): Promise<number> {
  return waitFor(`heads past ${minHead} that agree`, timeoutMs, async () => {
    const heads = await Promise.all(urls.map(async (u) => Number(await rpc(u, 'eth_blockNumber'))))
    const common = Math.min(...heads) - 1
    if (common < minHead) return undefined
    const hashes = await Promise.all(urls.map(async (u) => (await rpc(u, 'eth_getBlockByNumber', [`0x${common.toString(16)}`, false])).hash))
    return hashes.every((h) => h === hashes[0]) ? common : undefined
  })
}

/** Sends 1 gwei from development account 9 through `url` and resolves with the block number that includes it. */
export async function transferIsSealed(url: string, timeoutMs: number): Promise<number> {
  const from = devAccounts(10)[9]
  const common = createCustomCommon({ chainId: 1337 }, Mainnet, { hardfork: 'prague' })
  const nonce = BigInt(await rpc(url, 'eth_getTransactionCount', [from.address, 'pending']))
  const tx = createFeeMarket1559Tx(
    { nonce, to: createAddressFromString(devAccounts(10)[8].address), value: 10n ** 9n, gasLimit: 21_000n, maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 2n * 10n ** 9n },
    { common },
  ).sign(hexToBytes(from.privateKey as `0x${string}`))
  const hash = await rpc(url, 'eth_sendRawTransaction', [bytesToHex(tx.serialize())])
  const receipt = await waitFor('the transfer receipt', timeoutMs, () => rpc(url, 'eth_getTransactionReceipt', [hash]).then((r) => r ?? undefined))
  assert.equal(receipt.status, '0x1')
  return Number(receipt.blockNumber)
}
