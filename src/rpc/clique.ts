/**
 * The clique namespace, answering as geth 1.13's consensus/clique/api.go: voting snapshots and signers at a block,
 * the votes this node casts, the sealing activity of the last 64 blocks, and the sealer of a block. Results have
 * geth's JSON shapes: addresses are lowercase hex (common.Address marshals as text, not checksummed) and Go maps
 * come out with their keys sorted.
 */
import { createBlockFromBytesArray, createBlockHeaderFromBytesArray } from '@ethereumjs/block'
import type { BlockBytes, BlockHeader, BlockHeaderBytes } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { RLP } from '@ethereumjs/rlp'
import { bytesToHex } from '@ethereumjs/util'

import type { HeaderReader } from '../chain/chain.ts'
import type { ChainReader } from '../chain/types.ts'
import type { CliqueEngine } from '../consensus/clique/engine.ts'
import { CliqueError } from '../consensus/clique/errors.ts'
import { DIFF_IN_TURN, isCheckpoint } from '../consensus/clique/rules.ts'
import { checkProposal, snapshotToJSON } from '../consensus/clique/snapshot.ts'
import type { Snapshot } from '../consensus/clique/snapshot.ts'
import type { CliqueContext, CliqueProposals, RpcContext } from './context.ts'
import { serverError, unknownBlock } from './errors.ts'
import { headerByNumber } from './eth.ts'
import { toQuantity } from './format.ts'
import type { BlockAuthor } from './format.ts'
import { ParamError, address, blockNumber, blockRef, boolean, hash, optional, string } from './params.ts'
import type { BlockNumberParam, BlockRef, Param } from './params.ts'
import { methodsOver, namespace } from './registry.ts'

/** What the clique namespace is bound to: a node whose chain runs the Clique engine. */
export type CliqueRpcContext = Pick<RpcContext, 'chain'> & { readonly clique: CliqueContext }

const method = methodsOver<CliqueRpcContext>()

/** geth's clique_status looks at this many blocks before the head. */
const STATUS_BLOCKS = 64n

/** The `author` and `clique` parts of the RPC context of a Clique chain; without a sealer, votes are held in IdleProposals. */
export function cliqueRpcContext(chain: ChainReader, engine: CliqueEngine, sealer?: CliqueProposals): Pick<RpcContext, 'author' | 'clique'> {
  return { author: cliqueAuthor(engine), clique: { engine, proposals: sealer ?? new IdleProposals(chain, engine) } }
}

/** The sealer recovered from the seal; the genesis block has no seal, so its coinbase stays. */
export function cliqueAuthor(engine: CliqueEngine): BlockAuthor {
  return (header) => (header.number === 0n ? header.coinbase.toString() : engine.signerOf(header))
}

/**
 * Votes on a node that does not seal. geth keeps clique_propose votes in its engine whether or not it seals and
 * answers these calls alike, so cairn does too: votes are checked, listed and discarded, but no block carries them.
 */
export class IdleProposals implements CliqueProposals {
  private readonly chain: ChainReader
  private readonly engine: CliqueEngine
  private readonly votes = new Map<string, boolean>()

  constructor(chain: ChainReader, engine: CliqueEngine) {
    this.chain = chain
    this.engine = engine
  }

  async propose(address: string, authorize: boolean): Promise<void> {
    checkProposal(await this.engine.snapshotAt(this.chain.heads().latest, headerReader(this.chain)), address, authorize)
    this.votes.set(address.toLowerCase(), authorize)
  }

  discard(address: string): void {
    this.votes.delete(address.toLowerCase())
  }

  currentProposals(): Record<string, boolean> {
    return Object.fromEntries(this.votes)
  }
}

/** The engine reads ancestors by hash; the canonical index answers by number. */
function headerReader(chain: ChainReader): HeaderReader {
  return { getHeaderByHash: (h) => chain.getHeaderByHash(h), getHeaderByNumber: (n) => headerByNumber(chain, n) }
}

/** Clique rule failures reach the caller with geth's message (-32000); anything else stays an internal error. */
async function cliqueCall<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw err instanceof CliqueError ? serverError(err.message) : err
  }
}

const sortKeys = <T>(record: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))

/**
 * An omitted block is the head. Tags resolve as in the eth namespace: geth 1.13 turns pending, safe and finalized
 * into huge uint64 numbers here and answers "unknown block", an accident cairn does not copy.
 */
async function headerAt(chain: ChainReader, number: BlockNumberParam | undefined): Promise<BlockHeader> {
  const header = await headerByNumber(chain, number ?? 'latest')
  if (header === undefined) throw unknownBlock()
  return header
}

async function headerAtHash(chain: ChainReader, blockHash: Uint8Array): Promise<BlockHeader> {
  const header = await chain.getHeaderByHash(blockHash)
  if (header === undefined) throw unknownBlock()
  return header
}

function snapshotAt(ctx: CliqueRpcContext, header: BlockHeader): Promise<Snapshot> {
  return cliqueCall(() => ctx.clique.engine.snapshotAt(header, headerReader(ctx.chain)))
}

/**
 * geth's Snapshot as JSON. Its apply sets Votes to nil on a checkpoint block (and the genesis has none): null there.
 * Recents keys come out in numeric order where Go sorts them as strings ("10" before "9"): the same JSON value.
 */
function snapshotResult(snapshot: Snapshot, engine: CliqueEngine) {
  const json = snapshotToJSON(snapshot)
  return { ...json, votes: isCheckpoint(snapshot.number, engine.config) ? null : json.votes, tally: sortKeys(json.tally) }
}

/** geth's blockNumberOrHashOrRLP: a block reference (rpc.BlockNumberOrHash), else hex RLP of a block or a header. */
type SignerTarget = BlockRef | { rlp: Uint8Array }

