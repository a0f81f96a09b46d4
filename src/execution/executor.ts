import { setImmediate as yieldToEventLoop } from 'node:timers/promises'

import { Block, createBlock, createBlockHeader, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { BlockHeader, HeaderData } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, Address, KECCAK256_RLP, bytesToHex, equalsBytes } from '@ethereumjs/util'
import type { Withdrawal } from '@ethereumjs/util'
import { buildBlock as startBlockBuild, createVM, encodeReceipt, runBlock, runTx } from '@ethereumjs/vm'
import type { BlockBuilder, RunTxResult, TxReceipt, VM } from '@ethereumjs/vm'

import { txBytes } from '../chain/txBytes.ts'
import type { ConsensusReceipt } from '../chain/types.ts'
import type { GenesisAccount } from '../config/genesis.ts'
import type { ChainDB, TrieNodeStore } from '../db/chaindb.ts'
import { installCodeAnalysisCache } from './codeAnalysis.ts'
import { orderedTrieRoot } from './orderedTrie.ts'
import { plainTransfersApply, runPlainTransfer } from './plainTransfer.ts'
import { newStateManager } from './stateManager.ts'
import type { BatchedStateManager } from './stateManager.ts'

/** Gives BLOCKHASH the hashes of the executing block's own ancestors (not the canonical chain's: side chains execute too). */
export type AncestorHashes = (number: bigint) => Promise<Uint8Array | undefined>

export interface ExecutedBlock {
  receipts: ConsensusReceipt[]
  stateRoot: Uint8Array
  gasUsed: bigint
  /** state-trie nodes the block created; the chain writes them in the block's batch */
  trieNodes: [Uint8Array, Uint8Array][]
  /** stored state-trie nodes (keys in hex) the block's state no longer refers to */
  replacedTrieNodes: string[]
}

