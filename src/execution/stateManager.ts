import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { Account, ValueEncoding, createAccountFromRLP, createAddressFromString, unpadBytes, unprefixedHexToBytes } from '@ethereumjs/util'
import type { Address } from '@ethereumjs/util'

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
  /**
   * Accounts decoded, by the RLP the account cache holds them as. ethereumjs caches accounts encoded and decodes one on
   * every read; runTx reads the sender, the recipient and the coinbase several times per transaction, in between the
   * writes. Readers get copies, because the VM changes the accounts it reads before it puts them back.
   */
  private readonly decodedAccounts = new WeakMap<Uint8Array, Account>()

  override async getAccount(address: Address): Promise<Account | undefined> {
    const elem = this._caches?.account?.get(address)
    if (elem !== undefined) return elem.accountRLP !== undefined ? copyAccount(this.decoded(elem.accountRLP)) : undefined
    const rlp = await readTrieValue(this._trie, address.bytes)
    const account = rlp !== null ? createAccountFromRLP(rlp) : undefined
    this.cacheAccount(address, account)
    return account
  }

  override async putAccount(address: Address, account: Account | undefined): Promise<void> {
    if (this._caches?.account === undefined) return super.putAccount(address, account)
    if (account === undefined) this._caches.account.del(address)
    else this.cacheAccount(address, account)
  }

  /** into the account cache, remembering the account under the RLP the cache encodes it to */
  protected cacheAccount(address: Address, account: Account | undefined): void {
    const cache = this._caches?.account
    if (cache === undefined) return
    cache.put(address, account)
    const rlp = account !== undefined ? cache.get(address)?.accountRLP : undefined
    if (rlp !== undefined) this.decodedAccounts.set(rlp, copyAccount(account!))
  }

  private decoded(rlp: Uint8Array): Account {
    let account = this.decodedAccounts.get(rlp)
    if (account === undefined) this.decodedAccounts.set(rlp, (account = createAccountFromRLP(rlp)))
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

  /**
   * Into the storage cache only; flush writes the slots. MerkleStateManager.putStorage (10.1.3) writes the storage
   * trie at once as well (`cache.put(...) ?? write(...)`, and put returns nothing), so every SSTORE walked and
   * re-hashed the storage trie and left its intermediate nodes in the block's batch, and a failed write was never
   * reported (it runs inside a promise executor) and never settled.
   */
  override async putStorage(address: Address, key: Uint8Array, value: Uint8Array): Promise<void> {
    const storage = this._caches?.storage
    if (storage === undefined) return super.putStorage(address, key, value)
    // the base class's checks, in its order and words
    if (key.length !== 32) throw new Error('Storage key must be 32 bytes long')
    if (value.length > 32) throw new Error('Storage value cannot be longer than 32 bytes')
    if ((await this.getAccount(address)) === undefined) throw new Error('putStorage() called on non-existing account')
    storage.put(address, key, RLP.encode(unpadBytes(value)))
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

/** Fields are replaced, never changed in place (bigints, and byte arrays ethereumjs treats as values), so a copy may share them. */
function copyAccount(account: Account): Account {
  return new Account(account.nonce, account.balance, account.storageRoot, account.codeHash)
}
