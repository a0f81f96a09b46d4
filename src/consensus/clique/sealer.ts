import { EventEmitter } from 'node:events'

import type { Block, BlockHeader, HeaderData } from '@ethereumjs/block'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'

import type { Chain } from '../../chain/chain.ts'
import type { Logger } from '../../cli/log.ts'
import type { CliqueEngine } from './engine.ts'
import { calcBaseFee, calcDifficulty, isCheckpoint } from './rules.ts'
import { EXTRA_SEAL, EXTRA_VANITY, privateKeyToAddress, sealBlock } from './seal.ts'
import type { AddressHex } from './seal.ts'
import { NONCE_AUTHORIZE, NONCE_DROP, canSeal, checkProposal, isAuthorized, validVote } from './snapshot.ts'
import type { Snapshot } from './snapshot.ts'

/** Where the sealer gets transactions: the pool, best first (by effective tip at `baseFee`, nonce order kept per sender). */
export interface TxSource {
  candidates(baseFee: bigint | undefined): Iterable<TypedTransaction>
  /** whether anything is waiting; with period 0 (or emptyBlocks false) the sealer seals only then */
  hasPending(): boolean
  /** told when the pool gains executable transactions, so a waiting sealer wakes up */
  onPending(listener: () => void): () => void
}

export const noTransactions: TxSource = { candidates: () => [], hasPending: () => false, onPending: () => () => {} }

export interface SealerOptions {
  chain: Chain
  engine: CliqueEngine
  signerKey: Uint8Array
  txs?: TxSource
  log: Logger
  /** seconds between blocks; default: the genesis period (dev mode seals on its own cadence over a period-0 genesis) */
  interval?: number
  /** geth --miner.gaslimit: the gas limit blocks move towards; default: keep the parent's */
  gasLimitTarget?: bigint
  /** 32-byte vanity; default: cairn's version string */
  vanity?: Uint8Array
  now?: () => number
  random?: () => number
  /** false while the node is catching up with its peers (sync): sealing waits, re-checking every second */
  canSeal?: () => boolean
}

interface SealerEvents {
  sealed: [block: Block]
}

/** geth's clique wiggleTime: the out-of-turn delay unit */
const WIGGLE_MS = 500
/**
 * The share of a period a block's transaction intake may take (a second when the period is 0): the roots and the
 * write follow. Blocks then hold what executes in a period, and come every period under any load, where a backlog
 * of thousands of transactions would otherwise make one block that takes many periods to build and to import on
 * every peer. geth bounds its block filling the same way, with its recommit interval.
 * With other signers the next block is another node's, which must import this one first, and an import takes about
 * as long as the build: the intake then leaves room for it within the period.
 */
const INTAKE_SHARE_ALONE = 0.75
const INTAKE_SHARE_WITH_OTHER_SIGNERS = 0.3
/** in-turn arrivals whose lateness sets how long an out-of-turn sealer waits */
const IN_TURN_ARRIVALS_KEPT = 8
/** how often a sealer told to wait (syncing) looks again */
const SYNC_RECHECK_MS = 1000

/**
 * Seals blocks on top of the head as the node's Clique signer, as geth 1.13's clique.Seal and miner worker do:
 * in turn at parent.timestamp + period; out of turn after an extra random delay up to (N/2+1) x 500 ms, so the
 * in-turn block usually arrives first; never when the recent-signer rule forbids it. With period 0 it seals as soon
 * as transactions wait. Votes proposed with clique_propose go into the blocks it seals. Any new head (its own
 * or a peer's) cancels the attempt in progress and starts the next one.
 */
export class Sealer extends EventEmitter<SealerEvents> {
  readonly address: AddressHex
  private readonly opts: SealerOptions
  private readonly interval: number
  private readonly txs: TxSource
  private readonly proposals = new Map<AddressHex, boolean>()
  private timer: NodeJS.Timeout | undefined
  private attempt = 0
  private running = false
  private unsubscribe: (() => void)[] = []
  private warnedUnauthorized = false
  private waitingForTxs = false
  /** how late (ms after their timestamp) the last peers' in-turn blocks became the head here, newest last */
  private readonly inTurnLate: number[] = []
  private lastSealed: Block | undefined

