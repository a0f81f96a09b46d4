/**
 * Committed state kept in memory for readers (eth_getBalance and friends, eth_call), keyed by what it is read from:
 * an account by (state root, address), a storage slot by (storage root, slot), code by its hash. A root names its
 * contents for good, so an entry is never stale, reorgs included, and every reader at any block shares the memo.
 *
 * ethereumjs's own caches cannot serve this: a call's checkpoint is reverted afterwards, and the revert drops what
 * the call read along with what it wrote; each state view also starts empty. So each request walked the trie again
 * from the root (and made a storage trie per contract it touched).
 */
import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches } from '@ethereumjs/statemanager'
import type { Account, Address } from '@ethereumjs/util'
import { ValueEncoding, bytesToHex, createAccountFromRLP, setLengthLeft } from '@ethereumjs/util'
import { RLP } from '@ethereumjs/rlp'

import type { StateView } from '../chain/types.ts'
import type { TrieNodeStore } from '../db/chaindb.ts'
import { Lru } from '../db/lru.ts'
import { BatchedStateManager } from './stateManager.ts'
import { readTrieValue } from './trieBatch.ts'

/** an empty storage slot as ethereumjs's storage cache writes it (RLP of nothing) */
const EMPTY_SLOT = Uint8Array.of(0x80)

/** Bounds: 20,000 accounts, 50,000 storage slots, 16 MB of code. */
export class StateMemo {
  /** account RLP, null for none */
  readonly accounts = new Lru<string, Uint8Array | null>({ maxEntries: 20_000 })
  /** the slot's value as stored in the trie (RLP), EMPTY_SLOT for none */
  readonly storage = new Lru<string, Uint8Array>({ maxEntries: 50_000 })
  readonly code = new Lru<string, Uint8Array>({ maxEntries: 4096, maxWeight: 16 * 1024 * 1024, weigh: (c) => c.length + 100 })
}

/**
 * A state manager that asks the memo before the trie. Its own caches come first (what the current run wrote),
 * so the memo only ever answers for committed state; it is keyed by the roots the state manager actually reads from,
 * so a manager whose trie moved (state overrides flushed into it) still gets the right entries.
 */
export class MemoStateManager extends BatchedStateManager {
  private readonly memo: StateMemo

  constructor(store: TrieNodeStore, common: Common, memo: StateMemo, caches: boolean) {
    const trie = new MerklePatriciaTrie({ db: store, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common })
    super({ trie, caches: caches ? new Caches() : undefined, common })
    this.memo = memo
  }

  override async getAccount(address: Address): Promise<Account | undefined> {
    if (this._caches?.account?.get(address) !== undefined) return super.getAccount(address)
    const key = bytesToHex(this._trie.root()) + address.toString().slice(2)
    const known = this.memo.accounts.get(key)
    if (known === undefined) {
      const account = await super.getAccount(address)
      this.memo.accounts.set(key, account === undefined ? null : account.serialize())
      return account
    }
    const account = known === null ? undefined : createAccountFromRLP(known)
    this.cacheAccount(address, account)
    return account
  }

  override async getStorage(address: Address, slot: Uint8Array): Promise<Uint8Array> {
    if (slot.length !== 32 || this._caches?.storage?.get(address, slot) !== undefined) return super.getStorage(address, slot)
    const account = await this.getAccount(address)
    if (account === undefined) return new Uint8Array()
    const key = bytesToHex(account.storageRoot) + bytesToHex(slot).slice(2)
    let stored = this.memo.storage.get(key)
    if (stored === undefined) {
      stored = (await readTrieValue(this._getStorageTrie(address, account), slot)) ?? EMPTY_SLOT
      this.memo.storage.set(key, stored)
    }
    this._caches?.storage?.put(address, slot, stored)
    return RLP.decode(stored) as Uint8Array
  }

  override async getCode(address: Address): Promise<Uint8Array> {
    if (this._caches?.code?.get(address) !== undefined) return super.getCode(address)
    const account = await this.getAccount(address)
    if (account === undefined || !account.isContract()) return new Uint8Array()
    const key = bytesToHex(account.codeHash)
    let code = this.memo.code.get(key)
    if (code === undefined) {
      code = await super.getCode(address)
      this.memo.code.set(key, code)
      return code
    }
    this._caches?.code?.put(address, code)
    return code
  }
}

/** Read-only state at `stateRoot` through the memo (no caches of its own: the memo is the cache). */
export function memoStateView(store: TrieNodeStore, common: Common, memo: StateMemo, stateRoot: Uint8Array): StateView {
  const sm = new MemoStateManager(store, common, memo, false)
  const ready = sm.setStateRoot(stateRoot)
  return {
    getAccount: async (a) => (await ready, sm.getAccount(a)),
    getCode: async (a) => (await ready, sm.getCode(a)),
    getStorage: async (a, slot) => {
      await ready
      if ((await sm.getAccount(a)) === undefined) return new Uint8Array()
      return sm.getStorage(a, setLengthLeft(slot, 32))
    },
  }
}
