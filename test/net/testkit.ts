import type { TestContext } from 'node:test'

import type { Block } from '@ethereumjs/block'
import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import type { Logger } from '../../src/cli/log.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { recoverSigner } from '../../src/consensus/clique/seal.ts'
import { RecoveryWorker } from '../../src/crypto/secp256k1.ts'
import { recoverSendersAhead } from '../../src/crypto/senders.ts'
import type { SenderRecovery } from '../../src/crypto/senders.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import type { SealerOptions } from '../../src/consensus/clique/sealer.ts'
import type { HostConfig } from '../../src/net/host.ts'
import { Network } from '../../src/net/network.ts'
import type { GossipTxPool } from '../../src/net/network.ts'
import { generateNodeKey } from '../../src/net/nodekey.ts'
import { Synchronizer } from '../../src/sync/synchronizer.ts'
import { deferCleanup, tempDir } from '../helpers.ts'

export const [A, B, C] = devAccounts(3)

/** A two-signer (A, B) Clique genesis; period 0 so tests seal on demand with Sealer.sealNow. */
export function genesisJson(opts: { chainId?: number; period?: number; signers?: string[] } = {}): string {
  return JSON.stringify(
    buildCliqueGenesis({ chainId: opts.chainId ?? 1337, period: opts.period ?? 0, epoch: 30000, signers: opts.signers ?? [A.address, B.address], alloc: [], fork: 'prague', gasLimit: 30_000_000n, emptyBlocks: true }),
  )
}

export async function openChain(t: TestContext, genesis: string): Promise<Chain> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis)
  const chain = await Chain.open(dir)
  deferCleanup(t, () => chain.close())
  return chain
}

export function sealerFor(chain: Chain, key: string, extra: Pick<SealerOptions, 'canSeal' | 'interval' | 'now' | 'random'> = {}): Sealer {
  return new Sealer({ chain, engine: chain.engine as CliqueEngine, signerKey: hexToBytes(key as `0x${string}`), log: testLogger(), ...extra })
}

/** Seals `count` blocks on `chain`, A and B alternating from `first`. */
export async function extend(chain: Chain, count: number, first: 'A' | 'B' = 'A'): Promise<Block[]> {
  const sealers = { A: sealerFor(chain, A.privateKey), B: sealerFor(chain, B.privateKey) }
  const out: Block[] = []
  let turn = first
  const head = chain.heads().latest
  // continue the alternation: whoever sealed the head may not seal the next block
  if (head.number > 0n) turn = recoverSigner(head) === A.address.toLowerCase() ? 'B' : 'A'
  for (let i = 0; i < count; i++) {
    out.push(await sealers[turn].sealNow())
    turn = turn === 'A' ? 'B' : 'A'
  }
  return out
}

/** Lines logged by a test node, for asserting on what it said. */
export interface CapturedLog {
  logger: Logger
  text: () => string
}

export function testLogger(): Logger {
  return createLogger(Number(process.env.CAIRN_TEST_VERBOSITY ?? 1))
}

export function captureLog(name: string): CapturedLog {
  let text = ''
  const echo = Number(process.env.CAIRN_TEST_VERBOSITY ?? 0) > 0
  const logger = createLogger(4, (line) => {
    text += line
    if (echo) process.stderr.write(`[${name}] ${line}`)
  })
  return { logger, text: () => text }
}

export interface NetNode {
  chain: Chain
  network: Network
  sync: Synchronizer
  log: CapturedLog
  /** the first listen address, with /p2p/PEERID */
  addr: string
}

export function hostConfig(overrides: Partial<HostConfig> & Pick<HostConfig, 'privateKey'>): HostConfig {
  return { listen: ['/ip4/127.0.0.1/tcp/0'], announce: [], bootnodes: [], staticNodes: [], maxPeers: 50, discovery: true, ...overrides }
}

/** A chain with networking and sync on 127.0.0.1, stopped when the test ends. */
export async function startNode(
  t: TestContext,
  name: string,
  chain: Chain,
  opts: { host?: Partial<HostConfig>; startupWaitMs?: number; syncIntervalMs?: number; gossipGraceMs?: number; banMs?: number; txpool?: GossipTxPool; recoverSenders?: SenderRecovery } = {},
): Promise<NetNode> {
  const log = captureLog(name)
  const { recoverSenders } = opts
  const network = await Network.create({ chain, host: hostConfig({ privateKey: await generateNodeKey(), ...opts.host }), log: log.logger, banMs: opts.banMs, txpool: opts.txpool, peerExchangeMs: 500, recoverSenders })
  const sync = new Synchronizer({ chain, network, log: log.logger, startupWaitMs: opts.startupWaitMs ?? 500, intervalMs: opts.syncIntervalMs ?? 1_000, gossipGraceMs: opts.gossipGraceMs, recoverSenders })
  await sync.serve()
  await network.start()
  sync.start()
  deferCleanup(t, async () => {
    sync.stop()
    await network.stop()
  })
  return { chain, network, sync, log, addr: network.node.getMultiaddrs()[0].toString() }
}

/** Sender recovery on a real worker thread that records the hashes of the transactions it was handed, call by call. */
export function recordingRecovery(t: TestContext): { recoverSenders: SenderRecovery; calls: string[][] } {
  const worker = RecoveryWorker.start()
  deferCleanup(t, () => worker.close())
  const calls: string[][] = []
  const recoverSenders: SenderRecovery = (txs) => {
    calls.push(txs.map((tx) => bytesToHex(tx.hash())))
    return recoverSendersAhead(worker, txs)
  }
  return { recoverSenders, calls }
}

export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (await cond()) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}
