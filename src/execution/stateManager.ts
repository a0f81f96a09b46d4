import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { ValueEncoding, createAccountFromRLP, createAddressFromString, unprefixedHexToBytes } from '@ethereumjs/util'
import type { Account, Address } from '@ethereumjs/util'

import type { TrieNodeStore } from '../db/chaindb.ts'
import { applyTrieWrites, readTrieValue } from './trieBatch.ts'
import type { TrieWrite } from './trieBatch.ts'

const EMPTY = new Uint8Array(0)

const RLP_EMPTY_STRING = Uint8Array.of(0x80)

/**
 * ethereumjs's Merkle state manager whose flush writes each trie in one batch (applyTrieWrites): the storage slots of
 * every account changed since the last flush, then the changed accounts. ethereumjs flushes one key at a time, and
 * re-hashes the path to the root for each. Code (a deployment's) is still flushed by the base class, after. Reads
 * that miss the caches walk the trie directly (readTrieValue); the caching around them is the base class's.
 */
export class BatchedStateManager extends MerkleStateManager {
  override async getAccount(address: Address): Promise<Account | undefined> {
    const elem = this._caches?.account?.get(address)
    if (elem !== undefined) return elem.accountRLP !== undefined ? createAccountFromRLP(elem.accountRLP) : undefined
    const rlp = await readTrieValue(this._trie, address.bytes)
    const account = rlp !== null ? createAccountFromRLP(rlp) : undefined
    this._caches?.account?.put(address, account)
    return account
  }

  override async getStorage(address: Address, key: Uint8Array): Promise<Uint8Array> {
    if (key.length !== 32) throw new Error('Storage key must be 32 bytes long')
    const cached = this._caches?.storage?.get(address, key)
    if (cached !== undefined) return RLP.decode(cached) as Uint8Array
    const account = await this.getAccount(address)
    if (account === undefined) return new Uint8Array()
    const value = this._prefixStorageTrieKeys ? await this._getStorageTrie(address, account).get(key) : await readTrieValue(this._getStorageTrie(address, account), key)
    this._caches?.storage?.put(address, key, value ?? RLP_EMPTY_STRING)
    return RLP.decode(value ?? new Uint8Array(0)) as Uint8Array
  }

  override async flush(): Promise<void> {
    const caches = this._caches
    if (caches !== undefined && !this._prefixStorageTrieKeys) {
      await this.flushStorage(caches)
      const writes: TrieWrite[] = []
      for (const [addressHex, elem] of caches.account?.flush() ?? []) writes.push([unprefixedHexToBytes(addressHex), elem.accountRLP ?? EMPTY])
      await applyTrieWrites(this._trie, writes)
    }
    await super.flush()
  }

  private async flushStorage(caches: Caches): Promise<void> {
    const byOwner = new Map<string, TrieWrite[]>()
    for (const [addressHex, keyHex, value] of caches.storage?.flush() ?? []) {
      // the cache holds slot values RLP-encoded; an empty value deletes the slot
      const decoded = RLP.decode(value ?? EMPTY) as Uint8Array
      let writes = byOwner.get(addressHex)
      if (writes === undefined) byOwner.set(addressHex, (writes = []))
      writes.push([unprefixedHexToBytes(keyHex), decoded.length > 0 ? RLP.encode(decoded) : EMPTY])
    }
    for (const [addressHex, writes] of byOwner) {
      const address = createAddressFromString(`0x${addressHex}`)
      const account = await this.getAccount(address)
      // as the base class does: slots of an account that no longer exists are dropped with it
      if (account === undefined) continue
      account.storageRoot = await applyTrieWrites(this._getStorageTrie(address, account), writes)
      await this.putAccount(address, account)
    }
  }

  /** entries in the account cache and accounts with a storage cache or trie: what the caches hold now */
  cachedEntries(): { accounts: number; storageOwners: number } {
    const caches = this._caches
    return {
      accounts: caches?.account?.size() ?? 0,
      storageOwners: Math.max(caches?.storage?.size() ?? 0, Object.keys(this._storageTries).length),
    }
  }
}

export function newStateManager(store: TrieNodeStore, common: Common): BatchedStateManager {
  const trie = new MerklePatriciaTrie({ db: store, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common })
  return new BatchedStateManager({ trie, caches: new Caches(), common })
}
