import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'

import { bytesToHex } from '@ethereumjs/util'

import { devAccounts } from '../accounts/devAccounts.ts'
import { Chain } from '../chain/chain.ts'
import { UsageError, intFlag } from '../cli/flags.ts'
import type { Flags } from '../cli/flags.ts'
import type { Logger } from '../cli/log.ts'
import { devGenesis } from '../config/devGenesis.ts'
import { CliqueEngine } from '../consensus/clique/engine.ts'
import { Sealer } from '../consensus/clique/sealer.ts'
import { RecoveryWorker } from '../crypto/secp256k1.ts'
import { recoverSendersAhead } from '../crypto/senders.ts'
import type { SenderRecovery } from '../crypto/senders.ts'
import { startMetrics } from '../metrics/index.ts'
import { TxPool } from '../txpool/txpool.ts'
import { startP2p } from './p2p.ts'
import { withPortAdvice } from './ports.ts'
import { startRpc } from './rpc.ts'
import { loadNodeKeys } from './signer.ts'

/** A started part of the node; parts stop in the reverse order of their start. */
interface Service {
  name: string
  stop(): Promise<void>
}

/**
 * The composition root: builds the parts from flags, starts them in order, and stops them in reverse on
 * SIGINT/SIGTERM. Resolves with the process exit code.
 */
