import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { recoverSigner } from '../../../src/consensus/clique/seal.ts'
import { deferCleanup } from '../../helpers.ts'
import { A, B, C, genesisJson, openChain, sealerFor } from '../../net/testkit.ts'

describe('an out-of-turn sealer and a peer block on its way', () => {
  it('waits for the import in flight, and seals nothing at that height once it made the head', { timeout: 30_000 }, async (t) => {
    const genesis = genesisJson({ period: 1, signers: [A.address, B.address, C.address] })
    const [own, peer] = [await openChain(t, genesis), await openChain(t, genesis)]
    // block 1 is the turn of the second signer by address; ours is another
    const sorted = [A, B, C].sort((x, y) => x.address.toLowerCase().localeCompare(y.address.toLowerCase()))
    const [inTurn, outOfTurn] = [sorted[1], sorted[2]]
    const peerBlock = await sealerFor(peer, inTurn.privateKey).sealNow()
    assert.equal(peerBlock.header.difficulty, 2n)

    // the peer's block is queued for import when the sealer's timer fires: the chain, as the sealer sees it, reports
    // the import in flight until the test lets it land
    let land!: () => void
    const landed = new Promise<void>((resolve) => (land = resolve))
    const importingChain = new Proxy(own, {
      get(target, prop) {
        if (prop === 'importing') return true
        if (prop === 'settled') return () => landed
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })

    const sealer = sealerFor(importingChain, outOfTurn.privateKey, { interval: 1 })
    const sealed: bigint[] = []
    sealer.on('sealed', (b) => sealed.push(b.header.number))
    sealer.start()
    deferCleanup(t, () => sealer.stop())
    // out of turn at period 1 with 3 signers: the in-turn intake (300 ms) and a wiggle of up to 1 s, then the timer has fired
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    assert.equal(sealed.length, 0, 'sealed out of turn while a block for that height was being imported')

    assert.equal(await own.importBlock(peerBlock), 'imported')
    land()
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(recoverSigner((await own.getHeaderByNumber(1n))!), inTurn.address.toLowerCase())
    assert.ok(!sealed.includes(1n), `sealed block 1 out of turn after the in-turn one landed (sealed: ${sealed.join(', ')})`)
  })

  it('waits as long as the latest in-turn blocks arrived late; its own blocks do not count as arrivals', { timeout: 30_000 }, async (t) => {
    const genesis = genesisJson({ period: 1, signers: [A.address, B.address, C.address] })
    const [own, peer] = [await openChain(t, genesis), await openChain(t, genesis)]
    // by address: block n is sorted[n % 3]'s turn; the sealer under test is sorted[0], out of turn at blocks 1, 2 and 5
    const sorted = [A, B, C].sort((x, y) => x.address.toLowerCase().localeCompare(y.address.toLowerCase()))
    const realSetTimeout = globalThis.setTimeout
    // a block stamped in the future is refused (as geth's clique does): each one is sealed once its second has come
    const untilSecond = async (s: bigint) => {
      while (Date.now() < Number(s) * 1000) await new Promise((r) => realSetTimeout(r, 20))
    }
    const block1 = await sealerFor(peer, sorted[1].privateKey).sealNow()
    await untilSecond(block1.header.timestamp + 1n)
    const block2 = await sealerFor(peer, sorted[2].privateKey).sealNow()
    assert.deepEqual([block1.header.difficulty, block2.header.difficulty], [2n, 2n])

    // the delay each attempt chooses, read off the timer it sets (random() = 0: no wiggle); no attempt fires
    const delays: number[] = []
    globalThis.setTimeout = ((_fn: () => void, ms?: number) => {
      delays.push(ms ?? 0)
      return realSetTimeout(() => {}, 0)
    }) as typeof setTimeout
    deferCleanup(t, () => {
      globalThis.setTimeout = realSetTimeout
    })
    let now = Number(block1.header.timestamp) * 1000 + 700
    const sealer = sealerFor(own, sorted[0].privateKey, { interval: 1, now: () => now, random: () => 0 })
    sealer.start()
    deferCleanup(t, () => sealer.stop())
    const delayOfAttempt = async (n: number) => {
      for (let i = 0; i < 200 && delays.length < n; i++) await new Promise((r) => setImmediate(r))
      assert.equal(delays.length, n, `attempt ${n} set no timer`)
      return delays[n - 1]
    }
    await delayOfAttempt(1)

    // block 1 arrives in turn 700 ms after its timestamp: the attempt at block 2 waits 700 ms past its time, not the 300 ms intake
    assert.equal(await own.importBlock(block1), 'imported')
    assert.equal(await delayOfAttempt(2), 1000 - 700 + 700)
    // block 2 arrives 100 ms late; block 3 is the sealer's own turn: at its time, no wait
    now = Number(block2.header.timestamp) * 1000 + 100
    assert.equal(await own.importBlock(block2), 'imported')
    assert.equal(await delayOfAttempt(3), 1000 - 100)

    // the sealer's own block 3 becomes the head 950 ms after its timestamp: no peer's lateness. Block 4 it may not
    // seal (signed recently); a peer's block 4 arrives in turn, 200 ms late
    await untilSecond(block2.header.timestamp + 1n)
    now = Number(block2.header.timestamp + 1n) * 1000 + 950
    const block3 = await sealer.sealNow()
    assert.equal(await peer.importBlock(block3), 'imported')
    await untilSecond(block3.header.timestamp + 1n)
    const block4 = await sealerFor(peer, sorted[1].privateKey).sealNow()
    now = Number(block4.header.timestamp) * 1000 + 200
    assert.equal(await own.importBlock(block4), 'imported')
    // block 5 is out of turn: it waits the longest lateness of the peers' in-turn blocks (700 ms), not its own 950
    assert.equal(await delayOfAttempt(4), 1000 - 200 + 700)
  })
})
