import { cliqueSigner, createBlock, genTransactionsTrieRoot, genWithdrawalsTrieRoot } from '@ethereumjs/block'
import type { Block, BlockHeader, HeaderData } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { MerklePatriciaTrie } from '@ethereumjs/mpt'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, Address, KECCAK256_RLP, ValueEncoding, bytesToHex, concatBytes, equalsBytes, setLengthLeft } from '@ethereumjs/util'
import { createVM, runBlock, runTx } from '@ethereumjs/vm'
import type { TxReceipt, VM } from '@ethereumjs/vm'

import type { ConsensusReceipt, StateView } from '../chain/types.ts'
import type { GenesisAccount } from '../config/genesis.ts'
import type { ChainDB, TrieNodeStore } from '../db/chaindb.ts'

/** Gives BLOCKHASH the hashes of the executing block's own ancestors (not the canonical chain's: side chains execute too). */
export type AncestorHashes = (number: bigint) => Promise<Uint8Array | undefined>

export interface ExecutedBlock {
  receipts: ConsensusReceipt[]
  stateRoot: Uint8Array
  gasUsed: bigint
  /** state-trie nodes the block created; the chain writes them in the block's batch */
  trieNodes: [Uint8Array, Uint8Array][]
}

export class BlockExecutionError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'BlockExecutionError'
  }
}

/**
 * The only part of cairn that touches the VM. One instance executes blocks one at a time (the chain serialises
 * imports); state reads for RPC get their own read-only state managers over the same database.
 */
export class Executor {
  readonly common: Common
  private readonly db: ChainDB
  private readonly store: TrieNodeStore
  private readonly stateManager: MerkleStateManager
  private vmPromise: Promise<VM> | undefined
  private ancestors: AncestorHashes = async () => undefined

  constructor(common: Common, db: ChainDB) {
    this.common = common
    this.db = db
    this.store = db.trieStore()
    this.stateManager = newStateManager(this.store, common)
  }

  private vm(): Promise<VM> {
    this.vmPromise ??= createVM({
      common: this.common,
      stateManager: this.stateManager,
      blockchain: {
        getBlock: async (n: number) => {
          const hash = await this.ancestors(BigInt(n))
          if (hash === undefined) throw new Error(`block ${n} is not an ancestor of the executing block`)
          return { hash: () => hash }
        },
        putBlock: async () => {},
        shallowCopy() {
          return this
        },
      },
      evmOpts: { cliqueSigner: (header) => cliqueSigner(header as BlockHeader) },
    })
    return this.vmPromise
  }

  /** Writes the genesis alloc into the state trie; returns its root and the nodes to store. */
  async genesisState(alloc: GenesisAccount[]): Promise<{ stateRoot: Uint8Array; trieNodes: [Uint8Array, Uint8Array][] }> {
    const sm = newStateManager(this.store, this.common)
    await sm.checkpoint()
    for (const a of alloc) {
      const address = new Address(a.address)
      await sm.putAccount(address, new Account(a.nonce, a.balance))
      if (a.code.length > 0) await sm.putCode(address, a.code)
      for (const [slot, value] of a.storage) {
        if (value.some((b) => b !== 0)) await sm.putStorage(address, slot, stripZeros(value))
      }
    }
    await sm.commit()
    await sm.flush()
    return { stateRoot: await sm.getStateRoot(), trieNodes: this.store.drain() }
  }

  /**
   * Runs `block` on the state of `parent` and checks every result the header commits to (state root, receipts
   * root, bloom, gas used, requests hash). Throws BlockExecutionError naming the mismatch; nothing is stored.
   */
  async executeBlock(block: Block, parent: BlockHeader, ancestors: AncestorHashes): Promise<ExecutedBlock> {
    const vm = await this.vm()
    this.ancestors = ancestors
    try {
      const result = await runBlock(vm, {
        block,
        root: parent.stateRoot,
        setHardfork: true,
        skipHeaderValidation: true,
      })
      if (!equalsBytes(result.stateRoot, block.header.stateRoot)) {
        throw new BlockExecutionError(`invalid merkle root (remote: ${bytesToHex(block.header.stateRoot)} local: ${bytesToHex(result.stateRoot)})`)
      }
      return {
        receipts: result.receipts.map((r, i) => toConsensusReceipt(r, block.transactions[i])),
        stateRoot: result.stateRoot,
        gasUsed: result.gasUsed,
        trieNodes: this.store.drain(),
      }
    } catch (err) {
      this.store.discard()
      if (err instanceof BlockExecutionError) throw err
      throw new BlockExecutionError(cleanVmMessage((err as Error).message))
    }
  }