/** items above which a list root lets other work (RPC, gossip) in first: a smaller root takes less than that work */
const LARGE_LIST = 500
/** how long block assembly runs before it lets other work (RPC, gossip) in */
const YIELD_EVERY_MS = 20

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
  /** the chain's Common as the VM sees it (see executionCommon) */
  private readonly vmCommon: Common
  private readonly db: ChainDB
  private readonly store: TrieNodeStore
  private readonly stateManager: BatchedStateManager
  /** the state root the state manager stands on with warm caches; undefined after a failure */
  private root: Uint8Array | undefined
  private vmPromise: Promise<VM> | undefined
  private ancestors: AncestorHashes = async () => undefined
  private readonly cacheLimits: StateCacheLimits

  constructor(common: Common, db: ChainDB, cacheLimits: StateCacheLimits = DEFAULT_CACHE_LIMITS) {
    this.common = common
    this.cacheLimits = cacheLimits
    this.vmCommon = executionCommon(common)
    this.db = db
    this.store = db.trieStore()
    this.stateManager = newStateManager(this.store, common)
  }

  private vm(): Promise<VM> {
    this.vmPromise ??= installCodeAnalysisCache().then(() => createVM({
      common: this.vmCommon,
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
    }))
    return this.vmPromise
  }

  /**
   * Puts the state manager on `root`. Consecutive blocks (the common case: each one builds on or imports onto the
   * last) keep the state manager's account, storage and code caches warm; anything else starts cold.
   */
  private async standOn(root: Uint8Array): Promise<void> {
    if (this.root !== undefined && equalsBytes(this.root, root) && !outgrown(this.stateManager, this.cacheLimits)) return
    this.root = undefined
    await this.stateManager.setStateRoot(root)
    this.root = root
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
    return { stateRoot: await sm.getStateRoot(), trieNodes: this.store.drain().nodes }
  }

  /**
   * Runs `block` (sealed by `author`) on the state of `parent` and checks every result the header commits to (gas
   * used, bloom, receipts root, requests hash, state root), in geth's order and words. Throws BlockExecutionError
   * naming the mismatch; nothing is stored. The block's data (transactions root, signatures) is the caller's to
   * validate first.
   */
  async executeBlock(block: Block, parent: BlockHeader, ancestors: AncestorHashes, author: Uint8Array): Promise<ExecutedBlock> {
    // ommer rewards and the DAO fork's balance moves are only in ethereumjs's runBlock: old proof-of-work blocks
    const common = block.common
    if (block.uncleHeaders.length > 0 || (common.hardforkIsActiveOnBlock('dao', block.header.number) && block.header.number === common.hardforkBlock('dao'))) {
      return this.executeWithRunBlock(block, parent, ancestors, author)
    }
    const remote = block.header
    try {
      const imported = { transactionsRoot: remote.transactionsTrie, withdrawals: block.withdrawals }
      const { built, receipts } = await this.assemble(parent, { ...headerDataOf(remote), coinbase: author }, block.transactions, ancestors, imported)
      const local = built.header
      const mismatch =
        local.gasUsed !== remote.gasUsed
          ? `invalid gas used (remote: ${remote.gasUsed} local: ${local.gasUsed})`
          : !equalsBytes(local.logsBloom, remote.logsBloom)
            ? `invalid bloom (remote: ${bytesToHex(remote.logsBloom)} local: ${bytesToHex(local.logsBloom)})`
            : !equalsBytes(local.receiptTrie, remote.receiptTrie)
              ? `invalid receipt root hash (remote: ${bytesToHex(remote.receiptTrie)} local: ${bytesToHex(local.receiptTrie)})`
              : !sameOptional(local.requestsHash, remote.requestsHash)
                ? `invalid requests hash (remote: ${hexOrNone(remote.requestsHash)} local: ${hexOrNone(local.requestsHash)})`
                : !equalsBytes(local.stateRoot, remote.stateRoot)
                  ? `invalid merkle root (remote: ${bytesToHex(remote.stateRoot)} local: ${bytesToHex(local.stateRoot)})`
                  : undefined
      if (mismatch !== undefined) throw new BlockExecutionError(mismatch)
      this.root = local.stateRoot
      return { receipts: receipts.map((r, i) => toConsensusReceipt(r, block.transactions[i])), stateRoot: local.stateRoot, gasUsed: local.gasUsed, ...this.drainTrieNodes() }
    } catch (err) {
      this.forgetState()
      throw err instanceof BlockExecutionError ? err : new BlockExecutionError(cleanVmMessage((err as Error).message))
    }
  }

  private async executeWithRunBlock(block: Block, parent: BlockHeader, ancestors: AncestorHashes, author: Uint8Array): Promise<ExecutedBlock> {
    const vm = await this.vm()
    this.ancestors = ancestors
    try {
      await this.standOn(parent.stateRoot)
      const result = await runBlock(vm, { block: authorView(block, author), setHardfork: true, skipHeaderValidation: true, skipBlockValidation: true })
      this.root = result.stateRoot
      return {
        receipts: result.receipts.map((r, i) => toConsensusReceipt(r, block.transactions[i])),
        stateRoot: result.stateRoot,
        gasUsed: result.gasUsed,
        ...this.drainTrieNodes(),
      }
    } catch (err) {
      this.forgetState()
      throw new BlockExecutionError(cleanVmMessage((err as Error).message))
    }
  }

  /**
   * Assembles a block on `parent` from candidate transactions in one pass: each runs once, on the state the previous
   * ones left; those that fail or do not fit are left out. `header` is complete but for the fields execution fills
   * in (roots, bloom, gas used); `author` receives the fees (the Clique signer, which is not the header's coinbase).
   * `stopTaking`, asked between slices of work, ends the intake early. Returns the unsealed block; the consensus
   * layer seals it.
   */
  async buildBlock(
    parent: BlockHeader,
    header: HeaderData,
    candidates: Iterable<TypedTransaction>,
    ancestors: AncestorHashes,
    author: Uint8Array,
    stopTaking: () => boolean = () => false,
  ): Promise<{ block: Block; executed: ExecutedBlock; rejected: { tx: TypedTransaction; error: string }[] }> {
    try {
      const { built, receipts, included, rejected, common } = await this.assemble(parent, { ...header, coinbase: author }, candidates, ancestors, stopTaking)
      const h = built.header
      this.root = h.stateRoot
      const finalHeader = createBlockHeader(
        {
          ...header,
          stateRoot: h.stateRoot,
          transactionsTrie: h.transactionsTrie,
          receiptTrie: h.receiptTrie,
          logsBloom: h.logsBloom,
          gasUsed: h.gasUsed,
          ...(built.withdrawals !== undefined ? { withdrawalsRoot: h.withdrawalsRoot } : {}),
          ...(h.requestsHash !== undefined ? { requestsHash: h.requestsHash } : {}),
          ...(h.blobGasUsed !== undefined ? { blobGasUsed: h.blobGasUsed } : {}),
        },
        { common, skipConsensusFormatValidation: true },
      )
      // the transactions as given, their senders already recovered (the builder's block holds none)
      const block = new Block(finalHeader, included, [], built.withdrawals, { common })
      return { block, executed: { receipts: receipts.map((r, i) => toConsensusReceipt(r, included[i])), stateRoot: h.stateRoot, gasUsed: h.gasUsed, ...this.drainTrieNodes() }, rejected }
    } catch (err) {
      this.forgetState()
      throw new BlockExecutionError(cleanVmMessage((err as Error).message))
    }
  }

  /**
   * The one transaction loop of block assembly and import. Every transaction runs once against a header-only view
   * block (BlockBuilder.addTransaction would rebuild the block with all earlier transactions for each one); the
   * builder runs the system calls before and after them (EIP-4788, 2935, 7002, 7251) and computes the roots. The
   * loop lets the event loop in every YIELD_EVERY_MS, so RPC and gossip run during a long block. An import (`intake`
   * an ImportedBody) fails on the first transaction that cannot run, and keeps the transactions root its caller has
   * validated; otherwise such transactions are left out and the intake ends early when `intake()` says so.
   */
  private async assemble(
    parent: BlockHeader,
    viewHeader: HeaderData,
    txs: Iterable<TypedTransaction>,
    ancestors: AncestorHashes,
    intake: ImportedBody | (() => boolean),
  ): Promise<{ built: Block; receipts: TxReceipt[]; included: TypedTransaction[]; rejected: { tx: TypedTransaction; error: string }[]; common: Common }> {
    const vm = await this.vm()
    this.ancestors = ancestors
    const number = BigInt(viewHeader.number as bigint)
    const timestamp = BigInt(viewHeader.timestamp as bigint)
    const common = this.common.copy()
    common.setHardforkBy({ blockNumber: number, timestamp })
    vm.common.setHardforkBy({ blockNumber: number, timestamp })
    const strict = typeof intake !== 'function'
    const withdrawals = common.isActivatedEIP(4895) ? (strict ? (intake.withdrawals ?? []) : []) : undefined
    const view = createBlock({ header: viewHeader }, { common, skipConsensusFormatValidation: true })
    const gasLimit = view.header.gasLimit
    const maxBlobGas = common.isActivatedEIP(4844) ? common.getBlobGasSchedule().maxBlobGasPerBlock : 0n
    const blobGasPerBlob = common.isActivatedEIP(4844) ? common.param('blobGasPerBlob') : 0n

    const rejected: { tx: TypedTransaction; error: string }[] = []
    const included: TypedTransaction[] = []
    let builder: BlockBuilder | undefined
    try {
      await this.standOn(parent.stateRoot)
      builder = await startBlockBuild(vm, {
        parentBlock: { header: parent, hash: () => parent.hash() } as unknown as Block,
        headerData: viewHeader,
        withdrawals,
        blockOpts: { putBlockIntoBlockchain: false, skipConsensusFormatValidation: true },
      })
      const record = await openBuilder(vm, builder, strict ? intake.transactionsRoot : undefined)
      const plainTransfers = plainTransfersApply(vm)
      let receiptGasUsed = 0n
      let slice = performance.now()
      let index = 0
      for (const tx of txs) {
        // runTx's awaits settle as microtasks, so a long block would hold off every RPC request and gossip message
        if (performance.now() - slice > YIELD_EVERY_MS) {
          await yieldToEventLoop()
          slice = performance.now()
          if (!strict && intake()) break
        }
        const skip = (error: string) => {
          if (strict) throw new BlockExecutionError(`could not apply tx ${index} [${bytesToHex(tx.hash())}]: ${error}`)
          rejected.push({ tx, error })
        }
        index++
        if (tx.gasLimit > gasLimit - record.gasUsed()) {
          skip('gas limit reached')
          continue
        }
        const blobGas = blobGasOf(tx, blobGasPerBlob)
        if (blobGas > 0n && builder.blobGasUsed + blobGas > maxBlobGas) {
          skip('blob gas limit reached')
          continue
        }
        let result: RunTxResult
        try {
          result =
            (plainTransfers ? await runPlainTransfer(vm, tx, view, receiptGasUsed) : undefined) ??
            (await runTx(vm, { tx, block: view, skipHardForkValidation: true, blockGasUsed: receiptGasUsed }))
        } catch (err) {
          skip(cleanVmMessage((err as Error).message))
          continue
        }
        receiptGasUsed += result.totalGasSpent
        record.add(tx, result, blobGas)
        included.push(tx)
      }
      const { block: built } = await builder.build()
      return { built, receipts: builder.transactionReceipts, included, rejected, common }
    } catch (err) {
      if (builder !== undefined && builder.getStatus().status === 'pending') await builder.revert().catch(() => {})
      throw err
    }
  }

  private drainTrieNodes(): Pick<ExecutedBlock, 'trieNodes' | 'replacedTrieNodes'> {
    const { nodes, replaced } = this.store.drain()
    return { trieNodes: nodes, replacedTrieNodes: replaced }
  }

  /** After a failure the state manager's position and the buffered trie nodes are not to be trusted. */
  private forgetState(): void {
    this.root = undefined
    this.store.discard()
  }

  async hasState(stateRoot: Uint8Array): Promise<boolean> {
    if (equalsBytes(stateRoot, KECCAK256_RLP)) return true
    // through the node cache: the parent's root node was usually written (and cached) by the block before
    return (await this.db.getTrieNodeByHex(bytesToHex(stateRoot).slice(2))) !== undefined
  }
}

