import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createBlock } from '@ethereumjs/block'
import type { Block } from '@ethereumjs/block'
import { Common, Hardfork, Mainnet } from '@ethereumjs/common'
import { Caches, MerkleStateManager } from '@ethereumjs/statemanager'
import { createAccessList2930Tx, createFeeMarket1559Tx, createLegacyTx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, Address, bytesToHex, createAddressFromPrivateKey, hexToBytes } from '@ethereumjs/util'
import { createVM, runTx } from '@ethereumjs/vm'
import type { RunTxResult, VM } from '@ethereumjs/vm'

import { plainTransfersApply, runPlainTransfer } from '../../src/execution/plainTransfer.ts'

const GWEI = 10n ** 9n
const ETH = 10n ** 18n
const BASE_FEE = 7n * GWEI
const KEY_A = hexToBytes(`0x${'11'.repeat(32)}`)
const KEY_B = hexToBytes(`0x${'22'.repeat(32)}`)
const A = createAddressFromPrivateKey(KEY_A)
const B = createAddressFromPrivateKey(KEY_B)
const EMPTY = new Address(hexToBytes(`0x${'ee'.repeat(20)}`))
const CONTRACT = new Address(hexToBytes(`0x${'cc'.repeat(20)}`))
const FEE_RECIPIENT = new Address(hexToBytes(`0x${'fe'.repeat(20)}`))

/** a VM whose state holds A and B (funded), an empty account and a contract */
async function world(hardfork: Hardfork): Promise<{ vm: VM; common: Common }> {
  const common = new Common({ chain: Mainnet, hardfork })
  const vm = await createVM({ common, stateManager: new MerkleStateManager({ caches: new Caches(), common }) })
  const sm = vm.stateManager
  for (const address of [A, B]) await sm.putAccount(address, new Account(0n, 100n * ETH))
  await sm.putAccount(EMPTY, new Account())
  await sm.putAccount(CONTRACT, new Account())
  await sm.putCode(CONTRACT, Uint8Array.of(0x60, 0x00, 0x60, 0x00, 0xf3))
  await (sm as MerkleStateManager).flush()
  return { vm, common }
}

function view(common: Common, coinbase: Address): Block {
  const london = common.isActivatedEIP(1559)
  return createBlock({ header: { number: 1n, gasLimit: 30_000_000n, coinbase, timestamp: 1n, baseFeePerGas: london ? BASE_FEE : undefined } }, { common, skipConsensusFormatValidation: true })
}

async function stateOf(vm: VM, addresses: Address[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const a of addresses) {
    const account = await vm.stateManager.getAccount(a)
    out[a.toString()] = account === undefined ? 'none' : `nonce ${account.nonce} balance ${account.balance}`
  }
  await (vm.stateManager as MerkleStateManager).flush()
  out.root = bytesToHex(await vm.stateManager.getStateRoot())
  return out
}

function summary(r: RunTxResult): Record<string, unknown> {
  const receipt = r.receipt as { status: number; cumulativeBlockGasUsed: bigint; bitvector: Uint8Array; logs: unknown[] }
  return {
    totalGasSpent: r.totalGasSpent,
    blockGasSpent: r.blockGasSpent,
    amountSpent: r.amountSpent,
    minerValue: r.minerValue,
    gasRefund: r.gasRefund,
    bloom: bytesToHex(r.bloom.bitvector),
    receipt: { status: receipt.status, cumulative: receipt.cumulativeBlockGasUsed, bloom: bytesToHex(receipt.bitvector), logs: receipt.logs.length },
  }
}

/**
 * Runs `txs` in order through runTx on one VM and through the plain-transfer path on another, from the same state,
 * and compares every result and the state after each transaction.
 */
async function sameAsRunTx(hardfork: Hardfork, coinbase: Address, build: (common: Common) => TypedTransaction[], watch: Address[]): Promise<void> {
  const reference = await world(hardfork)
  const fast = await world(hardfork)
  assert.ok(plainTransfersApply(fast.vm), `the path applies at ${hardfork}`)
  const block = view(fast.common, coinbase)
  const txs = build(fast.common)
  let gasUsed = 0n
  for (const [i, tx] of txs.entries()) {
    const expected = await runTx(reference.vm, { tx, block: view(reference.common, coinbase), skipHardForkValidation: true, blockGasUsed: gasUsed })
    const got = await runPlainTransfer(fast.vm, tx, block, gasUsed)
    assert.ok(got !== undefined, `tx ${i} takes the plain path`)
    assert.deepEqual(summary(got), summary(expected), `tx ${i}: results`)
    assert.deepEqual(await stateOf(fast.vm, [A, B, EMPTY, coinbase, ...watch]), await stateOf(reference.vm, [A, B, EMPTY, coinbase, ...watch]), `tx ${i}: state`)
    gasUsed += expected.totalGasSpent
  }
}

