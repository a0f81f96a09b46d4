import { existsSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { ParseArgsOptionsConfig } from 'node:util'

import { generateKey } from '@libp2p/pnet'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

import { Bootnode } from '../net/bootnode.ts'
import { NODE_KEY_TYPES, writeNewNodeKey } from '../net/nodekey.ts'
import type { NodeKeyType } from '../net/nodekey.ts'
import { hostConfigFromFlags, listenAddr } from '../node/p2p.ts'
import { FLAGS, UsageError, intFlag } from './flags.ts'
import { createLogger } from './log.ts'

const KEY_USAGE = `Usage:
  cairn key generate --out FILE [--type secp256k1|ed25519] [--addr MULTIADDR]
      writes a new node key (for --nodekey) and prints its peer id; with --addr, also the multiaddr peers dial
      (ADDR/p2p/PEERID), for --bootnodes and --staticnodes. secp256k1 keys are stored as 64 hex characters
      (geth's nodekey format), others as hex of libp2p's protobuf key encoding.
  cairn key psk --out FILE
      writes a new libp2p private-network key (for --network.psk); give the same file to every node`

const BOOTNODE_USAGE = `Usage: cairn bootnode --nodekey FILE [--addr MULTIADDR] [options]

Runs a libp2p node that only helps peers find each other (no chain). Nodes name it in --bootnodes.

  --nodekey FILE         node key (created if absent; \`cairn key generate\` prints the peer id beforehand)
  --addr MULTIADDR       listen address (default: /ip4/0.0.0.0/tcp/30301)
  --announce MULTIADDR   comma separated addresses to advertise instead
  --nat extip:IP         advertise this IP instead of the listen address
  --bootnodes MULTIADDR  other bootnodes to stay connected with
  --maxpeers N           maximum number of peers (default: 200)
  --network.psk FILE     private network key, as the nodes use
  --network.allow IDS    comma separated peer ids: the only peers allowed
  --verbosity N          log level 0-5 (default: 3)`

/** `cairn key generate|psk ...`; returns the exit code. */
export async function keyCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parse(args, { out: { type: 'string' }, type: { type: 'string' }, addr: { type: 'string' }, help: { type: 'boolean', short: 'h' } })
    if (values.help) {
      process.stdout.write(`${KEY_USAGE}\n`)
      return 0
    }
    const [command, ...rest] = positionals
    if (command !== 'generate' && command !== 'psk') throw new UsageError(command === undefined ? 'missing key command (generate, psk)' : `unknown key command ${JSON.stringify(command)}`)
    if (rest.length > 0) throw new UsageError(`cairn key ${command} takes no arguments, got ${JSON.stringify(rest[0])}`)
    const out = values.out
    if (out === undefined) throw new UsageError('--out FILE is required')
    if (existsSync(out)) throw new UsageError(`${out} exists already: a key is never replaced`)
    if (command === 'psk') {
      const psk = new Uint8Array(95)
      generateKey(psk)
      writeFileSync(out, `${new TextDecoder().decode(psk)}\n`, { mode: 0o600, flag: 'wx' })
      process.stdout.write(`Wrote private network key ${out}\n`)
      return 0
    }
    const type = (values.type ?? 'secp256k1') as NodeKeyType
    if (!NODE_KEY_TYPES.includes(type)) throw new UsageError(`--type: expected ${NODE_KEY_TYPES.join(' or ')}, got ${JSON.stringify(values.type)}`)
    const addr = values.addr !== undefined ? listenAddr(values.addr, 30303) : undefined
    const peerId = peerIdFromPrivateKey(await writeNewNodeKey(out, type)).toString()
    process.stdout.write(`Peer ID: ${peerId}\n${addr !== undefined ? `Multiaddr: ${addr}/p2p/${peerId}\n` : ''}`)
    return 0
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\nRun \`cairn key --help\` for usage.\n`)
    return 2
  }
}

/** `cairn bootnode ...`: runs until SIGINT/SIGTERM; returns the exit code. */
export async function bootnodeCommand(args: string[]): Promise<number> {
  const str = { type: 'string' } as const
  let values
  try {
    values = parse(args, {
      nodekey: str,
      addr: str,
      announce: str,
      nat: str,
      bootnodes: str,
      maxpeers: str,
      'network.psk': str,
      'network.allow': str,
      verbosity: str,
      help: { type: 'boolean', short: 'h' },
    }).values
    if (values.help) {
      process.stdout.write(`${BOOTNODE_USAGE}\n`)
      return 0
    }
    if (values.nodekey === undefined) throw new UsageError('--nodekey FILE is required')
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    process.stderr.write(`${err.message}\nRun \`cairn bootnode --help\` for usage.\n`)
    return 2
  }
  const log = createLogger(intFlag(values.verbosity ?? FLAGS.verbosity.default, 'verbosity', 0, 5))
  let bootnode: Bootnode
  try {
    const cfg = await hostConfigFromFlags(
      {
        addr: values.addr ?? '/ip4/0.0.0.0/tcp/30301',
        port: '0',
        nat: values.nat,
        announce: values.announce,
        bootnodes: values.bootnodes,
        staticnodes: '',
        maxpeers: values.maxpeers ?? '200',
        nodiscover: false,
        'network.psk': values['network.psk'],
        'network.allow': values['network.allow'],
      },
      values.nodekey,
      log,
    )
    bootnode = await Bootnode.start(cfg, log)
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`)
      return 2
    }
    log.error((err as Error).message)
    return 1
  }
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      log.info(`Got ${signal}, shutting down...`)
      bootnode.stop().then(() => resolve(0), () => resolve(1))
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  })
}

function parse<O extends ParseArgsOptionsConfig>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true } as const)
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}
