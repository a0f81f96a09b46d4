import { writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'

import { CLIQUE_GENESIS_FORKS, DEFAULT_CLIQUE_EPOCH, GenesisOptionError, buildCliqueGenesis } from '../config/genesisBuilder.ts'
import type { CliqueGenesisFork, CliqueGenesisOptions } from '../config/genesisBuilder.ts'
import { UsageError } from './flags.ts'

const DEFAULT_GAS_LIMIT = 30_000_000n

const GENESIS_USAGE = `Usage: cairn genesis new --chain-id N --period S --signer ADDR... [options]

Writes a geth-format Clique genesis.json for \`cairn init\`, to stdout unless --out is given.

  --chain-id N           chain id (required)
  --period S             seconds between blocks; 0 seals only when transactions wait (required)
  --epoch E              blocks between Clique checkpoints (default: ${DEFAULT_CLIQUE_EPOCH})
  --signer ADDR          an initial signer (required; repeat the flag or separate with commas)
  --alloc ADDR=WEI       prefund ADDR with WEI wei, decimal or 0x hex (repeat or separate with commas)
  --fork NAME            newest fork active at genesis: ${CLIQUE_GENESIS_FORKS.join(', ')} (default: prague;
                         london if geth 1.13 nodes join, as its Clique stops there)
  --gas-limit G          block gas limit of the genesis (default: ${DEFAULT_GAS_LIMIT})
  --empty-blocks BOOL    false: refuse blocks without transactions (a cairn extension; default: true)
  --free-gas             a free-gas chain: base fee 0 forever (config.zeroBaseFee, as Besu), and nodes ask no
                         minimum tip unless --txpool.pricelimit / --miner.gasprice say otherwise
  --out FILE             write to FILE, which must not exist yet`

const OPTIONS = {
  'chain-id': { type: 'string' },
  period: { type: 'string' },
  epoch: { type: 'string' },
  signer: { type: 'string', multiple: true },
  alloc: { type: 'string', multiple: true },
  fork: { type: 'string' },
  'gas-limit': { type: 'string' },
  'empty-blocks': { type: 'string' },
  'free-gas': { type: 'boolean' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** `cairn genesis new ...`: returns the exit code (2 for bad usage or options, 1 when the file cannot be written). */
export function genesisCommand(args: string[]): number {
  let out: string | undefined
  let json: string
  try {
    const { values, positionals } = parseGenesisArgs(args)
    if (values.help) {
      process.stdout.write(`${GENESIS_USAGE}\n`)
      return 0
    }
    if (positionals[0] !== 'new') throw new UsageError(positionals[0] === undefined ? 'missing genesis command (new)' : `unknown genesis command ${JSON.stringify(positionals[0])}`)
    if (positionals.length > 1) throw new UsageError(`cairn genesis new takes no arguments, got ${JSON.stringify(positionals[1])}`)
    out = values.out
    json = `${JSON.stringify(buildCliqueGenesis(genesisOptions(values)), null, 2)}\n`
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof GenesisOptionError)) throw err
    process.stderr.write(`${err.message}\nRun \`cairn genesis --help\` for usage.\n`)
    return 2
  }
  if (out === undefined) {
    process.stdout.write(json)
    return 0
  }
  try {
    // 'wx': a genesis defines a chain, so never replace one by accident.
    writeFileSync(out, json, { flag: 'wx' })
  } catch (err) {
    process.stderr.write(`Fatal: could not write ${out}: ${(err as Error).message}\n`)
    return 1
  }
  process.stderr.write(`Wrote ${out}\n`)
  return 0
}

function parseGenesisArgs(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

type GenesisValues = ReturnType<typeof parseGenesisArgs>['values']

function genesisOptions(values: GenesisValues): CliqueGenesisOptions {
  return {
    chainId: integerOption('chain-id', required('chain-id', values['chain-id'])),
    period: integerOption('period', required('period', values.period)),
    epoch: values.epoch === undefined ? DEFAULT_CLIQUE_EPOCH : integerOption('epoch', values.epoch),
    signers: listOption(values.signer),
    alloc: listOption(values.alloc).map(allocEntry),
    // the builder refuses an unknown fork
    fork: (values.fork ?? 'prague') as CliqueGenesisFork,
    gasLimit: values['gas-limit'] === undefined ? DEFAULT_GAS_LIMIT : quantityOption('gas-limit', values['gas-limit']),
    emptyBlocks: booleanOption('empty-blocks', values['empty-blocks'] ?? 'true'),
    freeGas: values['free-gas'] === true,
  }
}

function required(name: string, value: string | undefined): string {
  if (value === undefined) throw new UsageError(`--${name} is required`)
  return value
}

/** Values of a repeatable flag, each of which may also be a comma-separated list. */
function listOption(values: string[] | undefined): string[] {
  return (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim())
}

function integerOption(name: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name}: expected a decimal integer, got ${JSON.stringify(value)}`)
  return Number(value)
}

function quantityOption(name: string, value: string): bigint {
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(value)) throw new UsageError(`--${name}: expected a decimal or 0x-hex integer, got ${JSON.stringify(value)}`)
  return BigInt(value)
}

function booleanOption(name: string, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new UsageError(`--${name}: expected true or false, got ${JSON.stringify(value)}`)
  return value === 'true'
}

function allocEntry(entry: string): { address: string; balance: bigint } {
  const [address, wei, ...rest] = entry.split('=')
  if (wei === undefined || rest.length > 0) throw new UsageError(`--alloc: expected ADDR=WEI, got ${JSON.stringify(entry)}`)
  if (!/^(\d+|0x[0-9a-fA-F]+)$/.test(wei)) throw new UsageError(`--alloc ${address}: expected a balance in wei (decimal or 0x hex), got ${JSON.stringify(wei)}`)
  return { address, balance: BigInt(wei) }
}