/** what an import runs: every transaction must apply; the transactions root was checked against the body already */
interface ImportedBody {
  transactionsRoot: Uint8Array
  withdrawals: Withdrawal[] | undefined
}

/** the header fields execution reads, from an imported block's header */
function headerDataOf(h: BlockHeader): HeaderData {
  return {
    parentHash: h.parentHash,
    uncleHash: h.uncleHash,
    coinbase: h.coinbase,
    number: h.number,
    gasLimit: h.gasLimit,
    timestamp: h.timestamp,
    extraData: h.extraData,
    mixHash: h.mixHash,
    nonce: h.nonce,
    difficulty: h.difficulty,
    baseFeePerGas: h.baseFeePerGas,
    excessBlobGas: h.excessBlobGas,
    parentBeaconBlockRoot: h.parentBeaconBlockRoot,
  }
}

function sameOptional(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a === undefined || b === undefined ? a === b : equalsBytes(a, b)
}

function hexOrNone(b: Uint8Array | undefined): string {
  return b === undefined ? 'none' : bytesToHex(b)
}

function blobGasOf(tx: TypedTransaction, blobGasPerBlob: bigint): bigint {
  const hashes = (tx as { blobVersionedHashes?: unknown[] }).blobVersionedHashes
  return hashes === undefined ? 0n : BigInt(hashes.length) * blobGasPerBlob
}

