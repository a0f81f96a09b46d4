// The import scenario (cairn only): a chain of dev transfers is generated once on the `cairn --dev` genesis and
// exported (cached under bench/results/cache/), then `cairn import`ed into fresh datadirs and timed.

import { existsSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../src/accounts/devAccounts.ts'
import { Chain } from '../src/chain/chain.ts'
import { exportBlockFile } from '../src/chain/importer.ts'
import { createLogger } from '../src/cli/log.ts'
import { devGenesis } from '../src/config/devGenesis.ts'
import type { CliqueEngine } from '../src/consensus/clique/engine.ts'
import { Sealer } from '../src/consensus/clique/sealer.ts'
import { CAIRN, cairnNodeArgs, procStats, removeTempDir, startProcess, tempDir } from './nodes.ts'
import { CHAIN_ID } from './workload.ts'

export interface ImportResult {
  blocks: number
  txs: number
  seconds: number
  blocksPerSec: number
  txPerSec: number
  peakRssMb: number
  /** the largest anonymous part of the resident set seen (sampled every 100 ms; see ProcStats.rssAnonMb) */
  peakRssAnonMb: number
}

const TXS_PER_BLOCK = 20

/**
 * Writes `chainFile` with `blocks` blocks of exactly `TXS_PER_BLOCK` transfers each, sealed in process by the dev
 * signer on the genesis `cairn --dev` uses (a node sealing at period 0 would cut blocks wherever arrivals fall).
 */
async function generateChain(blocks: number, gasLimit: number, chainFile: string, say: (line: string) => void): Promise<void> {
  const datadir = tempDir('cairn-bench-gen-')
  try {
    await Chain.init(datadir, JSON.stringify(devGenesis({ period: 0, gasLimit: BigInt(gasLimit) })))
    const chain = await Chain.open(datadir)
    try {
      const keys = devAccounts(10).map((a) => hexToBytes(a.privateKey as `0x${string}`))
      const nonces = keys.map(() => 0n)
      let next: TypedTransaction[] = []
      const sealer = new Sealer({
        chain,
        engine: chain.engine as CliqueEngine,
        signerKey: keys[0],
        interval: 0,
        log: createLogger(0),
        txs: { candidates: () => next, hasPending: () => true, onPending: () => () => {} },
      })
      const started = Date.now()
      for (let n = 1; n <= blocks; n++) {
        const common = chain.heads().latest.common
        next = Array.from({ length: TXS_PER_BLOCK }, (_, i) => {
          const k = i % keys.length
          const to = `0x${(n * TXS_PER_BLOCK + i).toString(16).padStart(40, '0')}` as const
          return createFeeMarket1559Tx({ chainId: BigInt(CHAIN_ID), nonce: nonces[k]++, to, value: 1n, gasLimit: 21_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n }, { common }).sign(keys[k])
        })
        const block = await sealer.sealNow()
        if (block.transactions.length !== TXS_PER_BLOCK) throw new Error(`chain generation: block ${n} holds ${block.transactions.length} transactions`)
        if (n % 1000 === 0) say(`  import chain: ${n}/${blocks} blocks (${((Date.now() - started) / 1000).toFixed(0)} s)`)
      }
      const partial = `${chainFile}.partial`
      await exportBlockFile(chain, partial, 1n)
      renameSync(partial, chainFile)
    } finally {
      await chain.close()
    }
  } finally {
    removeTempDir(datadir)
  }
}

export async function runImport(opts: { blocks: number; reps: number; cacheDir: string; gasLimit: number; say: (line: string) => void }): Promise<ImportResult[]> {
  const chainFile = join(opts.cacheDir, `import-${opts.blocks}.rlp`)
  const genesisFile = join(opts.cacheDir, `import-genesis-${opts.gasLimit}.json`)
  // the same genesis `cairn --dev` writes on its first start, so the exported blocks fit it
  writeFileSync(genesisFile, JSON.stringify(devGenesis({ period: 0, gasLimit: BigInt(opts.gasLimit) })))
  if (!existsSync(chainFile)) {
    opts.say(`generating the import chain (${opts.blocks} blocks × ${TXS_PER_BLOCK} transfers, cached in ${chainFile})`)
    await generateChain(opts.blocks, opts.gasLimit, chainFile, opts.say)
  }
  const results: ImportResult[] = []
  for (let rep = 0; rep < opts.reps; rep++) {
    const datadir = tempDir('cairn-bench-import-')
    try {
      const init = startProcess(process.execPath, [CAIRN, 'init', '--datadir', datadir, genesisFile])
      await init.exited
      if (init.child.exitCode !== 0) throw new Error(`cairn init failed:\n${init.log()}`)
      const importer = startProcess(process.execPath, [...cairnNodeArgs(), CAIRN, 'import', '--datadir', datadir, chainFile])
      let peakRssMb = 0
      let peakRssAnonMb = 0
      // /proc disappears with the process: sample the peak while it runs
      const sampler = setInterval(() => {
        try {
          // an exited, not yet reaped process has no VmHWM (NaN): keep the last real reading
          const { peakRssMb: now, rssAnonMb } = procStats(importer.child.pid!)
          if (Number.isFinite(now)) peakRssMb = Math.max(peakRssMb, now)
          if (Number.isFinite(rssAnonMb)) peakRssAnonMb = Math.max(peakRssAnonMb, rssAnonMb)
        } catch {}
      }, 100)
      await importer.exited
      clearInterval(sampler)
      const done = /Import done\s+blocks=(\d+)\s+skipped=\d+\s+txs=(\d+)\s+seconds=([\d.]+)/.exec(importer.log())
      if (importer.child.exitCode !== 0 || !done) throw new Error(`cairn import failed:\n${importer.log().slice(-2000)}`)
      const [blocks, txs, seconds] = [Number(done[1]), Number(done[2]), Number(done[3])]
      results.push({ blocks, txs, seconds, blocksPerSec: blocks / seconds, txPerSec: txs / seconds, peakRssMb, peakRssAnonMb })
      opts.say(`  import ${rep + 1}/${opts.reps}: ${blocks} blocks, ${txs} txs in ${seconds} s (${(blocks / seconds).toFixed(0)} blocks/s, ${(txs / seconds).toFixed(0)} tx/s)`)
    } finally {
      removeTempDir(datadir)
    }
  }
  return results
}