  constructor(opts: SealerOptions) {
    super()
    this.opts = opts
    this.address = privateKeyToAddress(opts.signerKey)
    this.interval = opts.interval ?? opts.engine.config.period
    this.txs = opts.txs ?? noTransactions
  }

  start(): void {
    if (this.running) return
    this.running = true
    const onHead = (block: Block) => {
      this.noteInTurnArrival(block)
      this.schedule()
    }
    this.opts.chain.on('head', onHead)
    this.unsubscribe.push(() => this.opts.chain.off('head', onHead))
    // only a sealer paused for want of transactions wakes up for them; restarting an attempt on every arrival would
    // abandon each block being built while transactions keep coming, and seal nothing until they stop
    this.unsubscribe.push(this.txs.onPending(() => this.waitingForTxs && this.schedule()))
    this.schedule()
  }

  stop(): void {
    this.running = false
    this.attempt++
    clearTimeout(this.timer)
    for (const u of this.unsubscribe.splice(0)) u()
  }

  /** clique_propose: vote to add (true) or drop (false) a signer in the blocks this node seals. */
  async propose(address: string, authorize: boolean): Promise<void> {
    const addr = address.toLowerCase() as AddressHex
    checkProposal(await this.headSnapshot(), addr, authorize)
    this.proposals.set(addr, authorize)
  }

  /** clique_discard */
  discard(address: string): void {
    this.proposals.delete(address.toLowerCase() as AddressHex)
  }

  /** clique_proposals */
  currentProposals(): Record<AddressHex, boolean> {
    return Object.fromEntries(this.proposals)
  }

  /**
   * Seals one block on the current head now, without waiting for the schedule (tests, and tools that drive a
   * period-0 chain). Refuses when this signer may not seal the next block.
   */
  async sealNow(): Promise<Block> {
    const parent = this.opts.chain.heads().latest
    const snapshot = await this.opts.engine.snapshotAt(parent, this.opts.chain)
    if (!canSeal(snapshot, this.address, Number(parent.number + 1n))) throw new Error(`${this.address} may not seal block ${parent.number + 1n} (unauthorized or signed recently)`)
    const timestamp = BigInt(Math.max(Number(parent.timestamp) + this.interval, Math.floor((this.opts.now ?? Date.now)() / 1000)))
    const block = await this.seal(this.attempt, parent, snapshot, timestamp, calcDifficulty(snapshot, this.address))
    if (block === undefined) throw new Error('the head moved while sealing')
    return block
  }

  /** how long a block's transaction intake may take, with `signers` authorized */
  private intakeMs(signers: number): number {
    return (signers > 1 ? INTAKE_SHARE_WITH_OTHER_SIGNERS : INTAKE_SHARE_ALONE) * Math.max(this.interval, 1) * 1000
  }

  /**
   * Out of turn, a peer's block on its way to the head makes this node's block a fork that every node would execute
   * and drop (it loses on difficulty if in turn, and races it otherwise): waits for the imports in flight, and tells
   * whether one of them moved the head, so this attempt is void. geth imports fast enough that it need not wait.
   */
  private async headMovedByImports(attempt: number): Promise<boolean> {
    if (!this.opts.chain.importing) return false
    await this.opts.chain.settled()
    return attempt !== this.attempt
  }

  /**
   * Under load an in-turn block comes late (its build and every peer's import of it take longer), and an out-of-turn
   * sealer that keeps geth's fixed delay seals a rival block at many heights: every node then executes both and
   * drops one (a 4-node devnet at saturation: 12 of 40 heights, a fifth of all execution). So out of turn, this
   * sealer also waits as long as the latest in-turn blocks took to arrive, up to a period.
   */
  private noteInTurnArrival(block: Block): void {
    if (block === this.lastSealed || block.header.difficulty !== 2n) return
    this.inTurnLate.push(Math.max(0, (this.opts.now ?? Date.now)() - Number(block.header.timestamp) * 1000))
    if (this.inTurnLate.length > IN_TURN_ARRIVALS_KEPT) this.inTurnLate.shift()
  }

