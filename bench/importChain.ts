// The import scenario (cairn only): a chain of dev transfers is generated once with `cairn --dev --dev.period 0` and
// exported (cached under bench/results/cache/), then `cairn import`ed into fresh datadirs and timed.

import { existsSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { SigningKey, Transaction } from 'ethers'

import { devAccounts } from '../src/accounts/devAccounts.ts'
import { devGenesis } from '../src/config/devGenesis.ts'
import { CAIRN, freePort, procStats, removeTempDir, startProcess, tempDir } from './nodes.ts'
import { CHAIN_ID, rpc, rpcBatch, waitFor } from './workload.ts'

export interface ImportResult {
  blocks: number
  txs: number
  seconds: number
  blocksPerSec: number
  txPerSec: number
  peakRssMb: number
}

const TXS_PER_BLOCK = 20

/** Writes `chainFile` (and its genesis) with at least `blocks` blocks of `TXS_PER_BLOCK` transfers each. */
async function generateChain(blocks: number, gasLimit: number, chainFile: string, say: (line: string) => void): Promise<void> {
  const datadir = tempDir('cairn-bench-gen-')
  const port = await freePort()
  const node = startProcess(process.execPath, [CAIRN, '--dev', '--dev.period', '0', '--dev.gaslimit', String(gasLimit), '--datadir', datadir, '--http.port', String(port), '--port', '0', '--maxpeers', '0'])
  const url = `http://127.0.0.1:${port}`
  try {
    await waitFor('cairn (chain generation) to serve', 60_000, async () => ((await rpc(url, 'eth_chainId')) ? true : undefined))
    const keys = devAccounts(10).map((a) => new SigningKey(a.privateKey))
    const nonces = keys.map(() => 0)
    const started = Date.now()
    let head = 0
    // period 0 seals as soon as transactions wait: one round of transfers is (about) one block
    for (let round = 0; round < blocks * 2 && head < blocks; round++) {
      const txs = Array.from({ length: TXS_PER_BLOCK }, (_, i) => {
        const k = i % keys.length
        const tx = Transaction.from({ type: 2, chainId: CHAIN_ID, nonce: nonces[k]++, to: `0x${(round * TXS_PER_BLOCK + i + 1).toString(16).padStart(40, '0')}`, value: 1n, gasLimit: 21_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n })
        tx.signature = keys[k].sign(tx.unsignedHash)
        return tx
      })
      const replies = await rpcBatch(url, txs.map((t) => ({ method: 'eth_sendRawTransaction', params: [t.serialized] })))
      const failed = replies.find((r) => r.error)
      if (failed) throw new Error(`chain generation: ${failed.error!.message}`)
      const last = txs[txs.length - 1].hash
      await waitFor('a generated block', 30_000, async () => ((await rpc(url, 'eth_getTransactionReceipt', [last])) ? true : undefined), 5)
      head = Number(await rpc<string>(url, 'eth_blockNumber'))
      if (round % 500 === 0) say(`  import chain: ${head}/${blocks} blocks (${((Date.now() - started) / 1000).toFixed(0)} s)`)
    }
    await node.stop()
    const partial = `${chainFile}.partial`
    const exported = startProcess(process.execPath, [CAIRN, 'export', '--datadir', datadir, partial])
    await exported.exited
    if (exported.child.exitCode !== 0) throw new Error(`cairn export failed:\n${exported.log()}`)
    renameSync(partial, chainFile)
  } finally {
    await node.stop()
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
      const importer = startProcess(process.execPath, [CAIRN, 'import', '--datadir', datadir, chainFile])
      let peakRssMb = 0
      // /proc disappears with the process: sample the peak while it runs
      const sampler = setInterval(() => {
        try {
          // an exited, not yet reaped process has no VmHWM (NaN): keep the last real reading
          const { peakRssMb: now } = procStats(importer.child.pid!)
          if (Number.isFinite(now)) peakRssMb = Math.max(peakRssMb, now)
        } catch {}
      }, 100)
      await importer.exited
      clearInterval(sampler)
      const done = /Import done\s+blocks=(\d+)\s+skipped=\d+\s+txs=(\d+)\s+seconds=([\d.]+)/.exec(importer.log())
      if (importer.child.exitCode !== 0 || !done) throw new Error(`cairn import failed:\n${importer.log().slice(-2000)}`)
      const [blocks, txs, seconds] = [Number(done[1]), Number(done[2]), Number(done[3])]
      results.push({ blocks, txs, seconds, blocksPerSec: blocks / seconds, txPerSec: txs / seconds, peakRssMb })
      opts.say(`  import ${rep + 1}/${opts.reps}: ${blocks} blocks, ${txs} txs in ${seconds} s (${(blocks / seconds).toFixed(0)} blocks/s, ${(txs / seconds).toFixed(0)} tx/s)`)
    } finally {
      removeTempDir(datadir)
    }
  }
  return results
}
