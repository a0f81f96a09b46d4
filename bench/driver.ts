// The load driver: a child process of bench/run.ts, so that the node's CPU (read from /proc by the parent) never
// includes the driver's own. Before and after each measured phase it sends {type:'mark'} over IPC and waits for the
// parent's ack, so the parent reads the node's counters exactly at the phase's edges.

import { readFileSync } from 'node:fs'

import { TRANSFER_TOPIC, encodeBalanceOf, percentile, rpc, rpcBatch, rpcCall, waitFor } from './workload.ts'
import type { SignedTx, TxSet, Workload } from './workload.ts'

export type DriverTask = 'setup' | 'transfers' | 'batched' | 'erc20' | 'reads' | 'paced'

export interface DriverConfig {
  url: string
  workloadFile: string
  tasks: DriverTask[]
  /** in-flight eth_sendRawTransaction calls */
  concurrency: number
  /** 'paced': transfers (from the batched set's senders) sent one by one at this many per second, this many in all */
  pacedRate: number
  pacedCount: number
  batchSize: number
  batchConcurrency: number
  readClients: number
  readSecondsPerMethod: number
  /** give up on inclusion after this long (a run that does not confirm everything is reported as such) */
  confirmTimeoutMs: number
}

export interface LoadResult {
  submitted: number
  accepted: number
  rejected: number
  firstErrors: string[]
  included: number
  acceptedTps: number
  confirmedTps: number
  latencyP50Ms: number
  latencyP99Ms: number
  /** eth_sendRawTransaction round trip (a whole batch when batched): what a stall while sealing shows in */
  submitP50Ms: number
  submitP99Ms: number
  blocks: number
  maxTxsPerBlock: number
  wallMs: number
}

export interface ReadResult {
  method: string
  requests: number
  errors: number
  reqPerSec: number
  p50Ms: number
  p99Ms: number
}

export type DriverMessage =
  | { type: 'mark'; label: string }
  | { type: 'result'; task: DriverTask; load?: LoadResult; reads?: ReadResult[] }
  | { type: 'done' }

const config = JSON.parse(process.argv[2]) as DriverConfig
const workload = JSON.parse(readFileSync(config.workloadFile, 'utf8')) as Workload

const send = (message: DriverMessage) => new Promise<void>((resolve) => process.send!(message, () => resolve()))
let pendingAck: (() => void) | undefined
process.on('message', (m: { type: string }) => {
  if (m.type === 'ack' && pendingAck) {
    const resolve = pendingAck
    pendingAck = undefined
    resolve()
  }
})
async function mark(label: string): Promise<void> {
  const acked = new Promise<void>((resolve) => (pendingAck = resolve))
  await send({ type: 'mark', label })
  await acked
}

/** Runs `worker` on `count` items with at most `limit` in flight. */
async function boundedEach(count: number, limit: number, worker: (index: number) => Promise<void>): Promise<void> {
  let next = 0
  const lanes = Array.from({ length: Math.min(limit, count) }, async () => {
    while (next < count) await worker(next++)
  })
  await Promise.all(lanes)
}

async function setup(): Promise<void> {
  await boundedEach(workload.setup.length, 16, async (i) => {
    const reply = await rpcCall(config.url, 'eth_sendRawTransaction', [workload.setup[i].raw])
    if (reply.error) throw new Error(`setup transaction ${i}: ${reply.error.message}`)
  })
  // the funder's transactions have consecutive nonces: all are in once its mined nonce reaches their count
  await waitFor('the setup transactions', 120_000, async () => {
    const nonce = Number(await rpc<string>(config.url, 'eth_getTransactionCount', [workload.funder, 'latest']))
    return nonce >= workload.setup.length ? true : undefined
  })
}

