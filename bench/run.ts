// `npm run bench [-- --smoke] [-- options]`: cairn against Anvil and Hardhat's node under the same load (issue 7).
// Prints a table with cairn/Anvil and cairn/Hardhat ratios; writes bench/results/<stamp>.json and summary.md.

import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

import type { DriverConfig, DriverMessage, DriverTask, LoadResult, ReadResult } from './driver.ts'
import { runImport } from './importChain.ts'
import { runNetwork } from './network.ts'
import { GAS_LIMIT, ROOT, killAll, procStats, resetPeakRss, startNode, track } from './nodes.ts'
import type { NodeName, RunningNode } from './nodes.ts'
import { loadWorkload, spread } from './workload.ts'
import type { Spread } from './workload.ts'

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    nodes: { type: 'string', default: 'cairn,anvil,hardhat' },
    scenarios: { type: 'string', default: 'transfers,erc20,reads,import,network' },
    reps: { type: 'string' },
    transfers: { type: 'string' },
    senders: { type: 'string' },
    'read-seconds': { type: 'string' },
    'read-clients': { type: 'string', default: '16' },
    'import-blocks': { type: 'string' },
    'confirm-timeout': { type: 'string' },
    'paced-rate': { type: 'string' },
    'paced-seconds': { type: 'string' },
    out: { type: 'string', default: join(ROOT, 'bench/results') },
  },
  strict: true,
})

const smoke = args.smoke!
const options = {
  smoke,
  nodes: args.nodes!.split(',') as NodeName[],
  scenarios: new Set(args.scenarios!.split(',')),
  reps: Number(args.reps ?? (smoke ? 1 : 3)),
  // smoke: just enough to cross a block boundary and exercise every code path, in well under two minutes
  perScenario: Number(args.transfers ?? (smoke ? 60 : 20_000)),
  senders: Number(args.senders ?? (smoke ? 10 : 50)),
  readSeconds: Number(args['read-seconds'] ?? (smoke ? 0.3 : 5)),
  readClients: Number(args['read-clients']),
  importBlocks: Number(args['import-blocks'] ?? (smoke ? 20 : 10_000)),
  // seconds to wait for every transaction of a load scenario to be included; a run that misses it reports no confirmed rate
  confirmTimeoutS: Number(args['confirm-timeout'] ?? (smoke ? 30 : 600)),
  // network: after the full load, a steady one (what a private chain mostly carries), for propagation without saturation
  pacedRate: Number(args['paced-rate'] ?? (smoke ? 20 : 200)),
  pacedSeconds: Number(args['paced-seconds'] ?? (smoke ? 2 : 90)),
  out: args.out!,
}
for (const n of options.nodes) if (!(n in startNode)) throw new Error(`unknown node ${n} (cairn, anvil, hardhat)`)

// Ctrl-C, SIGTERM or a crash: every child started by pid is killed before we go
const stopEverything = (code: number) => {
  killAll()
  process.exit(code)
}
process.on('SIGINT', () => stopEverything(130))
process.on('SIGTERM', () => stopEverything(143))
process.on('exit', () => killAll())

