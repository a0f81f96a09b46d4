import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { after, before } from 'node:test'
import type { TestContext } from 'node:test'

import { bytesToHex, hexToBytes, privateToAddress } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { runCairn } from '../helpers.ts'
import { datadir, rpc, spawnCairn, waitForLog, waitUntil } from '../net/processKit.ts'
import type { Proc } from '../net/processKit.ts'
import { startDevNode, suiteDevNode } from './devchain.ts'
import type { DevNode, DevNodeOptions } from './devchain.ts'

type Cleanup = Pick<TestContext, 'after'>

/** A 2-sealer network, seen by the tool tests as its RPC sealer (shaped as a dev node); `stop` stops both. */
export interface SealerNetwork extends DevNode {
  /** the two signers, lowercase, in `cairn genesis new` order */
  signers: string[]
  sealers: Proc[]
}

export interface SealerNetworkOptions {
  /** `cairn genesis new --free-gas` */
  freeGas?: boolean
  /** Clique period in seconds (default 1) */
  period?: number
}

const API = 'eth,net,web3,clique,txpool'
const DEV_BALANCE = 10n ** 22n

/**
 * A 2-sealer Clique network of `bin/cairn.ts` processes on 127.0.0.1: a genesis from `cairn genesis new` naming two
 * fresh signers and prefunding the 10 development accounts (chain id 1337, as --dev, so the tool tests run
 * unchanged), a datadir per sealer with its key in an encrypted keystore, the second sealer dialling the first
 * over libp2p. The first sealer serves HTTP and WebSocket RPC; the second has none, so what it seals reaches the
 * tests only through the network.
 */
export async function startSealerNetwork(t: Cleanup, opts: SealerNetworkOptions = {}): Promise<SealerNetwork> {
  const ctx = t as TestContext
  const keys = [0, 1].map(() => bytesToHex(randomBytes(32)))
  const signers = keys.map((k) => bytesToHex(privateToAddress(hexToBytes(k))))
  const alloc = devAccounts(10).map((a) => `${a.address}=${DEV_BALANCE}`)
  const made = await runCairn(['genesis', 'new', '--chain-id', '1337', '--period', String(opts.period ?? 1), '--signer', signers.join(','), '--alloc', alloc.join(','), '--gas-limit', '60000000', ...(opts.freeGas ? ['--free-gas'] : [])])
  assert.equal(made.code, 0, made.stderr)
  const dirs = await Promise.all(keys.map((key) => datadir(ctx, made.stdout, key)))
  const sealerArgs = (i: number) => ['--datadir', dirs[i], '--addr', '127.0.0.1', '--port', '0', '--nodiscover', '--mine', '--unlock', signers[i], '--password', join(dirs[i], 'password.txt')]

  const first = spawnCairn(ctx, 'sealer1', [...sealerArgs(0), '--http', '--http.port', '0', '--http.api', API, '--ws', '--ws.port', '0', '--ws.api', API])
  const self = (await waitForLog(first, /Started P2P networking self=(\S+)/))[1].split(',')[0]
  const second = spawnCairn(ctx, 'sealer2', [...sealerArgs(1), '--staticnodes', self])
  const http = (await waitForLog(first, /HTTP server started endpoint=([\d.]+:\d+)/))[1]
  const ws = (await waitForLog(first, /WebSocket enabled\s+url=(ws:\/\/[\d.]+:\d+)/))[1]
  await Promise.all([first, second].map((p) => waitForLog(p, /Peer connected/)))
  const url = `http://${http}`
  // each signer seals every other block: block 2 means both are sealing
  await waitUntil('block 2 of the 2-sealer network', async () => Number(await rpc(url, 'eth_blockNumber')) >= 2, 30_000)
  return {
    url,
    wsUrl: ws,
    child: first.child,
    log: () => `--- sealer1\n${first.log()}\n--- sealer2\n${second.log()}`,
    signers,
    sealers: [first, second],
    stop: async () => {
      for (const p of [first, second]) p.child.kill('SIGTERM')
      const codes = await Promise.all([first.exited, second.exited])
      return codes.find((c) => c !== 0) ?? 0
    },
  }
}

/** The signers of blocks 1..head, from clique_getSigner. */
export async function signersOfBlocks(url: string): Promise<Set<string>> {
  const head = Number(await rpc(url, 'eth_blockNumber'))
  const seen = new Set<string>()
  for (let n = 1; n <= head; n++) seen.add(String(await rpc(url, 'clique_getSigner', [`0x${n.toString(16)}`])).toLowerCase())
  return seen
}

/** Where the tool tests run: the dev chain, or a 2-sealer network. */
export interface Target {
  name: string
  /** one running node for a `describe` (call it in the suite's body) */
  suite(options?: DevNodeOptions): () => DevNode
  /** one running node for a single test */
  start(t: Cleanup): Promise<DevNode>
  /** the name of a suite's last test, and its body: the dev node stops cleanly; the network proves both signers sealed */
  closing: string
  close(node: DevNode): Promise<void>
}

export const DEV: Target = {
  name: 'cairn --dev',
  suite: (options = {}) => suiteDevNode([], options),
  start: (t) => startDevNode(t),
  closing: 'stops cleanly',
  close: async (node) => assert.equal(await node.stop(), 0),
}

export const NETWORK: Target = {
  name: 'a 2-sealer network',
  suite: () => fileNetwork(),
  start: (t) => startSealerNetwork(t),
  closing: 'blocks were sealed by both signers',
  close: async (node) => {
    const { signers, url } = node as SealerNetwork
    assert.deepEqual([...(await signersOfBlocks(url))].sort(), [...signers].sort())
  },
}

export const TARGETS: Target[] = [DEV, NETWORK]

/** The file's network: its users are counted as suites register (at load), so the last one to finish stops it. */
const network = { started: undefined as Promise<SealerNetwork> | undefined, users: 0, cleanups: [] as (() => unknown)[] }

/** One 2-sealer network for every suite of a test file that asks: started before the first, killed after the last. */
function fileNetwork(): () => DevNode {
  network.users++
  let node: DevNode | undefined
  // hooks have no timeout of their own: a network that cannot start must fail the suite, not hold up the run
  before(async () => {
    network.started ??= startSealerNetwork({ after: (fn) => void network.cleanups.push(fn as () => unknown) })
    node = await network.started
  }, { timeout: 90_000 })
  after(async () => {
    if (--network.users > 0) return
    for (const fn of network.cleanups.reverse()) await fn()
  }, { timeout: 30_000 })
  return () => {
    if (node === undefined) throw new Error('the network has not started')
    return node
  }
}
