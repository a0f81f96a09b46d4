// What every node is asked to do: the pre-signed transaction sets (identical bytes for every node), a small
// JSON-RPC client and the statistics. Shared by the orchestrator (bench/run.ts) and the load driver (bench/driver.ts).

import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { dirname } from 'node:path'

import { Interface, SigningKey, Transaction, getCreateAddress, keccak256, toBeHex } from 'ethers'

import { devAccounts } from '../src/accounts/devAccounts.ts'
import { compileContract } from '../test/solc.ts'

export const CHAIN_ID = 1337
const GWEI = 1_000_000_000n
// Far above any base fee these runs reach, so no transaction waits for the fee to fall.
const MAX_FEE = 100n * GWEI
const PRIORITY_FEE = 1n * GWEI
const SENDER_FUNDS = 10n ** 19n // 10 ETH: 400 transfers at 100 gwei cost 0.84 ETH
const TOKEN_SUPPLY = 10n ** 30n
const TRANSFER_GAS = 21_000n
const TOKEN_TRANSFER_GAS = 80_000n // a transfer to a fresh holder uses ~52k
export const TRANSFER_TOPIC = keccak256(Buffer.from('Transfer(address,address,uint256)'))

export interface SignedTx {
  raw: string
  hash: string
}

/** One load scenario: `txs[i]` is sent by sender `i % senders`, so consecutive transactions come from different accounts. */
export interface TxSet {
  senders: string[]
  txs: SignedTx[]
}

export interface Workload {
  chainId: number
  perScenario: number
  senderCount: number
  /** account 0 funds every sender, deploys the token and hands it to the ERC-20 senders (nonces 0, 1, 2, ... in order) */
  setup: SignedTx[]
  funder: string
  token: string
  transfers: TxSet
  batched: TxSet
  erc20: TxSet
}

function sign(key: SigningKey, fields: Record<string, unknown>): SignedTx {
  const tx = Transaction.from({ type: 2, chainId: CHAIN_ID, maxFeePerGas: MAX_FEE, maxPriorityFeePerGas: PRIORITY_FEE, ...fields })
  tx.signature = key.sign(tx.unsignedHash)
  return { raw: tx.serialized, hash: tx.hash! }
}

/** A fixed recipient per index: new accounts, as a payment flow would create. */
const recipient = (i: number) => `0x${keccak256(toBeHex(i + 1, 32)).slice(26)}`

function signLoad(keys: SigningKey[], count: number, fields: (i: number) => Record<string, unknown>): SignedTx[] {
  return Array.from({ length: count }, (_, i) => sign(keys[i % keys.length], { nonce: Math.floor(i / keys.length), ...fields(i) }))
}

const tokenAbi = new Interface(['function transfer(address to, uint256 value) returns (bool)', 'function balanceOf(address) view returns (uint256)'])
export const encodeBalanceOf = (holder: string) => tokenAbi.encodeFunctionData('balanceOf', [holder])

/**
 * Builds (or reads from `cacheFile`) the three load sets of `perScenario` transactions from `senderCount` senders each.
 * Senders are development accounts 10.. of the standard mnemonic (every node prefunds only 0..9 or 0..19), one group per
 * set, so the sets never share a nonce and stay valid whatever ran before them on a fresh chain.
 */