type Samples = Map<string, number[]> // "scenario|metric|node" -> one value per repetition
const samples: Samples = new Map()
const notes: string[] = []
const raw: unknown[] = []
const record = (scenario: string, metric: string, node: string, value: number) => {
  const key = `${scenario}|${metric}|${node}`
  samples.set(key, [...(samples.get(key) ?? []), value])
}
const say = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`)

mkdirSync(options.out, { recursive: true })
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const workloadFile = join(options.out, 'cache', `workload-${options.perScenario}x${options.senders}.json`)
say(`pre-signing ${3 * options.perScenario} transactions (cached in ${workloadFile})`)
loadWorkload(workloadFile, options.perScenario, options.senders)

const driverConfig = (url: string, tasks: DriverTask[]): DriverConfig => ({
  url,
  workloadFile,
  tasks,
  concurrency: 32,
  pacedRate: options.pacedRate,
  pacedCount: options.pacedRate * options.pacedSeconds,
  batchSize: 100,
  batchConcurrency: 4,
  readClients: options.readClients,
  readSecondsPerMethod: options.readSeconds,
  confirmTimeoutMs: options.confirmTimeoutS * 1000,
})

/** The node's CPU and peak RSS over one phase the driver marked (`label:start` to `label:end`). */
export interface PhaseStats {
  cpuMs: number
  peakRssMb: number
}

/** Runs the driver against `node` (or the sum of `pids`), reading the counters at every phase edge the driver marks. */
function drive(node: { pid: number; pids?: number[] }, config: DriverConfig, onResult: (m: Extract<DriverMessage, { type: 'result' }>, phases: Map<string, PhaseStats>) => void): Promise<void> {
  const pids = node.pids ?? [node.pid]
  const child = track(fork(join(ROOT, 'bench/driver.ts'), [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' }))
  const startCpu = new Map<string, number>()
  const phases = new Map<string, PhaseStats>()
  const totalStats = () => pids.map(procStats).reduce((a, s) => ({ cpuMs: a.cpuMs + s.cpuMs, peakRssMb: Math.max(a.peakRssMb, s.peakRssMb) }), { cpuMs: 0, peakRssMb: 0 })
  return new Promise((resolve, reject) => {
    let done = false
    child.on('message', (m: DriverMessage) => {
      if (m.type === 'mark') {
        const phase = m.label.replace(/:(start|end)$/, '')
        if (m.label.endsWith(':start')) {
          pids.forEach(resetPeakRss)
          startCpu.set(phase, totalStats().cpuMs)
        } else {
          const end = totalStats()
          phases.set(phase, { cpuMs: end.cpuMs - (startCpu.get(phase) ?? end.cpuMs), peakRssMb: end.peakRssMb })
        }
        child.send({ type: 'ack' })
      } else if (m.type === 'result') {
        onResult(m, phases)
      } else done = true
    })
    child.on('exit', (code) => (done ? resolve() : reject(new Error(`load driver exited with ${code}`))))
  })
}

function recordLoad(scenario: string, node: string, load: LoadResult, cpuMs: number, peakRssMb: number) {
  record(scenario, 'accepted tx/s', node, load.acceptedTps)
  record(scenario, 'confirmed tx/s', node, load.confirmedTps)
  record(scenario, 'p50 submit→inclusion ms', node, load.latencyP50Ms)
  record(scenario, 'p99 submit→inclusion ms', node, load.latencyP99Ms)
  record(scenario, 'p99 submit round trip ms', node, load.submitP99Ms)
  record(scenario, 'node CPU ms/tx', node, cpuMs / load.submitted)
  record(scenario, 'peak RSS MB', node, peakRssMb)
  if (load.included < load.submitted || load.rejected > 0) {
    notes.push(`${scenario} on ${node}: ${load.included}/${load.submitted} included, ${load.rejected} rejected${load.firstErrors.length ? ` (${load.firstErrors.slice(0, 2).join('; ')})` : ''}`)
  }
}

function recordReads(node: string, reads: ReadResult[], phases: Map<string, PhaseStats>) {
  for (const r of reads) {
    record(`reads ${r.method}`, 'req/s', node, r.reqPerSec)
    const phase = phases.get(`reads:${r.method}`)
    if (phase) record(`reads ${r.method}`, 'node CPU ms/req', node, phase.cpuMs / r.requests)
    record(`reads ${r.method}`, 'p50 ms', node, r.p50Ms)
    record(`reads ${r.method}`, 'p99 ms', node, r.p99Ms)
    if (r.errors > 0) notes.push(`reads ${r.method} on ${node}: ${r.errors}/${r.requests} errors`)
  }
}

const loadTasks: DriverTask[] = []
if (options.scenarios.has('transfers')) loadTasks.push('transfers', 'batched')
if (options.scenarios.has('erc20')) loadTasks.push('erc20')
if (options.scenarios.has('reads')) loadTasks.push('reads')
const scenarioName: Record<string, string> = { transfers: 'transfers (single)', batched: 'transfers (batched)', erc20: 'erc20' }

try {
  if (loadTasks.length > 0) {
    for (let rep = 0; rep < options.reps; rep++) {
      // interleaved: each repetition visits every node, starting from a different one, so drift hits all alike
      const order = options.nodes.map((_, i) => options.nodes[(i + rep) % options.nodes.length])
      for (const name of order) {
        say(`rep ${rep + 1}/${options.reps}: ${name} (${loadTasks.join(', ')})`)
        let node: RunningNode
        try {
          node = await startNode[name]()
        } catch (err) {
          notes.push(`${name} skipped in rep ${rep + 1}: ${(err as Error).message.split('\n')[0]}`)
          say(`  ${name} did not start: ${(err as Error).message.split('\n')[0]}`)
          continue
        }
        try {
          await drive(node, driverConfig(node.url, ['setup', ...loadTasks]), (m, phases) => {
            const { cpuMs, peakRssMb } = phases.get(m.task) ?? { cpuMs: NaN, peakRssMb: NaN }
            raw.push({ rep, node: name, ...m, phases: Object.fromEntries(phases) })
            if (m.load) {
              recordLoad(scenarioName[m.task], name, m.load, cpuMs, peakRssMb)
              say(`  ${m.task}: accepted ${m.load.acceptedTps.toFixed(0)} tx/s, confirmed ${m.load.confirmedTps.toFixed(0)} tx/s (${m.load.included}/${m.load.submitted} in ${m.load.blocks} blocks), p99 ${m.load.latencyP99Ms.toFixed(0)} ms, submit p99 ${m.load.submitP99Ms.toFixed(0)} ms, ${(cpuMs / m.load.submitted).toFixed(2)} CPU ms/tx, ${peakRssMb.toFixed(0)} MB`)
            }
            if (m.reads) {
              recordReads(name, m.reads, phases)
              say(`  reads: ${m.reads.map((r) => `${r.method} ${r.reqPerSec.toFixed(0)}/s`).join(', ')}`)
            }
          })
        } catch (err) {
          notes.push(`${name} rep ${rep + 1} failed: ${(err as Error).message}`)
          say(`  ${name} failed: ${(err as Error).message}\n${node.log().slice(-1500)}`)
        } finally {
          await node.stop()
          // the node's own account of the run (sealing times, errors), next to the results
          writeFileSync(join(options.out, `${stamp}-${name}-rep${rep + 1}.log`), node.log())
        }
      }
    }
  }

  if (options.scenarios.has('import')) {
    const results = await runImport({ blocks: options.importBlocks, reps: options.reps, cacheDir: join(options.out, 'cache'), gasLimit: GAS_LIMIT, say })
    for (const r of results) {
      raw.push({ scenario: 'import', ...r })
      record('import', 'blocks/s', 'cairn', r.blocksPerSec)
      record('import', 'tx/s', 'cairn', r.txPerSec)
      record('import', 'peak RSS MB', 'cairn', r.peakRssMb)
      record('import', 'peak anonymous RSS MB', 'cairn', r.peakRssAnonMb)
    }
  }

  if (options.scenarios.has('network')) {
    const outcome = await runNetwork({ reps: options.reps, smoke, driverConfig, drive, say }).catch((err: Error) => ({ skipped: `failed: ${err.message.split('\n')[0]}` }))
    if ('skipped' in outcome) {
      notes.push(`network skipped: ${outcome.skipped}`)
      say(`network skipped: ${outcome.skipped}`)
    } else {
      for (const r of outcome.results) {
        raw.push({ scenario: 'network', ...r })
        record('network (devnet 3 sealers + worker)', 'confirmed tx/s', 'cairn', r.confirmedTps)
        record('network (devnet 3 sealers + worker)', 'included/submitted %', 'cairn', (100 * r.included) / r.submitted)
        record('network (devnet 3 sealers + worker)', 'propagation p50 ms', 'cairn', r.propagationP50Ms)
        record('network (devnet 3 sealers + worker)', 'propagation p99 ms', 'cairn', r.propagationP99Ms)
        record('network (devnet 3 sealers + worker)', 'gossip transit p99 ms', 'cairn', r.transitP99Ms)
        record('network (devnet 3 sealers + worker)', 'receiver import p50 ms', 'cairn', r.importP50Ms)
        record('network (devnet 3 sealers + worker)', 'receiver import p99 ms', 'cairn', r.importP99Ms)
        record('network (devnet 3 sealers + worker)', 'CPU ms/tx (4 nodes)', 'cairn', r.cpuMsPerTx)
        record('network (devnet 3 sealers + worker)', `propagation p50 ms at ${r.paced.rate} tx/s`, 'cairn', r.paced.propagationP50Ms)
        record('network (devnet 3 sealers + worker)', `propagation p99 ms at ${r.paced.rate} tx/s`, 'cairn', r.paced.propagationP99Ms)
        if (r.paced.included < r.paced.submitted) notes.push(`network: ${r.paced.included}/${r.paced.submitted} of the steady load's transactions included`)
        if (r.included < r.submitted) notes.push(`network: ${r.included}/${r.submitted} transactions included before the ${driverConfig('', []).confirmTimeoutMs / 1000} s timeout`)
      }
    }
  }
} finally {
  killAll()
}