  private headSnapshot(): Promise<Snapshot> {
    return this.opts.engine.snapshotAt(this.opts.chain.heads().latest, this.opts.chain)
  }

  /** Starts (or restarts) the attempt to seal on the current head. */
  private schedule(): void {
    if (!this.running) return
    this.waitingForTxs = false
    const attempt = ++this.attempt
    clearTimeout(this.timer)
    this.prepare(attempt).catch((err) => this.opts.log.error(`Sealing failed: ${(err as Error).message}`))
  }

  private async prepare(attempt: number): Promise<void> {
    const { chain, engine, log } = this.opts
    if (this.opts.canSeal?.() === false) {
      this.timer = setTimeout(() => this.schedule(), SYNC_RECHECK_MS)
      return
    }
    const parent = chain.heads().latest
    const snapshot = await engine.snapshotAt(parent, chain)
    if (attempt !== this.attempt) return
    const number = parent.number + 1n
    if (!isAuthorized(snapshot, this.address)) {
      if (!this.warnedUnauthorized) log.warn('Sealer is not an authorized signer: following the chain only', { signer: this.address, number: Number(number) })
      this.warnedUnauthorized = true
      return
    }
    this.warnedUnauthorized = false
    if (!canSeal(snapshot, this.address, Number(number))) {
      log.debug('Signed recently, must wait for others', { number: Number(number) })
      return
    }
    const checkpoint = isCheckpoint(number, engine.config)
    const needsTxs = this.interval === 0 || (engine.config.emptyBlocks === false && !checkpoint)
    if (needsTxs && !this.txs.hasPending()) {
      log.debug('Sealing paused, waiting for transactions')
      this.waitingForTxs = true
      return
    }
    const difficulty = calcDifficulty(snapshot, this.address)
    const { timestamp, delay } = sealSchedule({
      parentTimestamp: parent.timestamp,
      interval: this.interval,
      intakeMs: this.intakeMs(snapshot.signers.length),
      nowMs: (this.opts.now ?? Date.now)(),
      inTurn: difficulty === 2n,
      signers: snapshot.signers.length,
      random: this.opts.random ?? Math.random,
      inTurnLateMs: Math.max(0, ...this.inTurnLate),
    })
    this.timer = setTimeout(() => {
      this.seal(attempt, parent, snapshot, timestamp, difficulty).catch((err) => log.error(`Sealing block ${number} failed: ${(err as Error).message}`))
    }, delay)
  }

