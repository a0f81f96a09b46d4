import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { peerIdFromPrivateKey } from '@libp2p/peer-id'

import { decodeNodeKey, encodeNodeKey, generateNodeKey, loadOrCreateNodeKey } from '../../src/net/nodekey.ts'
import { RateLimiter } from '../../src/net/wire.ts'
import { runCairn, tempDir } from '../helpers.ts'

describe('node keys', () => {
  it('secp256k1 keys are stored as geth nodekey hex, ed25519 as libp2p protobuf hex; both round-trip', async () => {
    const secp = await generateNodeKey('secp256k1')
    assert.match(encodeNodeKey(secp), /^[0-9a-f]{64}$/)
    const ed = await generateNodeKey('ed25519')
    assert.match(encodeNodeKey(ed), /^08011240[0-9a-f]{128}$/)
    for (const key of [secp, ed]) assert.ok(decodeNodeKey(`${encodeNodeKey(key)}\n`, 'f').equals(key))
    // a geth nodekey file (0x prefix tolerated) gives the same secp256k1 key
    const geth = '0x' + 'ab'.repeat(32)
    assert.equal(encodeNodeKey(decodeNodeKey(geth, 'f')), 'ab'.repeat(32))
    assert.throws(() => decodeNodeKey('zz', 'nodekey'), /invalid node key nodekey: expected hex/)
  })

  it('the first start creates DATADIR/nodekey (mode 0600), later starts keep its identity', async (t) => {
    const file = join(tempDir(t), 'nodekey')
    const first = await loadOrCreateNodeKey(file)
    assert.equal(first.created, true)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    const again = await loadOrCreateNodeKey(file)
    assert.equal(again.created, false)
    assert.equal(peerIdFromPrivateKey(again.key).toString(), peerIdFromPrivateKey(first.key).toString())
  })

  it('cairn key generate prints the peer id and multiaddr of the key it writes, and never overwrites', async (t) => {
    const file = join(tempDir(t), 'boot.key')
    const r = await runCairn(['key', 'generate', '--out', file, '--addr', '/ip4/10.0.0.1/tcp/30301'])
    assert.equal(r.code, 0, r.stderr)
    const id = peerIdFromPrivateKey(decodeNodeKey(readFileSync(file, 'utf8'), file)).toString()
    assert.equal(r.stdout, `Peer ID: ${id}\nMultiaddr: /ip4/10.0.0.1/tcp/30301/p2p/${id}\n`)
    const again = await runCairn(['key', 'generate', '--out', file])
    assert.equal(again.code, 2)
    assert.match(again.stderr, /exists already: a key is never replaced/)
  })
})

describe('request rate limit', () => {
  it('a token bucket per peer: a burst, then the refill rate', () => {
    let now = 0
    const limiter = new RateLimiter({ burst: 10, perSecond: 5, now: () => now })
    assert.equal(limiter.take('a', 10), true)
    assert.equal(limiter.take('a', 1), false, 'burst spent')
    assert.equal(limiter.take('b', 10), true, 'buckets are per peer')
    now += 1_000
    assert.equal(limiter.take('a', 5), true, 'five tokens refilled in a second')
    assert.equal(limiter.take('a', 1), false)
    now += 60_000
    assert.equal(limiter.take('a', 11), false, 'never more than the burst')
  })
})