// ---- report ----

const fmt = (v: number) => (!Number.isFinite(v) ? '–' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2))
const cell = (s: Spread | undefined, reps: number) => (s === undefined || !Number.isFinite(s.median) ? '–' : reps > 1 ? `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})` : fmt(s.median))
const ratio = (a: Spread | undefined, b: Spread | undefined) => (a && b && Number.isFinite(a.median) && Number.isFinite(b.median) && b.median !== 0 ? `${(a.median / b.median).toFixed(2)}` : '–')

const rows: string[][] = []
const rowKeys = [...new Set([...samples.keys()].map((k) => k.split('|').slice(0, 2).join('|')))]
for (const key of rowKeys) {
  const [scenario, metric] = key.split('|')
  const of = (node: string) => {
    const values = samples.get(`${key}|${node}`)
    return values ? { spread: spread(values), n: values.length } : undefined
  }
  const [cairn, anvil, hardhat] = [of('cairn'), of('anvil'), of('hardhat')]
  rows.push([scenario, metric, cell(cairn?.spread, cairn?.n ?? 0), cell(anvil?.spread, anvil?.n ?? 0), cell(hardhat?.spread, hardhat?.n ?? 0), ratio(cairn?.spread, anvil?.spread), ratio(cairn?.spread, hardhat?.spread)])
}
const header = ['scenario', 'metric', 'cairn', 'anvil', 'hardhat', 'cairn/anvil', 'cairn/hardhat']
const markdown = [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
const text = [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i])).join('  ')).join('\n')

