import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

import { hexToBytes } from '@ethereumjs/util'

import { Keystore, LightScryptN, LightScryptP } from '../../src/accounts/keystore.ts'
import { Chain } from '../../src/chain/chain.ts'
import { CAIRN, tempDir } from '../helpers.ts'

/** Networks of `bin/cairn.ts` processes on 127.0.0.1, for the partition and join tests. */

export const PASSWORD = 'correct horse'

export interface Proc {
  name: string
  child: ChildProcess
  log: () => string
  exited: Promise<number | null>
}

export function spawnCairn(t: TestContext, name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [CAIRN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  child.stderr!.on('data', (d) => {
    log += d
    if (process.env.CAIRN_TEST_VERBOSITY) process.stderr.write(`[${name}] ${d}`)
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => child.kill('SIGKILL'))
  return { name, child, log: () => log, exited }
}

export async function waitForLog(p: Proc, re: RegExp, ms = 20_000): Promise<RegExpExecArray> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    const m = re.exec(p.log())
    if (m) return m
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`${p.name}: no ${re} within ${ms} ms in:\n${p.log()}`)
}

/** The node's HTTP-RPC URL, from its startup log. */
export async function httpUrl(p: Proc): Promise<string> {
  return `http://${(await waitForLog(p, /HTTP server started endpoint=([\d.]+:\d+)/))[1]}`
}

export async function rpc(url: string, method: string, params: unknown[] = []): Promise<any> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }) })
  const answer = (await res.json()) as { result?: unknown; error?: { message: string } }
  if (answer.error !== undefined) throw new Error(`${method}: ${answer.error.message}`)
  return answer.result
}

export async function head(url: string): Promise<{ number: number; hash: string }> {
  const b = await rpc(url, 'eth_getBlockByNumber', ['latest', false])
  return { number: Number(b.number), hash: b.hash }
}

export async function waitUntil(what: string, cond: () => Promise<boolean>, ms: number): Promise<void> {
  const until = Date.now() + ms
  while (Date.now() < until) {
    if (await cond().catch(() => false)) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`)
}

/** A datadir initialised with `genesis`, holding `key` (if any) in its keystore, with password.txt. */
export async function datadir(t: TestContext, genesis: string, key?: string): Promise<string> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis)
  if (key !== undefined) {
    const keystore = new Keystore(join(dir, 'keystore'), { scryptN: LightScryptN, scryptP: LightScryptP })
    await keystore.importKey(hexToBytes(key as `0x${string}`), PASSWORD)
  }
  writeFileSync(join(dir, 'password.txt'), `${PASSWORD}\n`)
  return dir
}

/** Starts `cairn bootnode` on loopback; returns it and its multiaddr. */
export async function startBootnode(t: TestContext): Promise<{ proc: Proc; addr: string }> {
  const proc = spawnCairn(t, 'bootnode', ['bootnode', '--nodekey', join(tempDir(t), 'boot.key'), '--addr', '/ip4/127.0.0.1/tcp/0'])
  return { proc, addr: (await waitForLog(proc, /Started bootnode self=(\S+)/))[1] }
}