/**
 * The chain's Common as the VM sees it. ethereumjs credits a Clique block's fees to the signer by recovering it from
 * the header's seal for every transaction (pure-JS secp256k1 plus a header hash, ~1.3 ms each, more than the
 * transaction itself), and again for each COINBASE. geth gives the EVM the block's author once (Engine.Author); cairn
 * does the same: the VM runs a Clique block through its author view (coinbase = signer, see authorView) under a
 * Common whose consensus pays the coinbase. Only the VM's fee recipient and COINBASE read this; blocks, headers and
 * their validation keep the chain's own Common.
 */
function executionCommon(common: Common): Common {
  const copy = common.copy()
  if (common.consensusAlgorithm() !== 'clique') return copy
  // Common has no setter for a chain's consensus; copy() shares the chain parameters, so replace, never mutate
  const internals = copy as unknown as { _chainParams: Record<string, unknown> }
  internals._chainParams = { ...internals._chainParams, consensus: { type: 'pos', algorithm: 'casper', casper: {} } }
  return copy
}

/** `block` with its coinbase replaced by `author`: what the VM executes (see executionCommon). */
function authorView(block: Block, author: Uint8Array): Block {
  if (equalsBytes(block.header.coinbase.bytes, author)) return block
  const raw = block.header.raw()
  raw[2] = author
  const header = createBlockHeaderFromBytesArray(raw, { common: block.common, skipConsensusFormatValidation: true })
  return new Block(header, block.transactions, block.uncleHeaders, block.withdrawals, { common: block.common })
}

