import { parseArgs } from 'node:util'

/**
 * Every flag cairn accepts, declared once: parsing, defaults and `--help` come from this table. Names follow
 * geth. Flags whose feature lands later are accepted now and say so in their help, so scripts written for the
 * final interface do not break.
 */
export const FLAGS = {
  datadir: { type: 'string', help: 'Data directory for the databases and keystore', default: '' },
  networkid: { type: 'string', help: 'Network identifier (default: the chain id)' },
  verbosity: { type: 'string', help: 'Log level: 0=silent, 1=error, 2=warn, 3=info, 4=debug, 5=trace', default: '3' },
  http: { type: 'boolean', help: 'Enable the HTTP-RPC server' },
  'http.addr': { type: 'string', help: 'HTTP-RPC server listening interface', default: '127.0.0.1' },
  'http.port': { type: 'string', help: 'HTTP-RPC server listening port', default: '8545' },
  'http.api': { type: 'string', help: "API's offered over the HTTP-RPC interface", default: 'eth,net,web3' },
  'http.corsdomain': { type: 'string', help: 'Comma separated list of domains from which to accept cross origin requests', default: '' },
  'http.vhosts': { type: 'string', help: 'Comma separated list of virtual hostnames from which to accept requests ("*" for any)', default: 'localhost' },
  ws: { type: 'boolean', help: 'Enable the WS-RPC server' },
  'ws.addr': { type: 'string', help: 'WS-RPC server listening interface', default: '127.0.0.1' },
  'ws.port': { type: 'string', help: 'WS-RPC server listening port', default: '8546' },
  'ws.api': { type: 'string', help: "API's offered over the WS-RPC interface", default: 'eth,net,web3' },
  'ws.origins': { type: 'string', help: 'Origins from which to accept websockets requests', default: '' },
  port: { type: 'string', help: 'Network listening port (0: any free port)', default: '30303' },
  addr: { type: 'string', help: 'Network listening address: an IP, or a whole multiaddr (then --port is ignored)', default: '0.0.0.0' },
  nodekey: { type: 'string', help: 'P2P node key file (default: DATADIR/nodekey, created on first start; `cairn key generate` makes one)' },
  bootnodes: { type: 'string', help: 'Comma separated bootnode multiaddrs (/ip4/IP/tcp/PORT/p2p/PEERID)', default: '' },
  staticnodes: { type: 'string', help: 'Comma separated multiaddrs of peers to keep connected, discovery or not', default: '' },
  maxpeers: { type: 'string', help: 'Maximum number of network peers (0: networking off)', default: '50' },
  nodiscover: { type: 'boolean', help: 'Disables peer discovery: no bootnodes, no peer exchange (static nodes are still dialled)' },
  nat: { type: 'string', help: 'extip:IP advertises IP instead of the listen address (none/any: advertise the listen address)', default: '' },
  announce: { type: 'string', help: 'Comma separated multiaddrs to advertise instead of the listen address', default: '' },
  'network.psk': { type: 'string', help: 'Private network: libp2p pre-shared key file (`cairn key psk` makes one); peers without it cannot connect' },
  'network.allow': { type: 'string', help: 'Comma separated peer ids: the only peers allowed to connect, either way', default: '' },
  'rpc.txfeecap': { type: 'string', help: 'Sets a cap on transaction fee (in ether) that can be sent via the RPC APIs (0 = no cap)', default: '1' },
  'rpc.gascap': { type: 'string', help: 'Sets a cap on gas that can be used in eth_call/estimateGas (0=infinite)', default: '50000000' },
  'rpc.evmtimeout': { type: 'string', help: 'Sets a timeout used for eth_call (0=infinite)', default: '5s' },
  'rpc.allow-unprotected-txs': { type: 'boolean', help: 'Allow for unprotected (non EIP155 signed) transactions to be submitted via RPC' },
  'txpool.nolocals': { type: 'boolean', help: 'Disables price exemptions for locally submitted transactions' },
  'txpool.journal': { type: 'string', help: 'Disk journal for local transactions to survive node restarts', default: 'transactions.rlp' },
  'txpool.rejournal': { type: 'string', help: 'Time interval to regenerate the local transaction journal, in seconds', default: '3600' },
  'txpool.pricelimit': { type: 'string', help: 'Minimum gas price tip to enforce for acceptance into the pool (wei) (default: 1; 0 on a zeroBaseFee chain)' },
  'txpool.pricebump': { type: 'string', help: 'Price bump percentage to replace an already existing transaction', default: '10' },
  'txpool.accountslots': { type: 'string', help: 'Minimum number of executable transaction slots guaranteed per account', default: '16' },
  'txpool.globalslots': { type: 'string', help: 'Maximum number of executable transaction slots for all accounts', default: '5120' },
  'txpool.accountqueue': { type: 'string', help: 'Maximum number of non-executable transaction slots permitted per account', default: '64' },
  'txpool.globalqueue': { type: 'string', help: 'Maximum number of non-executable transaction slots for all accounts', default: '1024' },
  'txpool.lifetime': { type: 'string', help: 'Maximum amount of time non-executable transactions are queued, in seconds', default: '10800' },
  'miner.gasprice': { type: 'string', help: 'Minimum tip (wei) a remote transaction must pay to be sealed (default: 1000000000; 0 on a zeroBaseFee chain)' },
  'miner.gaslimit': { type: 'string', help: 'Target gas ceiling for sealed blocks (default: keep the parent\'s)' },
  mine: { type: 'boolean', help: 'Enable sealing' },
  unlock: { type: 'string', help: 'Comma separated list of accounts to unlock', default: '' },
  password: { type: 'string', help: 'Password file to use for non-interactive password input' },
  'allow-insecure-unlock': { type: 'boolean', help: 'Allow insecure account unlocking when account-related RPCs are exposed by http' },
  'miner.etherbase': { type: 'string', help: 'Signer address for sealing (its key must be among --unlock)' },
  metrics: { type: 'boolean', help: 'Serve Prometheus metrics (/metrics) and health checks (/liveness, /readiness?minPeers=&maxBlocksBehind=)' },
  'metrics.addr': { type: 'string', help: 'Metrics and health server listening interface', default: '127.0.0.1' },
  'metrics.port': { type: 'string', help: 'Metrics and health server listening port (0: any free port)', default: '6060' },
  dev: { type: 'boolean', help: 'Single-sealer development chain from an embedded genesis, with prefunded development accounts' },
  'dev.period': { type: 'string', help: 'Block period of the dev chain in seconds (0 = seal on demand)', default: '1' },
  'dev.gaslimit': { type: 'string', help: 'Block gas limit of the dev chain', default: '60000000' },
  'dev.free-gas': { type: 'boolean', help: 'First start only: the dev chain is a free-gas chain (genesis zeroBaseFee: base fee and minimum tips 0)' },
  help: { type: 'boolean', short: 'h', help: 'Show help' },
  version: { type: 'boolean', help: 'Print the version' },
} as const