export function loadWorkload(cacheFile: string, perScenario: number, senderCount: number): Workload {
  if (existsSync(cacheFile)) {
    const cached = JSON.parse(readFileSync(cacheFile, 'utf8')) as Workload
    if (cached.perScenario === perScenario && cached.senderCount === senderCount) return cached
  }
  const accounts = devAccounts(10 + 3 * senderCount)
  const funderKey = new SigningKey(accounts[0].privateKey)
  const group = (g: number) => accounts.slice(10 + g * senderCount, 10 + (g + 1) * senderCount)
  const [groupA, groupB, groupC] = [group(0), group(1), group(2)]
  const keysOf = (g: typeof groupA) => g.map((a) => new SigningKey(a.privateKey))

  let nonce = 0
  const setup: SignedTx[] = []
  for (const a of [...groupA, ...groupB, ...groupC]) setup.push(sign(funderKey, { nonce: nonce++, to: a.address, value: SENDER_FUNDS, gasLimit: TRANSFER_GAS }))
  const { bytecode } = compileContract('PlainToken.sol', 'PlainToken')
  const token = getCreateAddress({ from: accounts[0].address, nonce })
  const constructorArg = toBeHex(TOKEN_SUPPLY, 32).slice(2)
  setup.push(sign(funderKey, { nonce: nonce++, data: bytecode + constructorArg, gasLimit: 1_500_000n }))
  const share = TOKEN_SUPPLY / BigInt(2 * senderCount)
  for (const a of groupC) {
    setup.push(sign(funderKey, { nonce: nonce++, to: token, data: tokenAbi.encodeFunctionData('transfer', [a.address, share]), gasLimit: TOKEN_TRANSFER_GAS }))
  }

  const transferFields = (i: number) => ({ to: recipient(i), value: 1n, gasLimit: TRANSFER_GAS })
  const workload: Workload = {
    chainId: CHAIN_ID,
    perScenario,
    senderCount,
    setup,
    funder: accounts[0].address,
    token,
    transfers: { senders: groupA.map((a) => a.address), txs: signLoad(keysOf(groupA), perScenario, transferFields) },
    batched: { senders: groupB.map((a) => a.address), txs: signLoad(keysOf(groupB), perScenario, transferFields) },
    erc20: {
      senders: groupC.map((a) => a.address),
      txs: signLoad(keysOf(groupC), perScenario, (i) => ({ to: token, data: tokenAbi.encodeFunctionData('transfer', [recipient(i), 1n]), gasLimit: TOKEN_TRANSFER_GAS })),
    },
  }
  mkdirSync(dirname(cacheFile), { recursive: true })
  writeFileSync(cacheFile, JSON.stringify(workload))
  return workload
}

// ---- JSON-RPC ----

export interface RpcReply {
  result?: unknown
  error?: { message: string }
}

let nextId = 1

// One keep-alive agent for every request of the process. `fetch` (undici) also reuses connections, but its
// WHATWG streams, Response objects and a timer per request cost the driver more CPU per request than a cheap
// read costs the node, on the same two cores: the read figures measured the driver. A plain http.request on a
// pooled socket costs a fraction of that, for every node alike.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 })

function postJson(url: string, body: string, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        try {
          resolve(JSON.parse(text))
        } catch {
          reject(new Error(`HTTP ${res.statusCode}: not JSON: ${text.slice(0, 200)}`))
        }
      })
      res.on('error', reject)
    })
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)))
    req.on('error', reject)
    req.end(body)
  })
}

export async function rpcCall(url: string, method: string, params: unknown[] = [], timeoutMs = 30_000): Promise<RpcReply> {
  return (await postJson(url, JSON.stringify({ jsonrpc: '2.0', id: nextId++, method, params }), timeoutMs)) as RpcReply
}

export async function rpc<T = unknown>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const reply = await rpcCall(url, method, params)
  if (reply.error) throw new Error(`${method}: ${reply.error.message}`)
  return reply.result as T
}

export async function rpcBatch(url: string, calls: { method: string; params: unknown[] }[], timeoutMs = 60_000): Promise<RpcReply[]> {
  const body = (await postJson(url, JSON.stringify(calls.map((c) => ({ jsonrpc: '2.0', id: nextId++, ...c }))), timeoutMs)) as RpcReply[] | RpcReply
  // a node that refuses the whole batch answers with one error object
  return Array.isArray(body) ? body : calls.map(() => body)
}

/** Polls `probe` every `intervalMs` until it returns a value, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (err) {
      lastError = err
    }
    await new Promise((r) => setTimeout(r, intervalMs))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ''}`)
}

// ---- statistics ----

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]
}

export interface Spread {
  median: number
  min: number
  max: number
}

export function spread(values: number[]): Spread {
  const finite = values.filter((v) => Number.isFinite(v))
  if (finite.length === 0) return { median: NaN, min: NaN, max: NaN }
  const sorted = [...finite].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
  return { median, min: sorted[0], max: sorted[sorted.length - 1] }
}
