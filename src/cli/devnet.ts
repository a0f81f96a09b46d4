import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../accounts/devAccounts.ts'
import { Keystore, LightScryptN, LightScryptP } from '../accounts/keystore.ts'
import { Chain } from '../chain/chain.ts'
import { DEFAULT_CLIQUE_EPOCH, buildCliqueGenesis } from '../config/genesisBuilder.ts'
import { FLAGS, UsageError, intFlag } from './flags.ts'
import { createLogger } from './log.ts'
import type { Logger } from './log.ts'
import { NODE_FLAGS } from './nodeFlags.ts'

const USAGE = `Usage: cairn devnet --sealers N --workers M --datadir DIR [--base-port P] [--period S] [--verbosity V]

Runs a local Clique network as child processes: a bootnode, N sealers (the first N development accounts, each
key in its node's keystore) and M workers (RPC over HTTP and WebSocket), on chain id 1337 with the 10 development
accounts prefunded. Prints one JSON line {"nodes":[...]} once every node is up; Ctrl-C or SIGTERM stops them all.
The first run writes DIR (genesis.json, bootnode/, node1/ ...); later runs continue the same chain.

  --sealers N      sealing nodes, 1 to 10 (default 3)
  --workers M      non-sealing nodes serving RPC (default 1)
  --datadir DIR    where the network lives (required)
  --period S       seconds between blocks (default 2; 0 seals only when transactions wait)
  --base-port P    fixed ports: bootnode p2p P; node K (1-based, sealers first) p2p P+K, HTTP P+100+K,
                   WebSocket P+200+K (default: free ports)
  --verbosity V    the nodes' log level (default 3); each node logs to DIR/<node>/node.log`

/** `cairn --dev`'s chain id, so wallets and scripts set up for --dev work unchanged */
const DEVNET_CHAIN_ID = 1337
const DEV_BALANCE = 10_000n * 10n ** 18n
const DEVNET_GAS_LIMIT = 60_000_000n
/** every sealer's keystore password; these are the public development keys anyway */
const DEVNET_PASSWORD = 'devnet'
const STARTUP_TIMEOUT_MS = 60_000
const STOP_TIMEOUT_MS = 10_000
const CAIRN_BIN = new URL('../../bin/cairn.ts', import.meta.url).pathname

type Role = 'bootnode' | 'sealer' | 'worker'

interface NodeSpec {
  name: string
  role: Role
  datadir: string
  args: string[]
  /** log lines (as regexps with one capture) that must all appear before the node counts as up */
  waitFor: { rpc?: RegExp; ws?: RegExp; self: RegExp }
}

/** One entry of the JSON line devnet prints. */
export interface DevnetNode {
  role: Role
  rpc: string | null
  ws: string | null
  peerId: string
  /** where peers dial it: /ip4/127.0.0.1/tcp/PORT/p2p/PEERID */
  p2p: string
  pid: number
  datadir: string
}

/** `cairn devnet ...`: runs until SIGINT/SIGTERM; returns the exit code. */
export async function devnetCommand(args: string[]): Promise<number> {
  let opts
  try {
    opts = parseDevnetArgs(args)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\nRun \`cairn devnet --help\` for usage.\n`)
    return 2
  }
  if (opts === undefined) {
    process.stdout.write(`${USAGE}\n`)
    return 0
  }
  const log = createLogger(3)
  let specs
  try {
    specs = await prepareDevnet(opts, log)
  } catch (err) {
    log.error(`Devnet setup failed: ${(err as Error).message}`)
    return 1
  }
  return runDevnet(specs, opts, log)
}

interface DevnetOptions {
  sealers: number
  workers: number
  datadir: string
  period: number
  basePort: number | undefined
  verbosity: string
}