/** Watches new blocks and notes when each of `hashes` first appears in one (observation time, polled every 25 ms). */
function watchInclusion(hashes: Set<string>, startBlock: number, deadline: number) {
  const seenAt = new Map<string, number>()
  const blockSizes: number[] = []
  let lastInclusion = 0
  let stopped = false
  const done = (async () => {
    let next = startBlock + 1
    // hash of each scanned block by number: a reorg (competing Clique blocks on a network) replaces scanned blocks,
    // and the replacements, which may hold transactions the old ones did not, are scanned again
    const scanned = new Map<number, string>()
    while (!stopped && seenAt.size < hashes.size && Date.now() < deadline) {
      while (next - 1 > startBlock && scanned.has(next - 1)) {
        const canonical = await rpc<{ hash: string } | null>(config.url, 'eth_getBlockByNumber', [`0x${(next - 1).toString(16)}`, false])
        if (canonical !== null && canonical.hash === scanned.get(next - 1)) break
        next--
      }
      const head = Number(await rpc<string>(config.url, 'eth_blockNumber'))
      for (; next <= head; next++) {
        const block = await rpc<{ hash: string; parentHash: string; transactions: string[] } | null>(config.url, 'eth_getBlockByNumber', [`0x${next.toString(16)}`, false])
        if (block === null) break
        // a reorg between two reads: this block is on a branch whose earlier blocks were not scanned
        if (scanned.has(next - 1) && scanned.get(next - 1) !== block.parentHash) break
        scanned.set(next, block.hash)
        const now = performance.now()
        let ours = 0
        for (const hash of block.transactions) {
          if (hashes.has(hash) && !seenAt.has(hash)) {
            seenAt.set(hash, now)
            ours++
          }
        }
        if (ours > 0) {
          blockSizes.push(ours)
          lastInclusion = now
        }
      }
      await new Promise((r) => setTimeout(r, 25))
    }
  })()
  return { seenAt, blockSizes, lastInclusion: () => lastInclusion, done, stop: () => (stopped = true) }
}

/** How `load` submits: as fast as `concurrency` allows, in JSON-RPC batches, or one by one at a fixed rate. */
type Submission = { kind: 'single' } | { kind: 'batched' } | { kind: 'paced'; perSecond: number }

async function load(name: DriverTask, set: TxSet, submission: Submission): Promise<LoadResult> {
  const txs: SignedTx[] = set.txs
  const startBlock = Number(await rpc<string>(config.url, 'eth_blockNumber'))
  const submitAt = new Array<number>(txs.length)
  const roundTrips: number[] = []
  const errors: string[] = []
  let accepted = 0
  await mark(`${name}:start`)
  const watcher = watchInclusion(new Set(txs.map((t) => t.hash.toLowerCase())), startBlock, Date.now() + config.confirmTimeoutMs)
  const firstSubmit = performance.now()
  const noteError = (message: string) => {
    if (errors.length < 5) errors.push(message)
  }
  if (submission.kind === 'batched') {
    const batches = Math.ceil(txs.length / config.batchSize)
    await boundedEach(batches, config.batchConcurrency, async (b) => {
      const slice = txs.slice(b * config.batchSize, (b + 1) * config.batchSize)
      const at = performance.now()
      for (let i = 0; i < slice.length; i++) submitAt[b * config.batchSize + i] = at
      try {
        const replies = await rpcBatch(config.url, slice.map((t) => ({ method: 'eth_sendRawTransaction', params: [t.raw] })))
        roundTrips.push(performance.now() - at)
        for (const r of replies) (r.error ? noteError(r.error.message) : accepted++)
      } catch (err) {
        noteError((err as Error).message)
      }
    })
  } else {
    const interval = submission.kind === 'paced' ? 1000 / submission.perSecond : 0
    await boundedEach(txs.length, config.concurrency, async (i) => {
      const due = firstSubmit + i * interval
      if (due > performance.now()) await new Promise((r) => setTimeout(r, due - performance.now()))
      submitAt[i] = performance.now()
      try {
        const reply = await rpcCall(config.url, 'eth_sendRawTransaction', [txs[i].raw])
        roundTrips.push(performance.now() - submitAt[i])
        reply.error ? noteError(reply.error.message) : accepted++
      } catch (err) {
        noteError((err as Error).message)
      }
    })
  }
  const submitted = performance.now()
  await watcher.done
  watcher.stop()
  await mark(`${name}:end`)
  const latencies: number[] = []
  txs.forEach((t, i) => {
    const seen = watcher.seenAt.get(t.hash.toLowerCase())
    if (seen !== undefined) latencies.push(seen - submitAt[i])
  })
  const included = watcher.seenAt.size
  return {
    submitted: txs.length,
    accepted,
    rejected: txs.length - accepted,
    firstErrors: errors,
    included,
    acceptedTps: accepted / ((submitted - firstSubmit) / 1000),
    // only a run that confirmed every transaction has a confirmed rate: a partial one would flatter the node
    confirmedTps: included === txs.length ? included / ((watcher.lastInclusion() - firstSubmit) / 1000) : NaN,
    latencyP50Ms: percentile(latencies, 50),
    latencyP99Ms: percentile(latencies, 99),
    submitP50Ms: percentile(roundTrips, 50),
    submitP99Ms: percentile(roundTrips, 99),
    blocks: watcher.blockSizes.length,
    maxTxsPerBlock: Math.max(0, ...watcher.blockSizes),
    wallMs: performance.now() - firstSubmit,
  }
}