const mode = smoke ? 'smoke' : 'full'
const setting = `${mode}: ${options.reps} repetition(s), ${options.perScenario} transactions per load scenario from ${options.senders} senders, reads ${options.readClients} clients × ${options.readSeconds} s per method, import ${options.importBlocks} blocks; 1 s blocks, gas limit ${GAS_LIMIT}; medians (min–max)`
const summary = [
  `# cairn benchmark (${stamp})`,
  '',
  setting,
  '',
  'Nodes: cairn `--dev --dev.period 1 --dev.gaslimit 300000000`; Anvil 1.7.1 `--block-time 1 --gas-limit 300000000 --chain-id 1337`;',
  'Hardhat 3 `hardhat node --chain-id 1337`, then evm_setAutomine(false), evm_setIntervalMining(1000), evm_setBlockGasLimit(300000000).',
  '',
  markdown,
  '',
  ...(notes.length ? ['Notes:', '', ...notes.map((n) => `- ${n}`)] : []),
].join('\n')
writeFileSync(join(options.out, `${mode}-${stamp}.json`), JSON.stringify({ options: { ...options, scenarios: [...options.scenarios] }, samples: Object.fromEntries(samples), notes, raw }, null, 1))
writeFileSync(join(options.out, smoke ? 'summary-smoke.md' : 'summary.md'), `${summary}\n`)
process.stdout.write(`\n${setting}\n\n${text}\n${notes.length ? `\nnotes:\n${notes.map((n) => `  ${n}`).join('\n')}\n` : ''}`)
process.exit(0)
