/**
 * EIP-1186 account and storage proofs from the state trie, as geth's eth_getProof builds them: the trie nodes on the
 * path from the root to the key, root first, leaving out the nodes embedded in their parent (shorter than 32 bytes).
 */
import type { BlockHeader } from '@ethereumjs/block'
import { MerklePatriciaTrie, createMerkleProof } from '@ethereumjs/mpt'
import { RLP } from '@ethereumjs/rlp'
import { KECCAK256_RLP, bytesToBigInt, createAccountFromRLP, equalsBytes } from '@ethereumjs/util'

import type { TrieNodeStore } from '../db/chaindb.ts'

export interface StorageProof {
  /** the 32-byte slot */
  slot: Uint8Array
  value: bigint
  proof: Uint8Array[]
}

export interface AccountProof {
  accountProof: Uint8Array[]
  balance: bigint
  /** zero for an account that does not exist, as geth */
  codeHash: Uint8Array
  nonce: bigint
  /** zero for an account that does not exist, as geth */
  storageHash: Uint8Array
  storageProof: StorageProof[]
}

/** What eth_getProof asks of the node; the chain provides it. */
export interface StateProofs {
  /** The proof of `address` and of its `slots` (32 bytes each) in the state of `header`. */
  prove(header: BlockHeader, address: Uint8Array, slots: Uint8Array[]): Promise<AccountProof>
}

/** Proofs read from the stored trie nodes. */
export class TrieProofs implements StateProofs {
  private readonly store: () => TrieNodeStore

  constructor(store: () => TrieNodeStore) {
    this.store = store
  }

  async prove(header: BlockHeader, address: Uint8Array, slots: Uint8Array[]): Promise<AccountProof> {
    const db = this.store()
    const accounts = new MerklePatriciaTrie({ db, root: header.stateRoot, useKeyHashing: true })
    const encoded = await accounts.get(address)
    const accountProof = await proofOf(accounts, address)
    if (encoded === null) {
      const none = new Uint8Array(32)
      return { accountProof, balance: 0n, codeHash: none, nonce: 0n, storageHash: none, storageProof: slots.map((slot) => ({ slot, value: 0n, proof: [] })) }
    }
    const account = createAccountFromRLP(encoded)
    // geth opens no storage trie for an empty one: every slot is zero with an empty proof
    const storage = equalsBytes(account.storageRoot, KECCAK256_RLP) ? undefined : new MerklePatriciaTrie({ db, root: account.storageRoot, useKeyHashing: true })
    const storageProof: StorageProof[] = []
    for (const slot of slots) {
      if (storage === undefined) {
        storageProof.push({ slot, value: 0n, proof: [] })
        continue
      }
      const value = await storage.get(slot)
      storageProof.push({ slot, value: value === null ? 0n : bytesToBigInt(RLP.decode(value) as Uint8Array), proof: await proofOf(storage, slot) })
    }
    return { accountProof, balance: account.balance, codeHash: account.codeHash, nonce: account.nonce, storageHash: account.storageRoot, storageProof }
  }
}

/** trie.Prove: only nodes stored under their hash (and the root) are proof elements. */
async function proofOf(trie: MerklePatriciaTrie, key: Uint8Array): Promise<Uint8Array[]> {
  const nodes = await createMerkleProof(trie, key)
  return nodes.filter((node, i) => i === 0 || node.length >= 32)
}
