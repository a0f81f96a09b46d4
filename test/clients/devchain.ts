import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import type { TestContext } from 'node:test'

import { CAIRN, tempDir } from '../helpers.ts'

export interface DevNode {
  url: string
  child: ChildProcess
  log: () => string
  stop(): Promise<number | null>
}

/** Starts `cairn --dev` (its own datadir, a free port) as a process and resolves once JSON-RPC answers. */
export function startDevNode(t: TestContext, extra: string[] = []): Promise<DevNode> {
  const dir = tempDir(t)
  const child = spawn(process.execPath, [CAIRN, '--dev', '--datadir', dir, '--http.port', '0', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.after(() => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cairn --dev did not start:\n${log}`)), 30_000)
    child.stderr!.on('data', (d) => {
      log += d
      const m = /HTTP server started endpoint=([\d.]+:\d+)/.exec(log)
      if (m) {
        clearTimeout(timer)
        resolve({
          url: `http://${m[1]}`,
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
