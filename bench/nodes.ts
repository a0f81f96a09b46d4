// Starting and stopping the nodes under test, and reading their CPU and memory from /proc. Every child started here is
// recorded by pid so that the end of the run (or Ctrl-C) kills exactly those.

import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { NODE_FLAGS } from '../src/cli/nodeFlags.ts'
import { CHAIN_ID, rpc, waitFor } from './workload.ts'

export const ROOT = new URL('../', import.meta.url).pathname
export const CAIRN = join(ROOT, 'bin/cairn.ts')
const ANVIL = join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil')
const HARDHAT_CLI = join(ROOT, 'node_modules/hardhat/dist/src/cli.js')
export const GAS_LIMIT = 300_000_000

export type NodeName = 'cairn' | 'anvil' | 'hardhat'

export interface RunningNode {
  name: NodeName
  url: string
  pid: number
  stop(): Promise<void>
  log(): string
}

const children = new Set<ChildProcess>()
const extraPids = new Set<number>()
const tempDirs = new Set<string>()

/** Spawns and remembers a child; its output is kept (bounded) for error messages. */
export function track(child: ChildProcess): ChildProcess {
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}

/** Pids that are not our direct children (the nodes of `cairn devnet`), killed with the rest. */
export const trackPid = (pid: number) => extraPids.add(pid)

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
  tempDirs.delete(dir)
}

const killPid = (pid: number | undefined) => {
  if (pid === undefined) return
  try {
    process.kill(pid, 'SIGKILL')
  } catch {}
}

/** Kills every child this run started (by pid) and removes the temporary datadirs. */
export function killAll(): void {
  for (const child of children) killPid(child.pid)
  for (const pid of extraPids) killPid(pid)
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true })
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export interface ProcStats {
  /** user + system CPU time of the process so far */
  cpuMs: number
  /** peak resident set since start or the last resetPeakRss */
  peakRssMb: number
  /**
   * the resident set now that no file backs (heap, buffers, LevelDB's memtables); the rest of it is pages of mapped
   * files (the node binary, LevelDB's tables), which the kernel drops under memory pressure
   */
  rssAnonMb: number
}

const CLOCK_TICKS_PER_SECOND = 100 // Linux USER_HZ

export function procStats(pid: number): ProcStats {
  // the command name (field 2) may hold spaces: count fields after its closing parenthesis
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kB = (field: string) => {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)
    return m ? Number(m[1]) / 1024 : NaN
  }
  return { cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND, peakRssMb: kB('VmHWM'), rssAnonMb: kB('RssAnon') }
}

/** Resets VmHWM to the current RSS (Linux >= 4.0), so each scenario reports its own peak. */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
  } catch {}
}

const LOG_TAIL_BYTES = 200_000

function startProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env, cwd: ROOT }))
  // the last LOG_TAIL_BYTES of output, kept as chunks: Anvil and Hardhat log every transaction, and re-copying a
  // 200 KB string per chunk cost this process a quarter of a core, taken from the node under test
  const chunks: Buffer[] = []
  let size = 0
  const append = (d: Buffer) => {
    chunks.push(d)
    size += d.length
    while (chunks.length > 1 && size - chunks[0].length >= LOG_TAIL_BYTES) size -= chunks.shift()!.length
  }
  const log = () => Buffer.concat(chunks).toString().slice(-LOG_TAIL_BYTES)
  child.stdout!.on('data', append)
  child.stderr!.on('data', append)
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()))
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => killPid(child.pid), 10_000)
      await exited
      clearTimeout(timer)
    }
  }
  return { child, log, exited, stop }
}

async function untilServing(name: string, url: string, proc: ReturnType<typeof startProcess>, timeoutMs: number): Promise<void> {
  let died = false
  void proc.exited.then(() => (died = true))
  await waitFor(`${name} to serve JSON-RPC`, timeoutMs, async () => {
    if (died) throw new Error(`${name} exited:\n${proc.log().slice(-2000)}`)
    return Number(await rpc<string>(url, 'eth_chainId')) === CHAIN_ID ? true : undefined
  })
}

/**
 * Node flags for the benchmarked cairn processes (node and import): the ones every cairn launch uses, then
 * CAIRN_BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=prof" to profile them.
 */
export function cairnNodeArgs(): string[] {
  return [...NODE_FLAGS, ...(process.env.CAIRN_BENCH_NODE_ARGS ?? '').split(/\s+/).filter((a) => a !== '')]
}

export async function startCairn(): Promise<RunningNode> {
  const datadir = tempDir('cairn-bench-')
  const port = await freePort()
  const proc = startProcess(process.execPath, [...cairnNodeArgs(), CAIRN, '--dev', '--dev.period', '1', '--dev.gaslimit', String(GAS_LIMIT), '--datadir', datadir, '--http.port', String(port), '--port', '0', '--maxpeers', '0'])
  const url = `http://127.0.0.1:${port}`
  await untilServing('cairn', url, proc, 60_000)
  return { name: 'cairn', url, pid: proc.child.pid!, log: proc.log, stop: async () => (await proc.stop(), removeTempDir(datadir)) }
}

export async function startAnvil(): Promise<RunningNode> {
  const port = await freePort()
  const proc = startProcess(ANVIL, ['--block-time', '1', '--gas-limit', String(GAS_LIMIT), '--chain-id', String(CHAIN_ID), '--host', '127.0.0.1', '--port', String(port)])
  const url = `http://127.0.0.1:${port}`
  await untilServing('anvil', url, proc, 30_000)
  return { name: 'anvil', url, pid: proc.child.pid!, log: proc.log, stop: proc.stop }
}

/**
 * Hardhat 3's `hardhat node` with the project's hardhat.config.ts (its default in-process network) and `--chain-id
 * 1337`, switched to 1 s interval mining and a 300M block gas limit over RPC once it serves (evm_setAutomine false,
 * evm_setIntervalMining 1000, evm_setBlockGasLimit), since the shared config keeps automine for the other tests.
 */
export async function startHardhat(): Promise<RunningNode> {
  const port = await freePort()
  const env = { ...process.env, HARDHAT_DISABLE_TELEMETRY: 'true' }
  const proc = startProcess(process.execPath, [HARDHAT_CLI, 'node', '--port', String(port), '--chain-id', String(CHAIN_ID)], env)
  const url = `http://127.0.0.1:${port}`
  await untilServing('hardhat', url, proc, 90_000)
  await rpc(url, 'evm_setBlockGasLimit', [`0x${GAS_LIMIT.toString(16)}`])
  await rpc(url, 'evm_setAutomine', [false])
  await rpc(url, 'evm_setIntervalMining', [1000])
  return { name: 'hardhat', url, pid: proc.child.pid!, log: proc.log, stop: proc.stop }
}

export const startNode: Record<NodeName, () => Promise<RunningNode>> = { cairn: startCairn, anvil: startAnvil, hardhat: startHardhat }

export { startProcess }