function parseDevnetArgs(args: string[]): DevnetOptions | undefined {
  let values
  try {
    const str = { type: 'string' } as const
    values = parseArgs({ args, options: { sealers: str, workers: str, datadir: str, period: str, 'base-port': str, verbosity: str, help: { type: 'boolean', short: 'h' } }, strict: true }).values
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
  if (values.help) return undefined
  if (values.datadir === undefined) throw new UsageError('--datadir DIR is required')
  const sealers = intFlag(values.sealers ?? '3', 'sealers', 1, 10)
  const workers = intFlag(values.workers ?? '1', 'workers', 0, 100)
  const basePort = values['base-port'] !== undefined ? intFlag(values['base-port'], 'base-port', 1, 65535 - 200 - sealers - workers) : undefined
  return { sealers, workers, datadir: resolve(values.datadir), period: intFlag(values.period ?? '2', 'period', 0, 86400), basePort, verbosity: String(intFlag(values.verbosity ?? FLAGS.verbosity.default, 'verbosity', 0, 5)) }
}

/**
 * Writes what the network needs on its first run (genesis, each node's initialised datadir, the sealers' keys with
 * light scrypt and their password files) and returns how to start each process; the bootnode and the nodes create
 * their node keys on first start.
 */
async function prepareDevnet(opts: DevnetOptions, log: Logger): Promise<NodeSpec[]> {
  const accounts = devAccounts(10)
  const genesisFile = join(opts.datadir, 'genesis.json')
  mkdirSync(opts.datadir, { recursive: true })
  if (!existsSync(genesisFile)) {
    const genesis = buildCliqueGenesis({
      chainId: DEVNET_CHAIN_ID,
      period: opts.period,
      epoch: DEFAULT_CLIQUE_EPOCH,
      signers: accounts.slice(0, opts.sealers).map((a) => a.address),
      alloc: accounts.map((a) => ({ address: a.address, balance: DEV_BALANCE })),
      fork: 'prague',
      gasLimit: DEVNET_GAS_LIMIT,
      emptyBlocks: true,
    })
    writeFileSync(genesisFile, `${JSON.stringify(genesis, null, 2)}\n`)
    log.info('Wrote devnet genesis', { file: genesisFile, sealers: opts.sealers })
  }
  const port = (offset: number) => String(opts.basePort !== undefined ? opts.basePort + offset : 0)
  const bootDir = join(opts.datadir, 'bootnode')
  mkdirSync(bootDir, { recursive: true })
  const specs: NodeSpec[] = [
    {
      name: 'bootnode',
      role: 'bootnode',
      datadir: bootDir,
      args: ['bootnode', '--nodekey', join(bootDir, 'nodekey'), '--addr', `/ip4/127.0.0.1/tcp/${port(0)}`, '--verbosity', opts.verbosity],
      waitFor: { self: /Started bootnode self=(\S+)/ },
    },
  ]
  const genesisJson = readFileSync(genesisFile, 'utf8')
  for (let k = 1; k <= opts.sealers + opts.workers; k++) {
    const sealer = k <= opts.sealers
    const name = `node${k}`
    const datadir = join(opts.datadir, name)
    await Chain.init(datadir, genesisJson)
    const common = ['--datadir', datadir, '--addr', '127.0.0.1', '--port', port(k), '--http', '--http.port', port(100 + k), '--verbosity', opts.verbosity]
    if (sealer) {
      const account = accounts[k - 1]
      const passwordFile = join(datadir, 'password.txt')
      writeFileSync(passwordFile, `${DEVNET_PASSWORD}\n`, { mode: 0o600 })
      const keystore = new Keystore(join(datadir, 'keystore'), { scryptN: LightScryptN, scryptP: LightScryptP })
      // a restart finds the key imported already
      if (!(await keystore.list()).some((a) => a.address === account.address)) await keystore.importKey(hexToBytes(account.privateKey as `0x${string}`), DEVNET_PASSWORD)
      specs.push({
        name,
        role: 'sealer',
        datadir,
        args: [...common, '--http.api', 'eth,net,web3,clique,txpool', '--mine', '--unlock', account.address, '--password', passwordFile],
        waitFor: { rpc: /HTTP server started endpoint=(\S+)/, self: /Started P2P networking self=(\S+)/ },
      })
    } else {
      specs.push({
        name,
        role: 'worker',
        datadir,
        args: [...common, '--http.api', 'eth,net,web3,clique,txpool,debug', '--ws', '--ws.port', port(200 + k), '--ws.api', 'eth,net,web3,clique,txpool,debug'],
        waitFor: { rpc: /HTTP server started endpoint=(\S+)/, ws: /WebSocket enabled url=(\S+)/, self: /Started P2P networking self=(\S+)/ },
      })
    }
  }
  return specs
}

interface Started {
  spec: NodeSpec
  child: ChildProcess
  node: DevnetNode
}

/** Starts the bootnode, then every node pointed at it; prints the JSON line; stops them all on a signal. */
async function runDevnet(specs: NodeSpec[], opts: DevnetOptions, log: Logger): Promise<number> {
  // every spawned child, ready or not, so a signal during startup stops the ones still starting too
  const children: ChildProcess[] = []
  let stopping = false
  let stopped: Promise<void> | undefined
  const stopAll = () => {
    stopping = true
    stopped ??= Promise.all(children.map(stopChild)).then(() => {})
    return stopped
  }
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve)
    process.once('SIGTERM', resolve)
  })
  signalled.then((signal) => {
    log.info(`Got ${signal}, stopping the devnet...`)
    return stopAll()
  })
  const onDeath = (s: Started, code: number | null, signal: NodeJS.Signals | null) => {
    if (stopping) return
    log.error('Devnet node exited', { node: s.spec.name, role: s.spec.role, pid: s.node.pid, code, signal, log: join(s.spec.datadir, 'node.log') })
  }
  const start = (spec: NodeSpec, extraArgs: string[]) => startChild(spec, extraArgs, (child) => children.push(child), onDeath)
  let nodes: DevnetNode[]
  try {
    const [bootSpec, ...nodeSpecs] = specs
    const boot = await start(bootSpec, [])
    const rest = await Promise.all(nodeSpecs.map((spec) => start(spec, ['--bootnodes', boot.node.p2p])))
    nodes = [boot, ...rest].map((s) => s.node)
  } catch (err) {
    if (!stopping) log.error(`Devnet failed to start: ${(err as Error).message}`)
    const code = stopping ? 0 : 1
    await stopAll()
    return code
  }
  if (stopping) {
    await stopAll()
    return 0
  }
  process.stdout.write(`${JSON.stringify({ nodes })}\n`)
  log.info('Devnet running', { nodes: nodes.length, datadir: opts.datadir })
  await signalled
  await stopAll()
  return 0
}

