import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { it } from 'node:test'

import { ROOT } from '../helpers.ts'

// The harness of issue 7 in its smoke mode: every scenario, tiny, once, against every node. No timing is asserted
// (the figures mean nothing at this size); only that each scenario ran and reported, so the bench cannot rot.
it('npm run bench -- --smoke runs every scenario and writes its results', { timeout: 240_000 }, async () => {
  const started = Date.now()
  const child = spawn(process.execPath, [join(ROOT, 'bench/run.ts'), '--smoke'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => (stdout += d))
  child.stderr.on('data', (d) => (stderr += d))
  // the harness kills its own children on SIGTERM; a hung run must not outlive the test
  const timer = setTimeout(() => child.kill('SIGTERM'), 220_000)
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)))
  clearTimeout(timer)
  assert.equal(code, 0, `bench --smoke failed:\n${stderr.slice(-4000)}`)

  for (const row of ['transfers (single)', 'transfers (batched)', 'erc20', 'reads eth_blockNumber', 'reads eth_getLogs', 'import']) {
    assert.match(stdout, new RegExp(`^${row.replace(/[()]/g, '\\$&')}\\s`, 'm'), `the table has ${row}`)
  }
  assert.match(stdout + stderr, /network \(devnet|network skipped: /, 'the network scenario ran or said why not')
  assert.match(stdout, /cairn\/anvil\s+cairn\/hardhat/)
  for (const node of ['cairn', 'anvil', 'hardhat']) {
    assert.match(stderr, new RegExp(`rep 1/1: ${node} `), `${node} was driven (or its skip was printed)`)
  }

  const summary = join(ROOT, 'bench/results/summary-smoke.md')
  assert.ok(existsSync(summary) && statSync(summary).mtimeMs >= started, 'summary-smoke.md was written by this run')
  assert.match(readFileSync(summary, 'utf8'), /\| transfers \(single\) \| confirmed tx\/s \|/)
})