  /**
   * Assembles a block on `parent` from candidate transactions: a first pass runs each once and drops those that
   * fail or do not fit; the block is then executed with runBlock so its roots (state, receipts, requests) are
   * computed exactly as an importer will recompute them. `sealer` signs a provisional header so that fees and
   * COINBASE reach the Clique signer while executing. Returns the unsealed block; the consensus layer seals it.
   */
  async buildBlock(
    parent: BlockHeader,
    header: HeaderData,
    candidates: Iterable<TypedTransaction>,
    ancestors: AncestorHashes,
    sealer?: (h: BlockHeader) => Uint8Array,
  ): Promise<{ block: Block; executed: ExecutedBlock; rejected: { tx: TypedTransaction; error: string }[] }> {
    const vm = await this.vm()
    this.ancestors = ancestors
    const common = this.common.copy()
    common.setHardforkBy({ blockNumber: BigInt(header.number as bigint), timestamp: BigInt(header.timestamp as bigint) })
    vm.common.setHardforkBy({ blockNumber: BigInt(header.number as bigint), timestamp: BigInt(header.timestamp as bigint) })
    const withdrawals = common.isActivatedEIP(4895) ? [] : undefined
    const opts = { common, freeze: false, skipConsensusFormatValidation: true }
    let provisional = createBlock({ header, withdrawals }, opts)
    if (sealer !== undefined) {
      const extra = provisional.header.extraData
      const sealed = concatBytes(extra.subarray(0, extra.length - 65), sealer(provisional.header))
      provisional = createBlock({ header: { ...header, extraData: sealed }, withdrawals }, opts)
    }

    const included: TypedTransaction[] = []
    const rejected: { tx: TypedTransaction; error: string }[] = []
    let gasUsed = 0n
    let blobGasUsed = 0n
    const maxBlobGas = common.isActivatedEIP(4844) ? common.getBlobGasSchedule().maxBlobGasPerBlock : 0n
    await this.stateManager.setStateRoot(parent.stateRoot)
    await this.stateManager.checkpoint()
    try {
      for (const tx of candidates) {
        const blobGas = blobGasOf(tx, common)
        if (gasUsed + tx.gasLimit > provisional.header.gasLimit) {
          rejected.push({ tx, error: 'gas limit reached' })
          continue
        }
        if (blobGas > 0n && blobGasUsed + blobGas > maxBlobGas) {
          rejected.push({ tx, error: 'blob gas limit reached' })
          continue
        }
        try {
          const res = await runTx(vm, { tx, block: provisional, skipHardForkValidation: true })
          gasUsed += res.totalGasSpent
          blobGasUsed += blobGas
          included.push(tx)
        } catch (err) {
          rejected.push({ tx, error: cleanVmMessage((err as Error).message) })
        }
      }
    } finally {
      await this.stateManager.revert()
    }

    const body = { header: { ...provisional.header.toJSON(), ...(common.isActivatedEIP(4844) ? { blobGasUsed } : {}) }, transactions: included, withdrawals }
    const toRun = createBlock(body as never, opts)
    try {
      const result = await runBlock(vm, { block: toRun, root: parent.stateRoot, generate: true, setHardfork: true, skipHeaderValidation: true, skipBlockValidation: true })
      const receipts = result.receipts.map((r, i) => toConsensusReceipt(r, included[i]))
      const finalHeader: HeaderData = {
        ...header,
        stateRoot: result.stateRoot,
        transactionsTrie: await genTransactionsTrieRoot(included),
        receiptTrie: result.receiptsRoot,
        logsBloom: result.logsBloom,
        gasUsed: result.gasUsed,
        ...(withdrawals !== undefined ? { withdrawalsRoot: await genWithdrawalsTrieRoot([]) } : {}),
        ...(result.requestsHash !== undefined ? { requestsHash: result.requestsHash } : {}),
        ...(common.isActivatedEIP(4844) ? { blobGasUsed } : {}),
      }
      const block = createBlock({ header: finalHeader, transactions: included, withdrawals }, { common, skipConsensusFormatValidation: true })
      return { block, executed: { receipts, stateRoot: result.stateRoot, gasUsed: result.gasUsed, trieNodes: this.store.drain() }, rejected }
    } catch (err) {
      this.store.discard()
      throw new BlockExecutionError(cleanVmMessage((err as Error).message))
    }
  }

  /** Read-only state at a past or present state root (archive: every committed root stays readable). */
  stateAt(stateRoot: Uint8Array): StateView {
    const sm = newStateManager(this.db.trieStore(), this.common)
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

  async hasState(stateRoot: Uint8Array): Promise<boolean> {
    if (equalsBytes(stateRoot, KECCAK256_RLP)) return true
    return (await this.db.getTrieNode(stateRoot)) !== undefined
  }
}

function blobGasOf(tx: TypedTransaction, common: Common): bigint {
  const hashes = (tx as { blobVersionedHashes?: unknown[] }).blobVersionedHashes
  return hashes === undefined ? 0n : BigInt(hashes.length) * common.param('blobGasPerBlob')
}

export function newStateManager(store: TrieNodeStore, common: Common): MerkleStateManager {
  const trie = new MerklePatriciaTrie({ db: store, useKeyHashing: true, valueEncoding: ValueEncoding.Bytes, common })
  return new MerkleStateManager({ trie, caches: new Caches(), common })
}

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0
  while (i < b.length && b[i] === 0) i++
  return b.subarray(i)
}

export function toConsensusReceipt(r: TxReceipt, tx: TypedTransaction): ConsensusReceipt {
  const out: ConsensusReceipt = {
    type: tx.type,
    cumulativeGasUsed: r.cumulativeBlockGasUsed,
    logsBloom: r.bitvector,
    logs: r.logs as ConsensusReceipt['logs'],
  }
  if ('stateRoot' in r) out.stateRoot = (r as { stateRoot: Uint8Array }).stateRoot
  else out.status = (r as { status: 0 | 1 }).status
  return out
}

/** ethereumjs appends block/hardfork context to messages; keep the reason, in geth's words where geth has them. */
function cleanVmMessage(msg: string): string {
  const m = msg.replace(/ \((vm hf|block number|tx type)=.*$/s, '')
  const root = /^invalid block stateRoot, got: (0x[0-9a-f]+), want: (0x[0-9a-f]+)/.exec(m)
  if (root) return `invalid merkle root (remote: ${root[2]} local: ${root[1]})`
  return m
}
