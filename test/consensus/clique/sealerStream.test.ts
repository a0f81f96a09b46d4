import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createLogger } from '../../../src/cli/log.ts'
import type { CliqueEngine } from '../../../src/consensus/clique/engine.ts'
import { Sealer } from '../../../src/consensus/clique/sealer.ts'
import { deferCleanup } from '../../helpers.ts'
import { devChain, startPool, transfer } from '../../txpool/testkit.ts'

describe('Sealer under a steady stream of transactions', () => {
  it('seals at its period while transactions keep arriving, not only once they stop', { timeout: 60_000 }, async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const sealer = new Sealer({ chain: dc.chain, engine: dc.chain.engine as CliqueEngine, signerKey: dc.keys[0], txs: pool, interval: 1, log: createLogger(0) })
    const sealedWithTxs: number[] = []
    sealer.on('sealed', (b) => b.transactions.length > 0 && sealedWithTxs.push(Number(b.header.number)))
    sealer.start()
    deferCleanup(t, () => sealer.stop())

    // a transaction every 5 ms for 3.5 s from 8 senders: arrivals during every build
    const nonces: bigint[] = new Array<bigint>(8).fill(0n)
    const until = Date.now() + 3500
    let sent = 0
    while (Date.now() < until) {
      const from = 1 + (sent % 8)
      await pool.add(transfer(dc, from, nonces[from - 1]++))
      sent++
      await new Promise((r) => setTimeout(r, 5))
    }
    const duringStream = sealedWithTxs.length
    assert.ok(duringStream >= 2, `sealed ${duringStream} blocks with transactions during a 3.5 s stream at period 1 (want >= 2)`)
  })
})
