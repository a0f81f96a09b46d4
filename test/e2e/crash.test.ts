import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { CAIRN, fixture, readFixture, runCairn, tempDir } from '../helpers.ts'

const SUITE_HEAD = JSON.parse(readFixture('execution-apis/headfcu.json')).params[0].headBlockHash as string

/** Starts `cairn import` and SIGKILLs it after `ms` (or lets it finish first). */
function importAndKill(datadir: string, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CAIRN, 'import', '--datadir', datadir, fixture('execution-apis/chain.rlp')], { stdio: 'ignore' })
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.on('error', reject)
    child.on('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Everything a head promises is there: canonical entries, headers, bodies, receipts, TD, head state. */
async function assertConsistent(datadir: string): Promise<bigint> {
  const chain = await Chain.open(datadir)
  try {
    const head = chain.heads().latest
    for (let n = 0n; n <= head.number; n++) {
      const hash = await chain.getCanonicalHash(n)
      assert.ok(hash, `canonical hash of ${n}`)
      const block = await chain.getBlockByHash(hash)
      assert.ok(block, `block ${n}`)
      assert.ok(await chain.getReceipts(hash), `receipts of ${n}`)
      assert.ok((await chain.getTotalDifficulty(hash)) !== undefined, `td of ${n}`)
      for (const tx of block.transactions) assert.equal((await chain.getTxLocation(tx.hash()))?.blockNumber, n)
    }
    assert.equal(await chain.getCanonicalHash(head.number + 1n), undefined, 'nothing canonical above the head')
    const state = await chain.stateAt(head)
    await state.getAccount(head.coinbase) // the head state's trie root must be readable
    return head.number
  } finally {
    await chain.close()
  }
}

describe('crash safety', () => {
  it('kill -9 at any moment of an import leaves a database that reopens at its last complete head', async (t) => {
    const datadir = tempDir(t)
    const init = await runCairn(['init', '--datadir', datadir, fixture('execution-apis/genesis.json')])
    assert.equal(init.code, 0, init.stderr)
    // kill at points spread over the import itself, measured on this machine (an empty import gives the start-up
    // time), so the kills land during the import whether the machine is idle or busy
    const probe = tempDir(t)
    assert.equal((await runCairn(['init', '--datadir', probe, fixture('execution-apis/genesis.json')])).code, 0)
    const empty = join(probe, 'empty.rlp')
    writeFileSync(empty, new Uint8Array())
    const timed = async (file: string) => {
      const started = Date.now()
      assert.equal((await runCairn(['import', '--datadir', probe, file])).code, 0)
      return Date.now() - started
    }
    const startup = await timed(empty)
    const importing = Math.max(100, (await timed(fixture('execution-apis/chain.rlp'))) - startup)
    const heads: bigint[] = []
    for (const fraction of [0.1, 0.25, 0.4, 0.55, 0.7, 0.85]) {
      const ms = startup + Math.round(importing * fraction)
      await importAndKill(datadir, ms)
      heads.push(await assertConsistent(datadir))
    }
    t.diagnostic(`heads after each kill: ${heads.join(', ')}`)
    for (let i = 1; i < heads.length; i++) assert.ok(heads[i] >= heads[i - 1], 'a restart never loses committed blocks')
    const done = await runCairn(['import', '--datadir', datadir, fixture('execution-apis/chain.rlp')])
    assert.equal(done.code, 0, done.stderr)
    const chain = await Chain.open(datadir)
    t.after(() => chain.close())
    assert.equal(bytesToHex(chain.heads().latest.hash()), SUITE_HEAD)
  })
})