export async function runNode(flags: Flags, datadir: string, log: Logger): Promise<number> {
  if (flags.dev) await initDevDatadir(datadir, flags, log)
  const services: Service[] = []
  const stopAll = async () => {
    for (const s of services.reverse()) {
      try {
        await s.stop()
        log.debug(`Stopped ${s.name}`)
      } catch (err) {
        log.error(`Stopping ${s.name} failed: ${(err as Error).message}`)
      }
    }
  }
  try {
    const networkId = flags.networkid !== undefined ? BigInt(intFlag(flags.networkid, 'networkid', 1)) : undefined
    const chain = await Chain.open(datadir, networkId !== undefined ? { networkId } : {})
    services.push({ name: 'chain', stop: () => chain.close() })
    const head = chain.heads().latest
    log.info('Loaded chain', { datadir, chainId: chain.chainId, genesis: bytesToHex(chain.genesis.hash()), head: Number(head.number), hash: bytesToHex(head.hash()) })

    // a free-gas chain (genesis zeroBaseFee) asks no minimum tip unless the operator sets one, as Besu
    const freeGas = chain.genesisSpec.config.zeroBaseFee
    if (flags['dev.free-gas'] && !freeGas) log.warn('--dev.free-gas applies when the dev chain is created; this datadir already holds a chain with fees', { datadir })
    const txpool = new TxPool(chain, {
      journalPath: resolve(datadir, flags['txpool.journal'] ?? 'transactions.rlp'),
      rejournalMs: intFlag(flags['txpool.rejournal'], 'txpool.rejournal', 1) * 1000,
      priceLimit: BigInt(intFlag(flags['txpool.pricelimit'] ?? (freeGas ? '0' : '1'), 'txpool.pricelimit')),
      priceBump: BigInt(intFlag(flags['txpool.pricebump'], 'txpool.pricebump')),
      accountSlots: intFlag(flags['txpool.accountslots'], 'txpool.accountslots', 1),
      globalSlots: intFlag(flags['txpool.globalslots'], 'txpool.globalslots', 1),
      accountQueue: intFlag(flags['txpool.accountqueue'], 'txpool.accountqueue', 1),
      globalQueue: intFlag(flags['txpool.globalqueue'], 'txpool.globalqueue', 1),
      lifetimeMs: intFlag(flags['txpool.lifetime'], 'txpool.lifetime', 1) * 1000,
      noLocals: flags['txpool.nolocals'] === true,
      allowUnprotectedTxs: flags['rpc.allow-unprotected-txs'] === true,
      // blob transactions need a beacon chain's data availability; a Clique network has none
      allowBlobTxs: !chain.isClique,
      log,
    })
    await txpool.start()
    services.push({ name: 'txpool', stop: () => txpool.stop() })

    // one thread recovers transaction senders for the network (gossip, sync) and for RPC batches
    const recovery = RecoveryWorker.start()
    services.push({ name: 'sender recovery', stop: () => recovery.close() })
    const recoverSenders: SenderRecovery = (txs) => recoverSendersAhead(recovery, txs)

    // the sealer exists before RPC starts (clique_propose feeds it) and starts sealing last
    const { accounts, signerKey } = await loadNodeKeys(flags, datadir)
    // the network starts before the sealer, which waits while sync catches up with peers
    const p2p = await withPortAdvice('P2P address', '--port', () => startP2p(chain, txpool, recoverSenders, flags, datadir, log))
    if (p2p !== undefined) services.push({ name: 'network', stop: () => p2p.stop() })
    let sealer: Sealer | undefined
    if (signerKey !== undefined) {
      if (!(chain.engine instanceof CliqueEngine)) throw new UsageError('--mine needs a Clique chain: this genesis has no "clique" section')
      const minTip = BigInt(intFlag(flags['miner.gasprice'] ?? (freeGas ? '0' : '1000000000'), 'miner.gasprice'))
      sealer = new Sealer({
        chain,
        engine: chain.engine,
        signerKey,
        log,
        // geth's miner skips remote transactions tipping less than --miner.gasprice; local ones always go in
        txs: { candidates: (baseFee) => txpool.pendingByPriceAndNonce(baseFee, minTip), hasPending: () => txpool.hasPending(), onPending: (l) => txpool.onPending(l) },
        ...(flags['miner.gaslimit'] !== undefined ? { gasLimitTarget: BigInt(intFlag(flags['miner.gaslimit'], 'miner.gaslimit', 5000)) } : {}),
        ...(flags.dev ? { interval: intFlag(flags['dev.period'], 'dev.period') } : {}),
        ...(p2p !== undefined ? { canSeal: () => p2p.sync.canSeal() } : {}),
      })
      if (p2p !== undefined) sealer.on('sealed', (block) => void p2p.network.publishBlock(block))
    }

    const metrics = flags.metrics
      ? await withPortAdvice('metrics address', '--metrics.port', () =>
          startMetrics({ chain, txpool, ...(sealer !== undefined ? { sealer } : {}), ...(p2p !== undefined ? { p2p } : {}) }, flags['metrics.addr'] ?? '127.0.0.1', intFlag(flags['metrics.port'], 'metrics.port', 0, 65535), log),
        )
      : undefined
    if (metrics !== undefined) services.push(metrics)

    services.push(...(await startRpc(chain, flags, log, { txpool, recoverSenders, accounts, ...(sealer !== undefined ? { sealer } : {}), ...(p2p !== undefined ? { p2p } : {}), ...(metrics !== undefined ? { onCall: metrics.onCall } : {}) })))

    if (sealer !== undefined) {
      const s = sealer
      s.start()
      log.info('Sealing started', { signer: s.address })
      services.push({ name: 'sealer', stop: async () => s.stop() })
    }
  } catch (err) {
    await stopAll()
    throw err
  }

  // a follower with no RPC and nothing pending has no open handles; the node still runs until it is told to stop
  const keepAlive = setInterval(() => {}, 1 << 30)
  return new Promise((resolve) => {
    let stopping = false
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return
      stopping = true
      log.info(`Got ${signal}, shutting down...`)
      clearInterval(keepAlive)
      stopAll().then(() => resolve(0))
    }
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
  })
}

/** `--dev`: the first start writes the embedded development genesis; later starts continue its chain. */
async function initDevDatadir(datadir: string, flags: Flags, log: Logger): Promise<void> {
  printDevAccounts(log)
  if (existsSync(join(datadir, 'chaindata'))) return
  // period 0 in the genesis: the dev sealer keeps its own cadence (--dev.period), which may change between runs
  const genesis = devGenesis({ period: 0, gasLimit: BigInt(intFlag(flags['dev.gaslimit'], 'dev.gaslimit', 5000)), freeGas: flags['dev.free-gas'] })
  const { hash } = await Chain.init(datadir, JSON.stringify(genesis, null, 2))
  log.info('Created development chain', { datadir, chainId: 1337, genesis: bytesToHex(hash), ...(flags['dev.free-gas'] ? { freeGas: true } : {}) })
}

/** As Anvil and Hardhat do, so users can paste a key into MetaMask or a script. */
function printDevAccounts(log: Logger): void {
  const lines = devAccounts(10).map((a, i) => `(${i}) ${a.address} (10000 ETH)  private key ${a.privateKey}`)
  log.info(`Development accounts (mnemonic "test test test test test test test test test test test junk"; public test keys, never use them for real funds):\n${lines.join('\n')}`)
}