/** Spawns one node logging to DATADIR/node.log and resolves once its log has announced every endpoint. */
function startChild(spec: NodeSpec, extraArgs: string[], onSpawn: (child: ChildProcess) => void, onDeath: (s: Started, code: number | null, signal: NodeJS.Signals | null) => void): Promise<Started> {
  return new Promise((resolvePromise, reject) => {
    // a session of its own: Ctrl-C reaches only devnet, which stops the nodes itself (and says which died otherwise)
    const child = spawn(process.execPath, [...NODE_FLAGS, CAIRN_BIN, ...spec.args, ...extraArgs], { stdio: ['ignore', 'ignore', 'pipe'], detached: true })
    onSpawn(child)
    const logFile = createWriteStream(join(spec.datadir, 'node.log'), { flags: 'a' })
    child.stderr!.pipe(logFile)
    const found: { rpc?: string; ws?: string; self?: string } = {}
    let buffered = ''
    let started: Started | undefined
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${spec.name} did not start within ${STARTUP_TIMEOUT_MS / 1000} s; see ${join(spec.datadir, 'node.log')}`))
    }, STARTUP_TIMEOUT_MS)
    child.stderr!.on('data', (chunk: Buffer) => {
      if (started !== undefined) return
      buffered += chunk.toString()
      for (const key of ['rpc', 'ws', 'self'] as const) {
        const m = spec.waitFor[key]?.exec(buffered)
        if (m) found[key] = m[1]
      }
      if ((spec.waitFor.rpc === undefined || found.rpc) && (spec.waitFor.ws === undefined || found.ws) && found.self) {
        clearTimeout(timer)
        buffered = ''
        // the first advertised address; a devnet listens on 127.0.0.1 only
        const p2p = found.self.split(',')[0]
        started = {
          spec,
          child,
          node: {
            role: spec.role,
            rpc: found.rpc !== undefined ? `http://${found.rpc}` : null,
            ws: found.ws ?? null,
            peerId: p2p.slice(p2p.lastIndexOf('/p2p/') + 5),
            p2p,
            pid: child.pid!,
            datadir: spec.datadir,
          },
        }
        resolvePromise(started)
      }
    })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (started === undefined) reject(new Error(`${spec.name} exited with ${code ?? signal} during startup; see ${join(spec.datadir, 'node.log')}`))
      else onDeath(started, code, signal)
    })
  })
}

/** SIGTERM, then SIGKILL if the node has not stopped in time. */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolvePromise()
    })
    child.kill('SIGTERM')
  })
}