/**
 * What BlockBuilder.addTransaction records for a transaction it ran, for transactions cairn runs itself (addTransaction
 * re-creates the block with every earlier transaction on each call: quadratic), and the list roots it computes. Tied
 * to @ethereumjs/vm 10.1.3's BlockBuilder fields (the version is pinned); the builder then computes requests, the
 * bloom and the state root from them as usual.
 *
 * The transactions themselves stay out of the builder: build() would re-create every one of them for a block that
 * only its header is read from. Each transaction and receipt is encoded as it is added (between the loop's yields),
 * and the event loop gets a turn before each list root of a large block: one of thousands of transactions otherwise
 * kept RPC waiting for its whole build(). An import's transactions root is given (`transactionsRoot`): the chain
 * computed it to validate the body, so it is not computed again.
 */
async function openBuilder(vm: VM, builder: BlockBuilder, transactionsRoot: Uint8Array | undefined): Promise<{ add(tx: TypedTransaction, result: RunTxResult, blobGas: bigint): void; gasUsed(): bigint }> {
  const b = builder as unknown as { transactions: TypedTransaction[]; transactionResults: RunTxResult[]; _minerValue: bigint; checkpointed: boolean }
  if (!Array.isArray(b.transactions) || !Array.isArray(b.transactionResults) || typeof b.checkpointed !== 'boolean') {
    throw new Error('unsupported @ethereumjs/vm BlockBuilder: cairn needs the version it pins')
  }
  // the builder only opens its state checkpoint before a system call or its own first transaction
  if (!b.checkpointed) {
    await vm.evm.journal.checkpoint()
    b.checkpointed = true
  }
  const encodedTxs: Uint8Array[] = []
  const encodedReceipts: Uint8Array[] = []
  // the roots of the block's lists from the whole lists at once, instead of one trie insertion per item
  const roots = builder as unknown as { transactionsTrie(): Promise<Uint8Array>; receiptTrie(): Promise<Uint8Array> }
  roots.transactionsTrie = async () => {
    if (transactionsRoot !== undefined) return transactionsRoot
    if (encodedTxs.length > LARGE_LIST) await yieldToEventLoop()
    return orderedTrieRoot(encodedTxs)
  }
  roots.receiptTrie = async () => {
    if (encodedReceipts.length > LARGE_LIST) await yieldToEventLoop()
    return orderedTrieRoot(encodedReceipts)
  }
  return {
    add(tx, result, blobGas) {
      if (transactionsRoot === undefined) encodedTxs.push(txBytes(tx))
      encodedReceipts.push(encodeReceipt(result.receipt, tx.type))
      b.transactionResults.push(result)
      b._minerValue += result.minerValue
      builder.gasUsed += result.blockGasSpent
      builder.blobGasUsed += blobGas
    },
    gasUsed: () => builder.gasUsed,
  }
}

/**
 * ethereumjs's default caches are unbounded maps (an LRU could evict an account changed but not yet flushed), and the
 * executor keeps them across blocks: once they hold this many entries they are dropped at the next block boundary,
 * when everything in them is flushed, so memory does not grow with the state.
 */
export interface StateCacheLimits {
  accounts: number
  /** accounts whose storage slots (and storage trie) are cached */
  storageOwners: number
}

const DEFAULT_CACHE_LIMITS: StateCacheLimits = { accounts: 50_000, storageOwners: 5_000 }

function outgrown(sm: BatchedStateManager, limits: StateCacheLimits): boolean {
  const held = sm.cachedEntries()
  return held.accounts > limits.accounts || held.storageOwners > limits.storageOwners
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