export type FlagName = keyof typeof FLAGS
export type Flags = { [K in FlagName]: (typeof FLAGS)[K]['type'] extends 'boolean' ? boolean : string | undefined }

export class UsageError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

export function parseFlags(argv: string[]): { flags: Flags; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string }> = {}
  for (const [name, f] of Object.entries(FLAGS)) {
    options[name] = { type: f.type, ...('short' in f ? { short: f.short } : {}), ...('default' in f && f.default !== '' ? { default: f.default } : {}) }
  }
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
    return { flags: values as unknown as Flags, positionals }
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

export function flagsHelp(): string {
  const rows = Object.entries(FLAGS).map(([name, f]) => {
    const arg = f.type === 'string' ? ' value' : ''
    const def = 'default' in f && f.default !== '' ? ` (default: ${f.default})` : ''
    return [`  --${name}${arg}`, `${f.help}${def}`]
  })
  const width = Math.max(...rows.map((r) => r[0].length)) + 2
  return rows.map(([a, b]) => a.padEnd(width) + b).join('\n')
}

export function intFlag(v: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(v)
  if (v === undefined || !/^\d+$/.test(v) || n < min || n > max) throw new UsageError(`--${name}: expected an integer in [${min}, ${max}], got ${JSON.stringify(v)}`)
  return n
}
