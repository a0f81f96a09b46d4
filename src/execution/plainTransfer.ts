/**
 * A plain value transfer (no calldata, to an account without code that is not a precompile) run without the EVM.
 * Such a transaction executes no instruction: its gas is the intrinsic gas, its receipt has no logs, and its effect
 * is four balance moves and a nonce. runTx still opens journal checkpoints, warms every precompile's address, builds
 * an EVM message and a bloom, and reads and writes each account several times, which is most of what a block of
 * transfers costs to build and to import.
 *
 * Only the success path is taken here: any check runTx would fail, and any case outside the forks where these
 * rules are known to hold (Byzantium to Prague), returns undefined, and the caller runs runTx, which then gives the
 * exact error. The state changes are runTx's, applied in its order to one object per account, so that aliasing
 * (sender, recipient and fee recipient being the same account) comes out the same, and EIP-161's removal of touched
 * empty accounts too; each account is then put once.
 */
import { Hardfork } from '@ethereumjs/common'
import type { Block } from '@ethereumjs/block'
import type { EVM } from '@ethereumjs/evm'
import type { TypedTransaction } from '@ethereumjs/tx'
import { Account, KECCAK256_NULL, equalsBytes } from '@ethereumjs/util'
import type { Address } from '@ethereumjs/util'
import { Bloom } from '@ethereumjs/vm'
import type { RunTxResult, VM } from '@ethereumjs/vm'

import { senderAccountAddress } from '../crypto/senders.ts'

/** EIPs of forks after Prague that change how a transaction is charged or recorded */
const LATER_RULES = [7825, 7864, 7928, 7708, 7778, 8037, 2780] as const

/** Whether the VM's current rules are ones this path reproduces; asked once per block. */
export function plainTransfersApply(vm: VM): boolean {
  const common = vm.common
  if (!common.gteHardfork(Hardfork.Byzantium) || common.gteHardfork(Hardfork.Osaka)) return false
  // the fee recipient: runTx pays the Clique signer, recovered from the seal, under proof-of-authority rules
  if (common.consensusType() === 'poa') return false
  return !LATER_RULES.some((eip) => common.isActivatedEIP(eip))
}

/**
 * Runs `tx` as runTx would, if it is a plain transfer that succeeds; undefined otherwise (nothing changed). `block`
 * is the header view the transactions run against; `blockGasUsed` the gas of the block's transactions before it.
 */
export async function runPlainTransfer(vm: VM, tx: TypedTransaction, block: Block, blockGasUsed: bigint): Promise<RunTxResult | undefined> {
  const to = tx.to
  if (tx.type > 2 || to === undefined || tx.data.length !== 0 || (vm.evm as EVM).getPrecompile(to) !== undefined) return undefined
  const state = vm.stateManager
  const common = vm.common
  const london = common.isActivatedEIP(1559)
  const feeMarket = 'maxFeePerGas' in tx
  // typed transactions of forks not yet active: runTx's errors
  if ((tx.type > 0 && !common.isActivatedEIP(2930)) || (feeMarket && !london)) return undefined
  const baseFee = block.header.baseFeePerGas
  const gasUsed = tx.getIntrinsicGas()
  if (tx.gasLimit < gasUsed) return undefined

  // runTx's checks, all before any change
  const maxFee = feeMarket ? tx.maxFeePerGas : (tx as { gasPrice: bigint }).gasPrice
  if (london && (baseFee === undefined || maxFee < baseFee)) return undefined
  const caller = senderAccountAddress(tx)
  const sender = await state.getAccount(caller)
  if (sender === undefined || !equalsBytes(sender.codeHash, KECCAK256_NULL) || sender.nonce !== tx.nonce) return undefined
  if (sender.balance < tx.getUpfrontCost(baseFee)) return undefined
  if (sender.balance < tx.value + (feeMarket ? tx.gasLimit * maxFee : 0n)) return undefined
  // one object per address, so that aliases (the sender also being the recipient or the fee recipient) see each
  // other's changes; a missing account is an empty one, with no code
  const touched = new Map<string, { address: Address; account: Account }>([[caller.toString(), { address: caller, account: sender }]])
  const inHand = async (address: Address): Promise<Account> => {
    const key = address.toString()
    let entry = touched.get(key)
    if (entry === undefined) touched.set(key, (entry = { address, account: (await state.getAccount(address)) ?? new Account() }))
    return entry.account
  }
  const recipient = await inHand(to)
  if (!equalsBytes(recipient.codeHash, KECCAK256_NULL)) return undefined

  let gasPrice: bigint
  let tip: bigint
  if (feeMarket) {
    tip = tx.getEffectivePriorityFee(baseFee!)
    gasPrice = tip + baseFee!
  } else {
    gasPrice = maxFee
    tip = london ? gasPrice - baseFee! : 0n
  }

  // runTx's steps on the accounts in hand: the upfront charge and the nonce, the value, the unused gas back, the fee
  // recipient's share; then each account is put once
  sender.balance -= tx.gasLimit * gasPrice
  sender.nonce += 1n
  sender.balance -= tx.value
  recipient.balance += tx.value
  sender.balance += (tx.gasLimit - gasUsed) * gasPrice
  const minerValue = london ? gasUsed * tip : gasUsed * gasPrice
  ;(await inHand(block.header.coinbase)).balance += minerValue
  for (const { address, account } of touched.values()) {
    // EIP-161: a touched account left empty is removed (never the sender, which has a nonce now)
    if (account.isEmpty()) await state.deleteAccount(address)
    else await state.putAccount(address, account)
  }

  const bloom = new Bloom(undefined, common)
  return {
    execResult: { executionGasUsed: 0n, returnValue: new Uint8Array(0), logs: [], gasRefund: 0n },
    bloom,
    amountSpent: gasUsed * gasPrice,
    totalGasSpent: gasUsed,
    blockGasSpent: gasUsed,
    gasRefund: 0n,
    minerValue,
    receipt: { status: 1, cumulativeBlockGasUsed: blockGasUsed + gasUsed, bitvector: bloom.bitvector, logs: [] },
  }
}
