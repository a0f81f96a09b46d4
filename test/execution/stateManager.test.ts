import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, MapDB, ValueEncoding, bytesToHex, createAddressFromString } from '@ethereumjs/util'

import { BatchedStateManager } from '../../src/execution/stateManager.ts'

const common = new Common({ chain: Mainnet, hardfork: Hardfork.Prague })
const alice = createAddressFromString('0x00000000000000000000000000000000000a11ce')
const bob = createAddressFromString('0x0000000000000000000000000000000000000b0b')

function managers(): [BatchedStateManager, MerkleStateManager] {
  const trie = () => new MerklePatriciaTrie({ db: new MapDB(), useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common })
  return [new BatchedStateManager({ trie: trie(), caches: new Caches(), common }), new MerkleStateManager({ trie: trie(), caches: new Caches(), common })]
}

const fields = (account: Account | undefined) => account && { nonce: account.nonce, balance: account.balance, storageRoot: bytesToHex(account.storageRoot), codeHash: bytesToHex(account.codeHash) }

describe('BatchedStateManager accounts', () => {
  it('hands out copies: changing a read account without putting it changes nothing', async () => {
    const [state] = managers()
    await state.putAccount(alice, new Account(1n, 100n))
    const read = (await state.getAccount(alice))!
    read.balance = 5n
    read.nonce = 9n
    assert.deepEqual(fields(await state.getAccount(alice)), fields(new Account(1n, 100n)))
  })

  it('keeps what was put, not what the caller changes after putting it', async () => {
    const [state] = managers()
    const account = new Account(0n, 10n)
    await state.putAccount(alice, account)
    account.balance = 99n
    assert.equal((await state.getAccount(alice))!.balance, 10n)
    account.nonce = 1n
    await state.putAccount(alice, account)
    assert.deepEqual(fields(await state.getAccount(alice)), fields(new Account(1n, 99n)))
  })

  it('reads the account a reverted checkpoint restores, and none after a delete', async () => {
    const [state] = managers()
    await state.putAccount(alice, new Account(0n, 10n))
    await state.checkpoint()
    await state.putAccount(alice, new Account(1n, 3n))
    assert.equal((await state.getAccount(alice))!.balance, 3n)
    await state.revert()
    assert.deepEqual(fields(await state.getAccount(alice)), fields(new Account(0n, 10n)))
    await state.putAccount(alice, undefined)
    assert.equal(await state.getAccount(alice), undefined)
  })

  it("reaches ethereumjs's state root and reads, through reads, writes, reverts and flushes", async () => {
    const [batched, reference] = managers()
    for (const state of [batched, reference]) {
      await state.putAccount(alice, new Account(0n, 1000n))
      await state.putAccount(bob, new Account(0n, 5n))
      await state.flush()
      for (let i = 1n; i <= 5n; i++) {
        await state.checkpoint()
        const from = (await state.getAccount(alice))!
        const to = (await state.getAccount(bob))!
        from.nonce += 1n
        from.balance -= i
        to.balance += i
        await state.putAccount(alice, from)
        await state.putAccount(bob, to)
        if (i === 3n) await state.revert()
        else await state.commit()
      }
      await state.flush()
    }
    assert.equal(bytesToHex(await batched.getStateRoot()), bytesToHex(await reference.getStateRoot()))
    for (const address of [alice, bob]) assert.deepEqual(fields(await batched.getAccount(address)), fields(await reference.getAccount(address)))
    assert.equal((await batched.getAccount(alice))!.nonce, 4n)
  })
})

describe('BatchedStateManager storage', () => {
  const slot = (n: number) => new Uint8Array(32).fill(n)

  it("writes slots only when flushed, reaching ethereumjs's storage and state roots through deletes and reverts", async () => {
    const db = new MapDB<string, Uint8Array>()
    const batched = new BatchedStateManager({ trie: new MerklePatriciaTrie({ db, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common }), caches: new Caches(), common })
    const [, reference] = managers()
    for (const state of [batched, reference]) {
      await state.putAccount(alice, new Account(0n, 1n))
      await state.flush()
    }
    for (let block = 1; block <= 3; block++) {
      const stored = db._database.size
      for (const state of [batched, reference]) {
        // as a block builder does: the transactions' checkpoints inside one for the block (the outermost commit flushes)
        await state.checkpoint()
        await state.checkpoint()
        for (let i = 1; i <= 4; i++) await state.putStorage(alice, slot(i), Uint8Array.of(block * 10 + i))
        await state.putStorage(alice, slot(block), new Uint8Array()) // a delete
        await state.commit()
        await state.checkpoint()
        await state.putStorage(alice, slot(9), Uint8Array.of(99))
        await state.revert()
      }
      assert.equal(db._database.size, stored, `block ${block}: no trie node is stored before the flush`)
      assert.deepEqual(await batched.getStorage(alice, slot(block)), new Uint8Array(), 'a deleted slot reads empty before the flush')
      for (const state of [batched, reference]) await state.commit()
      assert.equal(bytesToHex(await batched.getStateRoot()), bytesToHex(await reference.getStateRoot()), `block ${block}`)
      assert.deepEqual(fields(await batched.getAccount(alice)), fields(await reference.getAccount(alice)))
      for (const i of [1, 2, 3, 4, 9]) assert.deepEqual(await batched.getStorage(alice, slot(i)), await reference.getStorage(alice, slot(i)), `slot ${i}`)
    }
  })
})