async function reads(): Promise<ReadResult[]> {
  const head = Number(await rpc<string>(config.url, 'eth_blockNumber'))
  const holder = workload.erc20.senders[0]
  const receiptHash = workload.erc20.txs[0]?.hash ?? workload.setup[0].hash
  const padded = `0x${holder.slice(2).toLowerCase().padStart(64, '0')}`
  const hex = (n: number) => `0x${n.toString(16)}`
  let k = 0
  const methods: { method: string; params: () => unknown[] }[] = [
    { method: 'eth_blockNumber', params: () => [] },
    { method: 'eth_getBalance', params: () => [workload.transfers.senders[k++ % workload.transfers.senders.length], 'latest'] },
    { method: 'eth_call', params: () => [{ to: workload.token, data: encodeBalanceOf(holder) }, 'latest'] },
    { method: 'eth_getBlockByNumber', params: () => [hex(head - (k++ % Math.max(1, Math.min(head, 100)))), false] },
    { method: 'eth_getTransactionReceipt', params: () => [receiptHash] },
    // one sender's Transfer events over the last (up to) 1,000 blocks: a few hundred logs, the dapp history query
    { method: 'eth_getLogs', params: () => [{ fromBlock: hex(Math.max(0, head - 999)), toBlock: hex(head), address: workload.token, topics: [TRANSFER_TOPIC, padded] }] },
  ]
  const results: ReadResult[] = []
  for (const { method, params } of methods) {
    const latencies: number[] = []
    let errors = 0
    await mark(`reads:${method}:start`)
    const started = performance.now()
    const endAt = started + config.readSecondsPerMethod * 1000
    await Promise.all(
      Array.from({ length: config.readClients }, async () => {
        while (performance.now() < endAt) {
          const at = performance.now()
          try {
            const reply = await rpcCall(config.url, method, params())
            if (reply.error || reply.result === null) errors++
          } catch {
            errors++
          }
          latencies.push(performance.now() - at)
        }
      }),
    )
    const elapsed = (performance.now() - started) / 1000
    await mark(`reads:${method}:end`)
    results.push({ method, requests: latencies.length, errors, reqPerSec: latencies.length / elapsed, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) })
  }
  return results
}

for (const task of config.tasks) {
  if (task === 'setup') {
    await setup()
    await send({ type: 'result', task })
  } else if (task === 'reads') {
    await send({ type: 'result', task, reads: await reads() })
  } else {
    const paced = task === 'paced' ? { ...workload.batched, txs: workload.batched.txs.slice(0, config.pacedCount) } : undefined
    const set = paced ?? (task === 'erc20' ? workload.erc20 : task === 'batched' ? workload.batched : workload.transfers)
    const submission: Submission = task === 'batched' ? { kind: 'batched' } : paced ? { kind: 'paced', perSecond: config.pacedRate } : { kind: 'single' }
    await send({ type: 'result', task, load: await load(task, set, submission) })
  }
}
await send({ type: 'done' })
process.disconnect()
