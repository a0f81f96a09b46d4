// The network scenario: a 4-node `cairn devnet` (3 sealers, 1 worker, 1 s period), the transfer load sent to the
// worker. Block propagation is read from the nodes' logs (debug level): the sealer's "Successfully sealed new block"
// to each other node's "Imported gossiped block" (or "Imported synced block", when sync fetched it first) of the same
// hash (millisecond timestamps, one clock), split at the receiver's "Received gossiped block" into the gossip's
// transit and the receiver's import. After the full load (as
// fast as the devnet takes it, which saturates the two cores the four nodes share), a steady one (--paced-rate tx/s
// for --paced-seconds) shows propagation when the nodes are not short of CPU: its blocks count from STEADY_SETTLE_MS
// after it starts, when the nodes have worked off what the full load left them (the last of its transactions to
// admit and forward, its last large blocks to import).

import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

import type { DriverConfig, DriverMessage, DriverTask } from './driver.ts'
import type { PhaseStats } from './run.ts'
import { CAIRN, ROOT, removeTempDir, tempDir, track, trackPid } from './nodes.ts'
import { percentile } from './workload.ts'

const STEADY_SETTLE_MS = 5_000

export interface NetworkResult {
  submitted: number
  included: number
  confirmedTps: number
  propagationP50Ms: number
  propagationP99Ms: number
  /** gossip arrivals measured (blocks × receiving nodes) */
  propagationSamples: number
  /** seal to the receiver decoding the gossiped block */
  transitP50Ms: number
  transitP99Ms: number
  /** the receiver's import of the block (queue, checks, execution, write) */
  importP50Ms: number
  importP99Ms: number
  cpuMsPerTx: number
  /** the steady load after it: transactions per second offered, how many were included, and propagation meanwhile */
  paced: { rate: number; submitted: number; included: number; propagationP50Ms: number; propagationP99Ms: number; propagationSamples: number; transitP99Ms: number; importP50Ms: number; importP99Ms: number }
}

interface DevnetNode {
  role: 'bootnode' | 'sealer' | 'worker'
  rpc: string | null
  pid: number
  datadir: string
}

type Drive = (node: { pid: number; pids?: number[] }, config: DriverConfig, onResult: (m: Extract<DriverMessage, { type: 'result' }>, phases: Map<string, PhaseStats>) => void) => Promise<void>

interface NetworkOptions {
  reps: number
  smoke: boolean
  driverConfig: (url: string, tasks: DriverTask[]) => DriverConfig
  drive: Drive
  say: (line: string) => void
}

/**
 * Seal-to-import delays of the blocks sealed in [from, until) (epoch ms), each block once per node that imported it,
 * split where the receiver decoded it.
 */
function propagation(events: ReturnType<typeof blockEvents>[], from: number, until: number) {
  const delays: number[] = []
  const transits: number[] = []
  const imports: number[] = []
  const byReceiver = events.map(() => [] as number[])
  for (const [i, own] of events.entries()) {
    for (const [hash, sealedAt] of own.sealed) {
      if (sealedAt < from || sealedAt >= until) continue
      for (const [j, other] of events.entries()) {
        const importedAt = other.imported.get(hash)
        if (j === i || importedAt === undefined) continue
        delays.push(importedAt - sealedAt)
        byReceiver[j].push(importedAt - sealedAt)
        const receivedAt = other.received.get(hash)
        if (receivedAt !== undefined && receivedAt <= importedAt) {
          transits.push(receivedAt - sealedAt)
          imports.push(importedAt - receivedAt)
        }
      }
    }
  }
  return { delays, transits, imports, byReceiver }
}

// "INFO  [11-22|07:21:11.123] message key=value ..." (UTC, the year is not logged)
const LINE = /^\w+\s+\[(\d\d)-(\d\d)\|(\d\d):(\d\d):(\d\d)\.(\d{3})\] (Successfully sealed new block|Received gossiped block|Imported gossiped block|Imported synced block) number=\d+ hash=(0x[0-9a-f]+)/
const year = new Date().getUTCFullYear()

function blockEvents(logFile: string): { sealed: Map<string, number>; received: Map<string, number>; imported: Map<string, number> } {
  const events = { sealed: new Map<string, number>(), received: new Map<string, number>(), imported: new Map<string, number>() }
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const m = LINE.exec(line)
    if (!m) continue
    const at = Date.UTC(year, Number(m[1]) - 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
    const kind = m[7].startsWith('Successfully') ? 'sealed' : m[7].startsWith('Received') ? 'received' : 'imported'
    // the first arrival counts: a block can come again (sync, a second gossip copy)
    if (!events[kind].has(m[8])) events[kind].set(m[8], at)
  }
  return events
}

async function startDevnet(datadir: string): Promise<{ nodes: DevnetNode[]; stop: () => Promise<void> }> {
  const devnet = track(spawn(process.execPath, [CAIRN, 'devnet', '--sealers', '3', '--workers', '1', '--period', '1', '--verbosity', '4', '--datadir', datadir], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT }))
  let stderr = ''
  devnet.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
  const exited = new Promise<void>((resolve) => devnet.on('exit', () => resolve()))
  const line = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`devnet did not start in 60 s:\n${stderr}`)), 60_000)
    devnet.stdout!.on('data', (d) => {
      out += d
      if (out.includes('\n')) {
        clearTimeout(timer)
        resolve(out.slice(0, out.indexOf('\n')))
      }
    })
    void exited.then(() => reject(new Error(`devnet exited:\n${stderr}`)))
  })
  const { nodes } = JSON.parse(line) as { nodes: DevnetNode[] }
  for (const n of nodes) trackPid(n.pid)
  return {
    nodes,
    stop: async () => {
      devnet.kill('SIGTERM') // devnet stops its nodes (SIGKILL after 10 s)
      const timer = setTimeout(() => devnet.kill('SIGKILL'), 15_000)
      await exited
      clearTimeout(timer)
    },
  }
}

