import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { Chain } from '../../src/chain/chain.ts'
import { fixture, runCairn, tempDir } from '../helpers.ts'

describe('cairn CLI', () => {
  it('--help lists the commands and geth-style flags', async () => {
    const r = await runCairn(['--help'])
    assert.equal(r.code, 0)
    for (const s of ['cairn init', 'cairn import', 'cairn export', '--datadir', '--http.port', '--http.api', '--networkid', '--nodiscover', '--verbosity']) assert.ok(r.stdout.includes(s), s)
  })

  it('an unknown flag or command is a usage error', async () => {
    assert.equal((await runCairn(['--no-such-flag'])).code, 2)
    const r = await runCairn(['frobnicate'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /unknown command "frobnicate"/)
  })

  it('init, import, export, and a refused second genesis', async (t) => {
    const dir = tempDir(t)
    const init = await runCairn(['init', '--datadir', dir, fixture('clique/besu-private/genesis.geth.json')])
    assert.equal(init.code, 0, init.stderr)
    assert.match(init.stderr, /Successfully wrote genesis state .*hash=0x815c2ed5/)
    const again = await runCairn(['init', '--datadir', dir, fixture('clique/besu-private/genesis.geth.json')])
    assert.equal(again.code, 0)
    const other = await runCairn(['init', '--datadir', dir, fixture('clique/rinkeby/genesis.geth.json')])
    assert.equal(other.code, 1)
    assert.match(other.stderr, /database contains incompatible genesis/)

    const imp = await runCairn(['import', '--datadir', dir, fixture('clique/besu-private/clique.blocks')])
    assert.equal(imp.code, 0, imp.stderr)
    assert.match(imp.stderr, /Import done blocks=4 skipped=1 txs=4 .*head=4 hash=0xae48cf1e/)
    const out = join(dir, 'out.rlp')
    const exp = await runCairn(['export', '--datadir', dir, out, '1', '4'])
    assert.equal(exp.code, 0, exp.stderr)
    assert.match(exp.stderr, /Exported blockchain .*blocks=4/)
  })

  it('an invalid block makes import exit non-zero naming the block and the reason', async (t) => {
    const dir = tempDir(t)
    await runCairn(['init', '--datadir', dir, fixture('execution-apis/genesis.json')])
    const bad = join(dir, 'bad.rlp')
    writeFileSync(bad, Uint8Array.of(0xc5, 0x01))
    const r = await runCairn(['import', '--datadir', dir, bad])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /Import failed: .*bad\.rlp: item 0 at byte 0: truncated/)
  })

  it('a listen port in use is refused, naming the flag that moves it', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t)
    await runCairn(['init', '--datadir', dir, fixture('clique/rinkeby/genesis.geth.json')])
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    t.after(() => holder.close())
    const port = String((holder.address() as AddressInfo).port)
    const cases = [
      ['P2P', ['--port', port], '--port'],
      ['HTTP-RPC', ['--port', '0', '--http', '--http.port', port], '--http.port'],
      ['WebSocket-RPC', ['--port', '0', '--ws', '--ws.port', port], '--ws.port'],
      ['metrics', ['--port', '0', '--metrics', '--metrics.port', port], '--metrics.port'],
    ] as const
    for (const [what, args, flag] of cases) {
      const r = await runCairn(['--datadir', dir, '--addr', '127.0.0.1', '--nodiscover', ...args], { timeoutMs: 30_000 })
      assert.equal(r.code, 1, `${what}: ${r.stderr}`)
      assert.ok(r.stderr.includes(`${what} address 127.0.0.1:${port} is in use by another process: stop that process, or choose another port with ${flag}`), `${what}: ${r.stderr}`)
    }
  })

  it('a datadir in use by another process is refused', async (t) => {
    const dir = tempDir(t)
    await Chain.init(dir, (await import('node:fs')).readFileSync(fixture('clique/rinkeby/genesis.geth.json'), 'utf8'))
    const chain = await Chain.open(dir)
    t.after(() => chain.close())
    const r = await runCairn(['import', '--datadir', dir, fixture('clique/rinkeby/blocks-1-5.rlp')])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /is in use by another process \(is another cairn running on this datadir\?\)/)
  })

  it('a malformed genesis is refused naming the field', async (t) => {
    const dir = tempDir(t)
    const g = join(dir, 'g.json')
    writeFileSync(g, JSON.stringify({ config: { chainId: 5, homesteadBlock: 0 }, gasLimit: '0xnothex', alloc: {} }))
    const r = await runCairn(['init', '--datadir', join(dir, 'dd'), g])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /invalid genesis: gasLimit: invalid number "0xnothex"/)
  })
})
