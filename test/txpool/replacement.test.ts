import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { GWEI, devChain, legacy, refusal, startPool, transfer } from './testkit.ts'

const TIP = GWEI
const FEE_CAP = 3n * GWEI

describe('replacement by price bump (--txpool.pricebump, default 10%)', () => {
  for (const nonce of [0n, 5n]) {
    const where = nonce === 0n ? 'pending' : 'queued'
    it(`${where}: exactly +10% on both fee cap and tip replaces; less on either does not`, async (t) => {
      const dc = await devChain(t)
      const pool = await startPool(t, dc)
      const original = transfer(dc, 1, nonce, { tip: TIP, feeCap: FEE_CAP })
      await pool.add(original)
      const underpriced = 'replacement transaction underpriced'
      assert.equal(await refusal(pool.add(transfer(dc, 1, nonce, { tip: TIP, feeCap: FEE_CAP, value: 2n }))), underpriced)
      assert.equal(await refusal(pool.add(transfer(dc, 1, nonce, { tip: TIP, feeCap: 2n * FEE_CAP }))), underpriced)
      assert.equal(await refusal(pool.add(transfer(dc, 1, nonce, { tip: (TIP * 110n) / 100n - 1n, feeCap: (FEE_CAP * 110n) / 100n }))), underpriced)
      assert.equal(await refusal(pool.add(transfer(dc, 1, nonce, { tip: (TIP * 110n) / 100n, feeCap: (FEE_CAP * 110n) / 100n - 1n }))), underpriced)

      const replacement = transfer(dc, 1, nonce, { tip: (TIP * 110n) / 100n, feeCap: (FEE_CAP * 110n) / 100n })
      await pool.add(replacement)
      assert.equal(pool.get(bytesToHex(original.hash())), undefined)
      assert.equal(pool.get(bytesToHex(replacement.hash()))?.nonce, nonce)
      assert.deepEqual(pool.status(), nonce === 0n ? { pending: 1, queued: 0 } : { pending: 0, queued: 1 })
    })
  }

  it('legacy gas price: 100 -> 110 gwei replaces, 110 gwei - 1 wei does not', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(legacy(dc, 1, 0n, 100n * GWEI))
    assert.equal(await refusal(pool.add(legacy(dc, 1, 0n, 110n * GWEI - 1n))), 'replacement transaction underpriced')
    await pool.add(legacy(dc, 1, 0n, 110n * GWEI))
  })

  it('the bump rounds down but must still raise both prices', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { tip: 1n, feeCap: 9n }), { local: true })
    // 110% of 1 and 9 rounds to 1 and 9: equal prices are still no replacement
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { tip: 1n, feeCap: 10n }), { local: true })), 'replacement transaction underpriced')
    await pool.add(transfer(dc, 1, 0n, { tip: 2n, feeCap: 10n }), { local: true })
  })

  it('a configured bump (50%)', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc, { priceBump: 50n })
    await pool.add(transfer(dc, 1, 0n, { tip: 2n * GWEI, feeCap: 4n * GWEI }))
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { tip: 3n * GWEI, feeCap: 6n * GWEI - 1n }))), 'replacement transaction underpriced')
    await pool.add(transfer(dc, 1, 0n, { tip: 3n * GWEI, feeCap: 6n * GWEI }))
  })

  it('replacing a pending transaction announces the new one as pending', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n))
    const announced: string[] = []
    pool.on('pending', (txs) => announced.push(...txs.map((tx) => tx.hash)))
    const replacement = transfer(dc, 1, 0n, { tip: 2n * GWEI, feeCap: 4n * GWEI })
    await pool.add(replacement)
    assert.deepEqual(announced, [bytesToHex(replacement.hash())])
  })
})
