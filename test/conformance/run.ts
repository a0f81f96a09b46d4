/**
 * `npm run conformance`: the execution-apis JSON-RPC suite (what hive runs against geth) against a real cairn.
 * Imports the suite's genesis.json and chain.rlp into a fresh datadir, starts cairn with sealing off, runs
 * ../shared/conformance/rpc-compat.mjs, prints its summary and compares with the recorded baseline: every test
 * that passed before must still pass. `--update` records a better result as the new baseline.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const ROOT = new URL('../../', import.meta.url).pathname
const CAIRN = join(ROOT, 'bin/cairn.ts')
export const SUITE = join(ROOT, '../shared/conformance')
const TESTS = join(SUITE, 'execution-apis/tests')
export const BASELINE = new URL('./baseline.json', import.meta.url).pathname
const APIS = 'eth,net,web3,debug,txpool,testing'

export interface Report {
  passed: number
  failed: number
  total: number
  results: { name: string; pass: boolean; error?: string }[]
}

export interface Baseline {
  passed: number
  total: number
  passing: string[]
}

function run(args: string[], opts: { capture?: boolean } = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d) => (opts.capture ? (out += d) : process.stdout.write(d)))
    child.stderr.on('data', (d) => (out += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

/** Runs the whole suite against a fresh cairn; returns the runner's JSON report. */
export async function runConformance(opts: { quiet?: boolean } = {}): Promise<Report> {
  if (!existsSync(TESTS)) throw new Error(`the conformance suite is not at ${SUITE} (it lives in ../shared beside the project)`)
  const dir = mkdtempSync(join(tmpdir(), 'cairn-conformance-'))
  try {
    const datadir = join(dir, 'data')
    for (const args of [['init', '--datadir', datadir, join(TESTS, 'genesis.json')], ['import', '--datadir', datadir, join(TESTS, 'chain.rlp')]]) {
      const r = await run([CAIRN, ...args], { capture: true })
      if (r.code !== 0) throw new Error(`cairn ${args[0]} failed:\n${r.out}`)
    }
    const node = spawn(process.execPath, [CAIRN, '--datadir', datadir, '--http', '--http.port', '0', '--port', '0', '--http.api', APIS, '--rpc.evmtimeout', '60s'], { stdio: ['ignore', 'ignore', 'pipe'] })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let log = ''
        const timer = setTimeout(() => reject(new Error(`cairn did not start:\n${log}`)), 30_000)
        node.stderr.on('data', (d) => {
          log += d
          const m = /HTTP server started endpoint=([\d.]+:\d+)/.exec(log)
          if (m) {
            clearTimeout(timer)
            resolve(`http://${m[1]}`)
          }
        })
        node.on('exit', (code) => reject(new Error(`cairn exited with ${code}:\n${log}`)))
      })
      const json = join(dir, 'report.json')
      const r = await run([join(SUITE, 'rpc-compat.mjs'), '--url', url, '--json', json], { capture: opts.quiet })
      if (r.code !== 0) throw new Error(`rpc-compat could not run (exit ${r.code}):\n${r.out}`)
      return JSON.parse(readFileSync(json, 'utf8')) as Report
    } finally {
      node.kill('SIGKILL')
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export function readBaseline(): Baseline {
  return JSON.parse(readFileSync(BASELINE, 'utf8')) as Baseline
}

/** Tests that passed in the baseline and fail now. */
export function regressions(report: Report, baseline: Baseline): string[] {
  const passing = new Set(report.results.filter((r) => r.pass).map((r) => r.name))
  return baseline.passing.filter((name) => !passing.has(name))
}

async function main(): Promise<number> {
  const report = await runConformance()
  const baseline = existsSync(BASELINE) ? readBaseline() : { passed: 0, total: report.total, passing: [] }
  const lost = regressions(report, baseline)
  console.log(`\nconformance: ${report.passed}/${report.total} pass (baseline ${baseline.passed})`)
  if (lost.length > 0) {
    console.log(`regressions (passed in the baseline, fail now):\n  ${lost.join('\n  ')}`)
    return 1
  }
  if (process.argv.includes('--update') && report.passed > baseline.passed) {
    const next: Baseline = { passed: report.passed, total: report.total, passing: report.results.filter((r) => r.pass).map((r) => r.name).sort() }
    writeFileSync(BASELINE, `${JSON.stringify(next, null, 2)}\n`)
    console.log(`baseline raised to ${report.passed}`)
  }
  return 0
}

if (import.meta.main) process.exitCode = await main()
