import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

import { bytesToHex } from '@ethereumjs/util'

import { VERSION } from '../node/version.ts'
import { FLAGS, UsageError, flagsHelp, intFlag, parseFlags } from './flags.ts'
import type { Flags } from './flags.ts'
import { createLogger } from './log.ts'

const COMMANDS = {
  init: 'cairn init --datadir DIR genesis.json          write a geth genesis into a new datadir',
  import: 'cairn import --datadir DIR FILE...            import blocks exported by `geth export` (or cairn export)',
  export: 'cairn export --datadir DIR FILE [FIRST [LAST]]  write canonical blocks in geth export format',
  account: 'cairn account new|list|import KEYFILE          manage the keystore as `geth account` (--datadir, --password)',
  genesis: 'cairn genesis new --chain-id N ...             write a Clique genesis.json (cairn genesis --help)',
  key: 'cairn key generate --out FILE [--addr MULTIADDR]  write a p2p node key and print its peer id (cairn key --help)',
  bootnode: 'cairn bootnode --nodekey FILE --addr MULTIADDR  run a bootnode that helps peers find each other',
  devnet: 'cairn devnet --sealers N --workers M --datadir DIR  run a local Clique network of child processes (cairn devnet --help)',
  node: 'cairn [flags]                                 run a node (--http to serve JSON-RPC)',
} as const

function usage(): string {
  return [
    `cairn ${VERSION}: an Ethereum-compatible Clique proof-of-authority node`,
    '',
    'Commands:',
    ...Object.values(COMMANDS).map((c) => `  ${c}`),
    '',
    'Flags:',
    flagsHelp(),
  ].join('\n')
}

function defaultDatadir(flags: Flags): string {
  if (flags.datadir) return resolve(flags.datadir)
  return flags.dev ? resolve('.cairn-dev') : join(homedir(), '.cairn')
}

export async function main(argv: string[]): Promise<number> {
  // These commands take their own flags, so they are dispatched before the node flags are parsed. Modules load on
  // demand: loading the node (libp2p, the EVM) takes seconds that `account new` or `genesis new` need not wait.
  if (argv[0] === 'account') return (await import('./account.ts')).accountCommand(argv.slice(1))
  if (argv[0] === 'genesis') return (await import('./genesis.ts')).genesisCommand(argv.slice(1))
  if (argv[0] === 'key') return (await import('./p2p.ts')).keyCommand(argv.slice(1))
  if (argv[0] === 'bootnode') return (await import('./p2p.ts')).bootnodeCommand(argv.slice(1))
  if (argv[0] === 'devnet') return (await import('./devnet.ts')).devnetCommand(argv.slice(1))
  let parsed
  try {
    parsed = parseFlags(argv)
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nRun \`cairn --help\` for usage.\n`)
    return 2
  }
  const { flags, positionals } = parsed
  if (flags.help) {
    process.stdout.write(`${usage()}\n`)
    return 0
  }
  if (flags.version) {
    process.stdout.write(`cairn ${VERSION}\n`)
    return 0
  }
  const log = createLogger(intFlag(flags.verbosity ?? FLAGS.verbosity.default, 'verbosity', 0, 5))
  const [command, ...args] = positionals
  const datadir = defaultDatadir(flags)
  try {
    const { Chain } = await import('../chain/chain.ts')
    const { exportBlockFile, importBlockFiles } = await import('../chain/importer.ts')
    switch (command) {
      case 'init': {
        if (args.length !== 1) throw new UsageError(`usage: ${COMMANDS.init}`)
        const { hash, created } = await Chain.init(datadir, readFileSync(args[0], 'utf8'))
        log.info(created ? 'Successfully wrote genesis state' : 'Genesis already written, nothing to do', { datadir, hash: bytesToHex(hash) })
        return 0
      }
      case 'import': {
        if (args.length === 0) throw new UsageError(`usage: ${COMMANDS.import}`)
        const chain = await Chain.open(datadir)
        try {
          const stats = await importBlockFiles(chain, args, (line) => log.info(line))
          const head = chain.heads().latest
          log.info('Import done', { blocks: stats.imported, skipped: stats.skipped, txs: stats.txs, seconds: stats.seconds.toFixed(2), head: Number(head.number), hash: bytesToHex(head.hash()) })
        } catch (err) {
          const head = chain.heads().latest
          log.error(`Import failed: ${(err as Error).message}`, { head: Number(head.number), hash: bytesToHex(head.hash()) })
          return 1
        } finally {
          await chain.close()
        }
        return 0
      }
      case 'export': {
        if (args.length < 1 || args.length > 3) throw new UsageError(`usage: ${COMMANDS.export}`)
        const chain = await Chain.open(datadir)
        try {
          const first = args[1] !== undefined ? BigInt(intFlag(args[1], 'FIRST')) : 0n
          const last = args[2] !== undefined ? BigInt(intFlag(args[2], 'LAST')) : undefined
          const n = await exportBlockFile(chain, args[0], first, last)
          log.info('Exported blockchain', { file: args[0], blocks: n })
        } finally {
          await chain.close()
        }
        return 0
      }
      case undefined:
        return await (await import('../node/node.ts')).runNode(flags, datadir, log)
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}; run \`cairn --help\``)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n`)
      return 2
    }
    log.error((err as Error).message)
    return 1
  }
}
