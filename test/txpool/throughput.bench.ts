/**
 * Admission throughput: N pre-signed transfers from S senders, decoded from their raw bytes as eth_sendRawTransaction
 * receives them (so each sender is recovered once, in the pool), added one by one as RPC does and as one batch as
 * gossip does; then with the senders recovered beforehand, which leaves the pool's own bookkeeping.
 * Run: node_modules/.bin/node test/txpool/throughput.bench.ts [N] [S]
 */
import type { TestContext } from 'node:test'

import { createFeeMarket1559Tx, createTxFromRLP } from '@ethereumjs/tx'
import type { PrefixedHexString } from '@ethereumjs/util'
import { secp256k1 } from '@noble/curves/secp256k1.js'

import { TxPool } from '../../src/txpool/txpool.ts'
import { GWEI, devChain, mine } from './testkit.ts'

const N = Number(process.argv[2] ?? 5000)
const SENDERS = Number(process.argv[3] ?? 50)

const cleanups: (() => unknown)[] = []
const t = { after: (fn: () => unknown) => cleanups.push(fn) } as unknown as TestContext
const dc = await devChain(t)

// fund the senders from the dev accounts, one block
const keys = Array.from({ length: SENDERS }, () => secp256k1.utils.randomSecretKey())
const addresses = keys.map((k) => createFeeMarket1559Tx({}, { common: dc.common }).sign(k).getSenderAddress().toString())
const funding = addresses.map((to, i) =>
  createFeeMarket1559Tx({ nonce: BigInt(Math.floor(i / 9)), to: to as PrefixedHexString, value: 10n ** 20n, gasLimit: 21000n, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI, chainId: 1337n }, { common: dc.common }).sign(
    dc.keys[1 + (i % 9)],
  ),
)
await mine(dc, funding)

const raw = Array.from({ length: N }, (_, i) =>
  createFeeMarket1559Tx(
    { nonce: BigInt(Math.floor(i / SENDERS)), to: dc.addresses[9] as PrefixedHexString, value: 1n, gasLimit: 21000n, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI, chainId: 1337n },
    { common: dc.common },
  )
    .sign(keys[i % SENDERS])
    .serialize(),
)
const decode = () => raw.map((bytes) => createTxFromRLP(bytes, { common: dc.common }))

for (const mode of ['one by one (RPC)', 'one batch (gossip)', 'one by one, senders recovered beforehand (pool bookkeeping alone)'] as const) {
  const pool = new TxPool(dc.chain, { globalSlots: N + 1 })
  await pool.start()
  const txs = decode()
  // ethereumjs caches a frozen transaction's sender key: this leaves the pool's own work
  if (mode.includes('beforehand')) for (const tx of txs) tx.getSenderAddress()
  const started = performance.now()
  if (mode.includes('batch')) await pool.addRemotes(txs)
  else for (const tx of txs) await pool.add(tx)
  const ms = performance.now() - started
  const { pending } = pool.status()
  if (pending !== N) throw new Error(`expected ${N} pending, got ${pending}`)
  console.log(`${mode}: ${N} txs from ${SENDERS} senders in ${ms.toFixed(0)} ms = ${Math.round((N / ms) * 1000)} tx/s`)
  await pool.stop()
}
for (const fn of cleanups.reverse()) await fn()