  private async seal(attempt: number, parent: BlockHeader, snapshot: Snapshot, timestamp: bigint, difficulty: bigint): Promise<Block | undefined> {
    const { chain, engine, log } = this.opts
    if (attempt !== this.attempt) return undefined
    const inTurn = difficulty === 2n
    if (!inTurn && (await this.headMovedByImports(attempt))) return undefined
    const number = parent.number + 1n
    const checkpoint = isCheckpoint(number, engine.config)
    const common = chain.common.copy()
    common.setHardforkBy({ blockNumber: number, timestamp })

    // a vote, unless this is a checkpoint (which carries the signer list instead)
    let coinbase: Uint8Array = new Uint8Array(20)
    let nonce = NONCE_DROP
    if (!checkpoint) {
      const votes = [...this.proposals].filter(([address, authorize]) => validVote(snapshot, address, authorize))
      if (votes.length > 0) {
        const [address, authorize] = votes[Math.floor((this.opts.random ?? Math.random)() * votes.length)]
        coinbase = hexToBytes(address)
        nonce = authorize ? NONCE_AUTHORIZE : NONCE_DROP
      }
    }
    const vanity = this.opts.vanity ?? defaultVanity
    const signers = checkpoint ? concatBytes(...snapshot.signers.map((s) => hexToBytes(s))) : new Uint8Array()
    const header: HeaderData = {
      parentHash: parent.hash(),
      number,
      timestamp,
      difficulty,
      coinbase,
      nonce,
      extraData: concatBytes(vanity, signers, new Uint8Array(EXTRA_SEAL)),
      gasLimit: nextGasLimit(parent.gasLimit, this.opts.gasLimitTarget ?? parent.gasLimit),
      ...(common.isActivatedEIP(1559) ? { baseFeePerGas: calcBaseFee(parent) } : {}),
      ...(common.isActivatedEIP(4844)
        ? { excessBlobGas: parent.common.isActivatedEIP(4844) ? parent.calcNextExcessBlobGas(common) : 0n, blobGasUsed: 0n, parentBeaconBlockRoot: new Uint8Array(32) }
        : {}),
    }
    const key = this.opts.signerKey
    const started = performance.now()
    const built = await chain.buildBlock(parent, header, this.txs.candidates(header.baseFeePerGas as bigint | undefined), hexToBytes(this.address), started + this.intakeMs(snapshot.signers.length))
    if (attempt !== this.attempt) return undefined // a new head arrived while building: this block would be a fork
    if (!inTurn && (await this.headMovedByImports(attempt))) return undefined
    const sealed = sealBlock(built.block, key)
    // our own block passes the same rules as any peer's before it is written
    await engine.verifyHeader(sealed.header, parent, chain)
    // its head event is not a peer's arrival
    this.lastSealed = sealed
    const outcome = await chain.commitBuilt(sealed, built.executed)
    log.info('Successfully sealed new block', {
      number: Number(number),
      hash: bytesToHex(sealed.hash()),
      txs: sealed.transactions.length,
      gas: Number(sealed.header.gasUsed),
      inturn: inTurn,
      elapsed: `${(performance.now() - started).toFixed(1)}ms`,
      ...(outcome !== 'imported' ? { outcome } : {}),
    })
    for (const r of built.rejected) log.debug('Transaction left out of block', { hash: bytesToHex(r.tx.hash()), reason: r.error })
    this.emit('sealed', sealed)
    return sealed
  }
}

/**
 * When to seal the child of a block (geth clique.Prepare and Seal): its timestamp is parent + period, or now if
 * that has passed; the in-turn signer starts at that time, the others after an extra random delay of up to
 * (signers/2 + 1) x 500 ms. geth builds its block before that time and only signs then; cairn's in-turn signer
 * builds from that time for up to `intakeMs`, so the others wait that long too, keeping geth's margin between the
 * in-turn block and the out-of-turn ones. When in-turn blocks have lately arrived later than that (`inTurnLateMs`,
 * after their timestamp), the others wait that long instead, up to a period.
 */
export function sealSchedule(o: { parentTimestamp: bigint; interval: number; intakeMs: number; nowMs: number; inTurn: boolean; signers: number; random: () => number; inTurnLateMs?: number }): { timestamp: bigint; delay: number } {
  const timestamp = BigInt(Math.max(Number(o.parentTimestamp) + o.interval, Math.floor(o.nowMs / 1000)))
  let delay = Number(timestamp) * 1000 - o.nowMs
  if (!o.inTurn) {
    const patience = Math.max(o.intakeMs, Math.min(o.inTurnLateMs ?? 0, Math.max(o.interval, 1) * 1000))
    delay += patience + Math.floor(o.random() * (Math.floor(o.signers / 2) + 1) * WIGGLE_MS)
  }
  return { timestamp, delay: Math.max(0, delay) }
}

const defaultVanity = (() => {
  const v = new Uint8Array(EXTRA_VANITY)
  v.set(new TextEncoder().encode('cairn').subarray(0, EXTRA_VANITY))
  return v
})()

/** geth core.CalcGasLimit: move towards the target by at most parent/1024 - 1 per block. */
export function nextGasLimit(parentGasLimit: bigint, target: bigint): bigint {
  const delta = parentGasLimit / 1024n - 1n
  if (target > parentGasLimit) return parentGasLimit + delta < target ? parentGasLimit + delta : target
  if (target < parentGasLimit) return parentGasLimit - delta > target ? parentGasLimit - delta : target
  return parentGasLimit
}