export async function runNetwork(opts: NetworkOptions): Promise<{ results: NetworkResult[] } | { skipped: string }> {
  if (!existsSync(join(ROOT, 'src/cli/devnet.ts'))) return { skipped: '`cairn devnet` (src/cli/devnet.ts) does not exist' }
  const results: NetworkResult[] = []
  for (let rep = 0; rep < opts.reps; rep++) {
    opts.say(`network ${rep + 1}/${opts.reps}: cairn devnet --sealers 3 --workers 1 --period 1`)
    const datadir = tempDir('cairn-bench-devnet-')
    const devnet = await startDevnet(datadir)
    try {
      const chainNodes = devnet.nodes.filter((n) => n.role !== 'bootnode')
      const worker = chainNodes.find((n) => n.role === 'worker')!
      let result: NetworkResult | undefined
      // blocks sealed while the network was still forming (peers connecting, the 3 s wait) are not counted; those
      // sealed once the full load is in belong to the steady one
      const loadStartedAt = Date.now()
      let pacedStartedAt = Infinity
      const tasks: DriverTask[] = ['setup', 'transfers', 'paced']
      await opts.drive({ pid: worker.pid, pids: chainNodes.map((n) => n.pid) }, opts.driverConfig(worker.rpc!, tasks), (m, phases) => {
        if (!m.load) return
        if (m.task === 'transfers') {
          pacedStartedAt = Date.now()
          result = {
            submitted: m.load.submitted,
            included: m.load.included,
            confirmedTps: m.load.confirmedTps,
            propagationP50Ms: NaN,
            propagationP99Ms: NaN,
            propagationSamples: 0,
            transitP50Ms: NaN,
            transitP99Ms: NaN,
            importP50Ms: NaN,
            importP99Ms: NaN,
            cpuMsPerTx: (phases.get('transfers')?.cpuMs ?? NaN) / m.load.submitted,
            paced: { rate: NaN, submitted: 0, included: 0, propagationP50Ms: NaN, propagationP99Ms: NaN, propagationSamples: 0, transitP99Ms: NaN, importP50Ms: NaN, importP99Ms: NaN },
          }
        } else if (m.task === 'paced' && result) {
          result.paced = { ...result.paced, rate: opts.driverConfig('', []).pacedRate, submitted: m.load.submitted, included: m.load.included }
        }
      })
      const events = chainNodes.map((n) => blockEvents(join(n.datadir, 'node.log')))
      if (result) {
        const full = propagation(events, loadStartedAt, pacedStartedAt)
        const steady = propagation(events, pacedStartedAt + (opts.smoke ? 0 : STEADY_SETTLE_MS), Infinity)
        Object.assign(result, {
          propagationP50Ms: percentile(full.delays, 50),
          propagationP99Ms: percentile(full.delays, 99),
          propagationSamples: full.delays.length,
          transitP50Ms: percentile(full.transits, 50),
          transitP99Ms: percentile(full.transits, 99),
          importP50Ms: percentile(full.imports, 50),
          importP99Ms: percentile(full.imports, 99),
        })
        Object.assign(result.paced, {
          propagationP50Ms: percentile(steady.delays, 50),
          propagationP99Ms: percentile(steady.delays, 99),
          propagationSamples: steady.delays.length,
          transitP99Ms: percentile(steady.transits, 99),
          importP50Ms: percentile(steady.imports, 50),
          importP99Ms: percentile(steady.imports, 99),
        })
        results.push(result)
        opts.say(`  confirmed ${result.confirmedTps?.toFixed(0)} tx/s (${result.included}/${result.submitted}), propagation p50 ${result.propagationP50Ms} ms p99 ${result.propagationP99Ms} ms over ${full.delays.length} arrivals`)
        opts.say(`  of which gossip transit p50 ${result.transitP50Ms} p99 ${result.transitP99Ms} ms, the receiver's import p50 ${result.importP50Ms} p99 ${result.importP99Ms} ms`)
        opts.say(`  p50/p99 by receiver: ${chainNodes.map((n, j) => `${n.role} ${j + 1} ${percentile(full.byReceiver[j], 50)}/${percentile(full.byReceiver[j], 99)} ms`).join(', ')}`)
        const p = result.paced
        opts.say(`  then ${p.rate} tx/s steady (${p.included}/${p.submitted} included): propagation p50 ${p.propagationP50Ms} ms p99 ${p.propagationP99Ms} ms over ${p.propagationSamples} arrivals`)
        opts.say(`    of which gossip transit p99 ${p.transitP99Ms} ms, the receiver's import p50 ${p.importP50Ms} p99 ${p.importP99Ms} ms`)
      }
    } finally {
      await devnet.stop()
      removeTempDir(datadir)
    }
  }
  return { results }
}


