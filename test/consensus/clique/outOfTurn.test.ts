import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { recoverSigner } from '../../../src/consensus/clique/seal.ts'
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

    // the peer's block is queued for import when the sealer's timer fires: the chain reports the import in flight
    // until the test lets it land
    let land!: () => void
    const landed = new Promise<void>((resolve) => (land = resolve))
    Object.defineProperty(own, 'importing', { get: () => true })
    own.settled = () => landed

    const sealer = sealerFor(own, outOfTurn.privateKey, { interval: 1 })
    const sealed: bigint[] = []
    sealer.on('sealed', (b) => sealed.push(b.header.number))
    sealer.start()
    t.after(() => sealer.stop())
    // out of turn at period 1 with 3 signers: the in-turn intake (300 ms) and a wiggle of up to 1 s, then the timer has fired
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    assert.equal(sealed.length, 0, 'sealed out of turn while a block for that height was being imported')

    assert.equal(await own.importBlock(peerBlock), 'imported')
    land()
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.equal(recoverSigner((await own.getHeaderByNumber(1n))!), inTurn.address.toLowerCase())
    assert.ok(!sealed.includes(1n), `sealed block 1 out of turn after the in-turn one landed (sealed: ${sealed.join(', ')})`)
  })
})
