import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { after, before } from 'node:test'
import type { TestContext } from 'node:test'

import { CAIRN, tempDir } from '../helpers.ts'

export interface DevNode {
  url: string
  /** the WebSocket endpoint when started with `ws: true` */
  wsUrl: string | undefined
  child: ChildProcess
  log: () => string
  stop(): Promise<number | null>
}

export interface DevNodeOptions {
  /** also serve JSON-RPC over WebSocket (on a free port) */
  ws?: boolean
}

type Cleanup = Pick<TestContext, 'after'>

/** Starts `cairn --dev` (its own datadir, free ports) as a process and resolves once its JSON-RPC servers listen. */
export function startDevNode(t: Cleanup, extra: string[] = [], options: DevNodeOptions = {}): Promise<DevNode> {
  const dir = tempDir(t as TestContext)
  const wsFlags = options.ws ? ['--ws', '--ws.port', '0'] : []
  const child = spawn(process.execPath, [CAIRN, '--dev', '--datadir', dir, '--http.port', '0', ...wsFlags, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cairn --dev did not start:\n${log}`)), 30_000)
    child.stderr!.on('data', (d) => {
      log += d
      const http = /HTTP server started endpoint=([\d.]+:\d+)/.exec(log)
      const ws = /WebSocket enabled\s+url=(ws:\/\/[\d.]+:\d+)/.exec(log)
      if (http && (ws || !options.ws)) {
        clearTimeout(timer)
        resolve({
          url: `http://${http[1]}`,
          wsUrl: ws?.[1],
          child,
          log: () => log,
          stop: async () => {
            child.kill('SIGTERM')
            return exited
          },
        })
      }
    })
    void exited.then((code) => reject(new Error(`cairn exited with ${code}:\n${log}`)))
  })
}

/**
 * One dev node for the tests of a `describe` (call it in the suite's body): started before the first test, killed
 * after the last. The returned function gives the running node.
 */
export function suiteDevNode(extra: string[] = [], options: DevNodeOptions = {}): () => DevNode {
  let node: DevNode | undefined
  const cleanups: (() => unknown)[] = []
  before(async () => {
    node = await startDevNode({ after: (fn) => void cleanups.push(fn as () => unknown) }, extra, options)
  })
  after(async () => {
    for (const fn of cleanups.reverse()) await fn()
  })
  return () => {
    if (node === undefined) throw new Error('the dev node has not started')
    return node
  }
}

/** Resolves when `subscribe` calls back, or fails after `ms`. */
export function within<T>(ms: number, subscribe: (deliver: (value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`nothing arrived within ${ms} ms`)), ms)
    subscribe((value) => {
      clearTimeout(timer)
      resolve(value)
    })
  })
}