describe('plain transfers without the EVM', () => {
  const newcomer = new Address(hexToBytes(`0x${'a1'.repeat(20)}`))
  const untouched = new Address(hexToBytes(`0x${'a2'.repeat(20)}`))
  const transfers = (common: Common): TypedTransaction[] => {
    let nonceA = 0n
    const fromA = (to: Address, value: bigint, fees: { maxFeePerGas?: bigint; maxPriorityFeePerGas?: bigint } = {}) =>
      createFeeMarket1559Tx({ nonce: nonceA++, to, value, gasLimit: 50_000n, maxFeePerGas: fees.maxFeePerGas ?? 20n * GWEI, maxPriorityFeePerGas: fees.maxPriorityFeePerGas ?? 2n * GWEI }, { common }).sign(KEY_A)
    return [
      fromA(newcomer, ETH),
      fromA(untouched, 0n), // a zero-value transfer to no account creates none
      fromA(EMPTY, 0n), // touching an empty account removes it (EIP-161)
      fromA(A, 5n), // to itself
      fromA(B, 3n, { maxFeePerGas: BASE_FEE + GWEI, maxPriorityFeePerGas: 5n * GWEI }), // the tip capped by the fee cap
      fromA(B, 1n, { maxFeePerGas: BASE_FEE, maxPriorityFeePerGas: 0n }), // no tip: the fee recipient is touched with nothing
      createLegacyTx({ nonce: nonceA++, to: B, value: 7n, gasLimit: 21_000n, gasPrice: 9n * GWEI }, { common }).sign(KEY_A),
      createAccessList2930Tx({ nonce: nonceA++, to: B, value: 7n, gasLimit: 30_000n, gasPrice: 9n * GWEI, accessList: [{ address: CONTRACT.toString(), storageKeys: [`0x${'00'.repeat(32)}`] }] }, { common }).sign(KEY_A),
    ]
  }

  for (const hardfork of [Hardfork.Prague, Hardfork.Cancun, Hardfork.London]) {
    it(`gives runTx's results and state at ${hardfork}, for a fee recipient with no account`, async () => {
      await sameAsRunTx(hardfork, FEE_RECIPIENT, transfers, [newcomer, untouched])
    })
  }

  it('gives runTx results when the sender is the fee recipient, and when the recipient is', async () => {
    await sameAsRunTx(Hardfork.Prague, A, transfers, [newcomer, untouched])
    await sameAsRunTx(Hardfork.Prague, B, transfers, [newcomer, untouched])
  })

  it('before London the fee recipient gets the whole gas price', async () => {
    await sameAsRunTx(Hardfork.Berlin, FEE_RECIPIENT, (common) => [createLegacyTx({ nonce: 0n, to: B, value: 1n, gasLimit: 21_000n, gasPrice: 3n * GWEI }, { common }).sign(KEY_A)], [])
  })

  it('leaves to runTx, changing nothing, every transaction that runs code or fails a check', async () => {
    const { vm, common } = await world(Hardfork.Prague)
    const block = view(common, FEE_RECIPIENT)
    const tx = (fields: Record<string, unknown>, key = KEY_A) =>
      createFeeMarket1559Tx({ nonce: 0n, to: B, value: 1n, gasLimit: 50_000n, maxFeePerGas: 20n * GWEI, maxPriorityFeePerGas: GWEI, ...fields }, { common }).sign(key)
    const before = await stateOf(vm, [A, B])
    const cases: [string, TypedTransaction][] = [
      ['to a precompile', tx({ to: new Address(hexToBytes(`0x${'00'.repeat(19)}01`)) })],
      ['to a contract', tx({ to: CONTRACT })],
      ['with calldata', tx({ data: Uint8Array.of(1) })],
      ['a deployment', tx({ to: undefined })],
      ['a wrong nonce', tx({ nonce: 1n })],
      ['more value than the balance', tx({ value: 100n * ETH })],
      ['a fee cap under the base fee', tx({ maxFeePerGas: BASE_FEE - 1n, maxPriorityFeePerGas: 0n })],
      ['a gas limit under the intrinsic gas', tx({ gasLimit: 20_999n })],
      ['a sender without an account', tx({}, hexToBytes(`0x${'33'.repeat(32)}`))],
    ]
    for (const [what, t] of cases) assert.equal(await runPlainTransfer(vm, t, block, 0n), undefined, what)
    assert.deepEqual(await stateOf(vm, [A, B]), before)
  })

  it('does not apply under rules it does not reproduce', async () => {
    assert.equal(plainTransfersApply((await world(Hardfork.Osaka)).vm), false, 'Osaka')
    assert.equal(plainTransfersApply((await world(Hardfork.SpuriousDragon)).vm), false, 'before Byzantium')
  })
})
