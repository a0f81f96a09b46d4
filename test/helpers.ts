import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawn } from 'node:child_process'
import type { TestContext } from 'node:test'

export const FIXTURES = new URL('./fixtures/', import.meta.url).pathname
export const ROOT = new URL('../', import.meta.url).pathname
export const CAIRN = join(ROOT, 'bin/cairn.ts')

export const fixture = (rel: string) => join(FIXTURES, rel)
export const readFixture = (rel: string) => readFileSync(fixture(rel), 'utf8')
export const expectedClique = JSON.parse(readFixture('clique/expected.json'))

const teardowns = new WeakMap<TestContext, (() => unknown)[]>()

/**
 * Runs `fn` when the test ends, in reverse order of registration, as a node stops its parts (node:test runs its own
 * after hooks in order of registration: a chain opened first would close while the network on it still imports).
 */
export function deferCleanup(t: TestContext, fn: () => unknown): void {
  let fns = teardowns.get(t)
  if (fns === undefined) {
    const registered: (() => unknown)[] = (fns = [])
    teardowns.set(t, registered)
    t.after(async () => {
      const failures: unknown[] = []
      for (const f of registered.reverse()) await Promise.resolve().then(f).catch((err: unknown) => failures.push(err))
      if (failures.length > 0) throw failures[0]
    })
  }
  fns.push(fn)
}

/** A fresh directory removed when the test ends (after what was registered with deferCleanup later). */
export function tempDir(t: TestContext, name = 'cairn-'): string {
  const dir = mkdtempSync(join(tmpdir(), name))
  deferCleanup(t, () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs the cairn CLI as a child process on the same Node (24) that runs the tests. */
export function runCairn(args: string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}