const blockRefOrRlp: Param<SignerTarget> = {
  optional: false,
  parse(value) {
    try {
      return blockRef.parse(value)
    } catch (err) {
      if (!(err instanceof ParamError)) throw err
    }
    return { rlp: decodeHex(string.parse(value)) }
  },
}

/** hexutil.Decode, whose errors geth passes on unwrapped (a bad digit is reported before an odd length). */
function decodeHex(text: string): Uint8Array {
  if (text === '') throw new ParamError('empty hex string')
  if (!/^0[xX]/.test(text)) throw new ParamError('hex string without 0x prefix')
  const digits = text.slice(2)
  if (!/^[0-9a-fA-F]*$/.test(digits)) throw new ParamError('invalid hex string')
  if (digits.length % 2 !== 0) throw new ParamError('hex string of odd length')
  return Buffer.from(digits, 'hex')
}

/**
 * The header clique_getSigner looks at. Omitted (geth 1.13 crashes on a nil argument) and empty RLP ("0x") mean the
 * head, which is what geth's code intends for both.
 */
async function signerTarget(chain: ChainReader, target: SignerTarget | undefined): Promise<BlockHeader> {
  if (target === undefined || ('rlp' in target && target.rlp.length === 0)) return chain.heads().latest
  if ('rlp' in target) return headerFromRlp(chain.common, target.rlp)
  const header = 'hash' in target ? await chain.getHeaderByHash(target.hash) : await headerByNumber(chain, target.number)
  if (header === undefined) throw serverError(`missing block ${'hash' in target ? bytesToHex(target.hash) : describeNumber(target.number)}`)
  return header
}

/** rpc.BlockNumber's String: a tag, or the number in hex */
const describeNumber = (number: BlockNumberParam) => (typeof number === 'bigint' ? toQuantity(number) : number)

/** geth decodes the blob as a block first, then as a header; only the header matters for the signer. */
function headerFromRlp(common: Common, rlp: Uint8Array): BlockHeader {
  const opts = { common, setHardfork: true, skipConsensusFormatValidation: true }
  try {
    const decoded = RLP.decode(rlp)
    if (!Array.isArray(decoded)) throw new Error('not an RLP list')
    return Array.isArray(decoded[0])
      ? createBlockFromBytesArray(decoded as BlockBytes, opts).header
      : createBlockHeaderFromBytesArray(decoded as BlockHeaderBytes, opts)
  } catch (err) {
    throw serverError(`invalid block or header RLP: ${(err as Error).message}`)
  }
}

export const clique = namespace<CliqueRpcContext>('clique', [
  method({
    name: 'clique_getSnapshot',
    params: [optional(blockNumber)],
    handler: async (ctx, number) => snapshotResult(await snapshotAt(ctx, await headerAt(ctx.chain, number)), ctx.clique.engine),
  }),
  method({
    name: 'clique_getSnapshotAtHash',
    params: [hash],
    handler: async (ctx, blockHash) => snapshotResult(await snapshotAt(ctx, await headerAtHash(ctx.chain, blockHash)), ctx.clique.engine),
  }),
  method({
    name: 'clique_getSigners',
    params: [optional(blockNumber)],
    handler: async (ctx, number) => [...(await snapshotAt(ctx, await headerAt(ctx.chain, number))).signers],
  }),
  method({
    name: 'clique_getSignersAtHash',
    params: [hash],
    handler: async (ctx, blockHash) => [...(await snapshotAt(ctx, await headerAtHash(ctx.chain, blockHash))).signers],
  }),
  method({ name: 'clique_proposals', params: [], handler: (ctx) => sortKeys(ctx.clique.proposals.currentProposals()) }),
  method({
    name: 'clique_propose',
    params: [address, boolean],
    handler: async (ctx, target, authorize) => {
      await cliqueCall(() => ctx.clique.proposals.propose(bytesToHex(target), authorize))
      return null
    },
  }),
  method({
    name: 'clique_discard',
    params: [address],
    handler: (ctx, target) => {
      ctx.clique.proposals.discard(bytesToHex(target))
      return null
    },
  }),
  method({
    // the blocks [head-64, head), or from block 1 on shorter chains; the head itself is not counted, as in geth
    name: 'clique_status',
    params: [],
    handler: async (ctx) => {
      const head = ctx.chain.heads().latest
      const snapshot = await snapshotAt(ctx, head)
      // never the genesis, which has no seal: geth 1.13 counts it at head 64 and fails, and its arithmetic underflows
      // at head 0 and divides by zero at head 1, where cairn reports no blocks
      const start = head.number > STATUS_BLOCKS ? head.number - STATUS_BLOCKS : 1n
      const numBlocks = head.number > start ? Number(head.number - start) : 0
      const activity: Record<string, number> = Object.fromEntries(snapshot.signers.map((signer) => [signer, 0]))
      let inTurn = 0
      for (let n = start; n < head.number; n++) {
        const header = await headerByNumber(ctx.chain, n)
        if (header === undefined) throw serverError(`missing block ${n}`)
        if (header.difficulty === DIFF_IN_TURN) inTurn++
        const sealer = await cliqueCall(() => ctx.clique.engine.signerOf(header))
        activity[sealer] = (activity[sealer] ?? 0) + 1
      }
      return { inturnPercent: numBlocks === 0 ? 0 : (100 * inTurn) / numBlocks, sealerActivity: sortKeys(activity), numBlocks }
    },
  }),
  method({
    name: 'clique_getSigner',
    params: [optional(blockRefOrRlp)],
    handler: async (ctx, target) => {
      const header = await signerTarget(ctx.chain, target)
      return cliqueCall(() => ctx.clique.engine.signerOf(header))
    },
  }),
])
