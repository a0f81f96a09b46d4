/**
 * A real dev chain for the pool tests: the dev genesis (chain 1337, Prague, 10 funded accounts), signed
 * transactions from the dev keys, and blocks built, sealed by the single Clique signer and committed.
 */
import type { TestContext } from 'node:test'

import type { Block, BlockHeader } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'
import { createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import type { FeeMarket1559Tx, LegacyTx, TypedTransaction } from '@ethereumjs/tx'
import { concatBytes, hexToBytes } from '@ethereumjs/util'
import type { PrefixedHexString } from '@ethereumjs/util'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { EXTRA_SEAL, EXTRA_VANITY, privateKeyToAddress, sealBlock } from '../../src/consensus/clique/seal.ts'
import { TxPoolError } from '../../src/txpool/errors.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import type { TxPoolOptions } from '../../src/txpool/txpool.ts'
import { deferCleanup, tempDir } from '../helpers.ts'

export const GWEI = 1_000_000_000n
/** the dev genesis base fee */
export const BASE_FEE = GWEI
export const DEV_BALANCE = 10_000n * 10n ** 18n

export interface DevChain {
  chain: Chain
  dir: string
  /** the head's fork (Prague): what transactions are signed with */
  common: Common
  keys: Uint8Array[]
  /** lowercase, as the pool reports senders */
  addresses: string[]
}

/** A dev chain; `edit` may change the genesis first (its `config` is geth's chain config). */
export async function devChain(t: TestContext, edit?: (genesis: { config: Record<string, unknown> } & Record<string, unknown>) => void): Promise<DevChain> {
  const dir = tempDir(t, 'cairn-txpool-')
  const genesis = devGenesis({ period: 1, gasLimit: 30_000_000n }) as { config: Record<string, unknown> } & Record<string, unknown>
  edit?.(genesis)
  await Chain.init(dir, JSON.stringify(genesis))
  const chain = await Chain.open(dir)
  deferCleanup(t, () => chain.close())
  const accounts = devAccounts(10)
  return {
    chain,
    dir,
    common: chain.heads().latest.common,
    keys: accounts.map((a) => hexToBytes(a.privateKey as PrefixedHexString)),
    addresses: accounts.map((a) => a.address.toLowerCase()),
  }
}

export interface TxOptions {
  to?: string | null
  value?: bigint
  gasLimit?: bigint
  tip?: bigint
  feeCap?: bigint
  data?: Uint8Array
  common?: Common
}

/** An EIP-1559 transfer from dev account `from`: 1 wei to account 9, tip 1 gwei, fee cap 2 gwei unless told. */
export function transfer(dc: DevChain, from: number, nonce: bigint, o: TxOptions = {}): FeeMarket1559Tx {
  const tip = o.tip ?? GWEI
  return createFeeMarket1559Tx(
    {
      nonce,
      to: o.to === null ? undefined : ((o.to ?? dc.addresses[9]) as PrefixedHexString),
      value: o.value ?? 1n,
      gasLimit: o.gasLimit ?? 21000n,
      maxPriorityFeePerGas: tip,
      maxFeePerGas: o.feeCap ?? tip + 2n * BASE_FEE,
      data: o.data,
      chainId: 1337n,
    },
    { common: o.common ?? dc.common },
  ).sign(dc.keys[from])
}

/** A legacy (EIP-155 protected) transfer from dev account `from`. */
export function legacy(dc: DevChain, from: number, nonce: bigint, gasPrice: bigint, o: TxOptions = {}): LegacyTx {
  return createLegacyTx(
    { nonce, to: (o.to ?? dc.addresses[9]) as PrefixedHexString, value: o.value ?? 1n, gasLimit: o.gasLimit ?? 21000n, gasPrice, data: o.data },
    { common: o.common ?? dc.common },
  ).sign(dc.keys[from])
}

/**
 * Builds a block with `txs` on `parent` (default: the head), sealed in turn by the dev signer, and commits it.
 * `timestamp` defaults to parent + 1; a different one gives a competing block at the same height. `intakeUntil` is
 * the build's intake deadline (performance.now() time).
 */
export async function mine(dc: DevChain, txs: Iterable<TypedTransaction>, o: { parent?: BlockHeader; timestamp?: bigint; intakeUntil?: number } = {}): Promise<Block> {
  const { chain } = dc
  const parent = o.parent ?? chain.heads().latest
  const number = parent.number + 1n
  const timestamp = o.timestamp ?? parent.timestamp + 1n
  const common = chain.common.copy()
  common.setHardforkBy({ blockNumber: number, timestamp })
  const key = dc.keys[0]
  const built = await chain.buildBlock(
    parent,
    {
      parentHash: parent.hash(),
      number,
      timestamp,
      difficulty: 2n,
      coinbase: new Uint8Array(20),
      nonce: new Uint8Array(8),
      extraData: concatBytes(new Uint8Array(EXTRA_VANITY), new Uint8Array(EXTRA_SEAL)),
      gasLimit: parent.gasLimit,
      baseFeePerGas: parent.calcNextBaseFee(),
      excessBlobGas: parent.calcNextExcessBlobGas(common),
      blobGasUsed: 0n,
      parentBeaconBlockRoot: new Uint8Array(32),
    },
    txs,
    hexToBytes(privateKeyToAddress(key)),
    o.intakeUntil,
  )
  const sealed = sealBlock(built.block, key)
  await chain.importBlock(sealed)
  return sealed
}

/** A started pool on `dc`, stopped when the test ends. */
export async function startPool(t: TestContext, dc: DevChain, opts: TxPoolOptions = {}): Promise<TxPool> {
  const pool = new TxPool(dc.chain, opts)
  await pool.start()
  deferCleanup(t, () => pool.stop())
  return pool
}

/** The message of the TxPoolError `promise` rejects with. */
export async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    if (err instanceof TxPoolError) return err.message
    throw err
  }
  throw new Error('the transaction was accepted')
}
