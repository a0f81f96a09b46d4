/**
 * Shared by the WebSocket and filter tests: a Clique chain of three signers whose blocks the test seals one by one
 * (in turn or not, so forks and reorgs come out as planned), the Events contract, and a small JSON-RPC WebSocket
 * client.
 */
import type { TestContext } from 'node:test'

import type { Block } from '@ethereumjs/block'
import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToHex, concatBytes, createAddressFromString, createContractAddress, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { WebSocket } from 'ws'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import type { DevAccount } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import { buildCliqueGenesis } from '../../src/config/genesisBuilder.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { compileContract } from '../solc.ts'
import { tempDir } from '../helpers.ts'

/** Development accounts 0..2; sorted by address they are 2, 1, 0, so block n is in turn for [2, 1, 0][n % 3]. */
export const [ALICE, BOB, CAROL] = devAccounts(3)
const SORTED_SIGNERS = [CAROL, BOB, ALICE]
export const inTurnFor = (n: bigint) => SORTED_SIGNERS[Number(n % 3n)]

const genesis = JSON.stringify(
  buildCliqueGenesis({
    chainId: 1337,
    period: 0,
    epoch: 30000,
    signers: [ALICE.address, BOB.address, CAROL.address],
    alloc: [{ address: ALICE.address, balance: 10n ** 24n }],
    fork: 'prague',
    gasLimit: 30_000_000n,
    emptyBlocks: true,
  }),
)

export async function openChain(t: TestContext): Promise<Chain> {
  const dir = tempDir(t)
  await Chain.init(dir, genesis)
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  return chain
}

/** Seals the next block on `chain` as `signer` (difficulty 2 in turn, 1 out of turn) with `txs`. */
export function seal(chain: Chain, signer: DevAccount, txs: TypedTransaction[] = []): Promise<Block> {
  const queue = [...txs]
  const sealer = new Sealer({
    chain,
    engine: chain.engine as CliqueEngine,
    signerKey: hexToBytes(signer.privateKey as `0x${string}`),
    log: createLogger(0),
    txs: { candidates: () => queue.splice(0), hasPending: () => queue.length > 0, onPending: () => () => {} },
  })
  return sealer.sealNow()
}

const compiled = compileContract('Events.sol', 'Events')
/** Alice's first transaction deploys Events here. */
export const EVENTS_ADDRESS = createContractAddress(createAddressFromString(ALICE.address), 0n).toString()
export const PING_TOPIC = bytesToHex(keccak_256(new TextEncoder().encode('Ping(address,uint256,bytes32)')))
export const topicOf = (value: bigint) => bytesToHex(setLengthLeft(hexToBytes(`0x${value.toString(16).padStart(2, '0')}`), 32))
export const ALICE_TOPIC = bytesToHex(setLengthLeft(hexToBytes(ALICE.address as `0x${string}`), 32))

function aliceTx(chain: Chain, nonce: bigint, to: string | undefined, data: Uint8Array): TypedTransaction {
  const common = chain.common.copy()
  common.setHardfork('prague')
  const tx = createFeeMarket1559Tx({ nonce, to: to as `0x${string}` | undefined, data, gasLimit: 1_000_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n }, { common })
  return tx.sign(hexToBytes(ALICE.privateKey as `0x${string}`))
}

export const deployTx = (chain: Chain) => aliceTx(chain, 0n, undefined, hexToBytes(compiled.bytecode as `0x${string}`))
/** Events.ping(value), Alice's transaction number `nonce` */
export const pingTx = (chain: Chain, nonce: bigint, value: bigint) =>
  aliceTx(chain, nonce, EVENTS_ADDRESS, concatBytes(keccak_256(new TextEncoder().encode('ping(uint256)')).subarray(0, 4), setLengthLeft(hexToBytes(`0x${value.toString(16).padStart(2, '0')}`), 32)))

export interface Notification {
  subscription: string
  result: any
}

/** A JSON-RPC client over one WebSocket: calls by id, and the notifications in arrival order. */
export class RpcSocket {
  readonly ws: WebSocket
  private nextId = 1
  private readonly waiting = new Map<number, (reply: any) => void>()
  private readonly notifications: Notification[] = []
  private notified: (() => void) | undefined

  private constructor(ws: WebSocket) {
    this.ws = ws
    ws.on('message', (data) => {
      const message = JSON.parse(data.toString())
      if (message.method === 'eth_subscription') {
        this.notifications.push(message.params)
        this.notified?.()
      } else this.waiting.get(message.id)?.(message)
    })
  }

  static async open(url: string, t: TestContext, headers: Record<string, string> = {}): Promise<RpcSocket> {
    const ws = new WebSocket(url, { headers })
    t.after(() => ws.terminate())
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    return new RpcSocket(ws)
  }

  /** The whole reply: result or error. */
  request(method: string, params: unknown[] = []): Promise<any> {
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    })
  }

  async call(method: string, params: unknown[] = []): Promise<any> {
    const reply = await this.request(method, params)
    if (reply.error !== undefined) throw new Error(`${method}: ${reply.error.message}`)
    return reply.result
  }

  /** The next `count` notifications (waiting up to `timeoutMs` for them). */
  async take(count: number, timeoutMs = 5000): Promise<Notification[]> {
    const deadline = Date.now() + timeoutMs
    while (this.notifications.length < count) {
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`expected ${count} notifications, got ${this.notifications.length}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.notified = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    return this.notifications.splice(0, count)
  }

  /** Notifications received so far and not taken. */
  pending(): Notification[] {
    return [...this.notifications]
  }
}

export interface Forks {
  /** deploys Events; Bob seals it, in turn */
  block1: Block
  /** out of turn (difficulty 1): pings 1, 2, 3 in blocks 2, 3, 4 */
  forkA: Block[]
  /** in turn (difficulty 2): pings 20, 30 in blocks 2, 3; heavier than fork A only once block 3 is in */
  forkB: Block[]
}

/** Two forks from block 1, sealed on chains of their own, for importing into the chain a test serves. */
export async function buildForks(t: TestContext): Promise<Forks> {
  const a = await openChain(t)
  const block1 = await seal(a, inTurnFor(1n), [deployTx(a)])
  const forkA = [await seal(a, CAROL, [pingTx(a, 1n, 1n)]), await seal(a, ALICE, [pingTx(a, 2n, 2n)]), await seal(a, CAROL, [pingTx(a, 3n, 3n)])]
  const b = await openChain(t)
  await b.importBlock(block1)
  const forkB = [await seal(b, inTurnFor(2n), [pingTx(b, 1n, 20n)]), await seal(b, inTurnFor(3n), [pingTx(b, 2n, 30n)])]
  return { block1, forkA, forkB }
}
