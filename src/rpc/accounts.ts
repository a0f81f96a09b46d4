/**
 * The eth methods that use keys the operator unlocked (`--unlock`, or the development accounts of `--dev`), as
 * geth's PersonalAccountAPI-free eth API: eth_accounts, eth_sign, eth_signTransaction, eth_sendTransaction.
 * Keys never leave the node; the methods only sign with them. A node without unlocked keys answers
 * eth_accounts with [] and "unknown account" otherwise, as geth.
 */
import { createTx } from '@ethereumjs/tx'
import type { TypedTransaction, TypedTxData } from '@ethereumjs/tx'
import { Address, bytesToHex, concatBytes, utf8ToBytes } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'
import { secp256k1 } from '@noble/curves/secp256k1.js'

import type { ChainReader } from '../chain/types.ts'
import type { RpcContext } from './context.ts'
import { executionReverted, serverError } from './errors.ts'
import { gasPriceOracle } from './fees.ts'
import { formatTransaction, toData } from './format.ts'
import { address, bytes, transactionArgs } from './params.ts'
import type { TransactionArgsParam } from './params.ts'
import { methodsOver, namespace } from './registry.ts'
import { CallError, RevertError } from '../execution/call.ts'

const method = methodsOver<RpcContext>()

/** Keys unlocked on this node, by lowercase address. */
export interface UnlockedAccounts {
  addresses(): string[]
  key(address: string): Uint8Array | undefined
}

const keyOf = (ctx: RpcContext, addr: Uint8Array): Uint8Array => {
  const key = ctx.accounts?.key(bytesToHex(addr))
  if (key === undefined) throw serverError('unknown account')
  return key
}

/** EIP-191 personal message hash, as geth's accounts.TextHash. */
export function textHash(data: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(utf8ToBytes(`\x19Ethereum Signed Message:\n${data.length}`), data))
}

/** 65-byte r||s||v signature with v in {27, 28}, as eth_sign returns it. */
function signHash(hash: Uint8Array, key: Uint8Array): Uint8Array {
  const sig = secp256k1.sign(hash, key, { prehash: false, format: 'recovered' })
  return concatBytes(sig.subarray(1), Uint8Array.of(sig[0] + 27))
}

/** The transaction the next block would take, with geth's setDefaults (nonce, fees, gas, chain id) filled in. */
async function fillTransaction(ctx: RpcContext, args: TransactionArgsParam, requireAll: boolean): Promise<TypedTransaction> {
  const chain = ctx.chain
  const head = chain.heads().latest
  const common = nextBlockCommon(chain)
  if (args.from === undefined) throw serverError('missing from address')
  if (args.data !== undefined && args.input !== undefined && bytesToHex(args.data) !== bytesToHex(args.input)) {
    throw serverError(`both "data" and "input" are set and not equal. Please use "input" to pass transaction call data`)
  }
  if (args.chainId !== undefined && args.chainId !== chain.chainId) throw serverError(`chainId does not match node's (have=${args.chainId}, want=${chain.chainId})`)
  const london = common.isActivatedEIP(1559)
  if (args.gasPrice !== undefined && (args.maxFeePerGas !== undefined || args.maxPriorityFeePerGas !== undefined)) {
    throw serverError('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified')
  }
  if (requireAll) {
    // geth's SignTransaction signs only what it is given
    if (args.gas === undefined) throw serverError('gas not specified')
    if (args.gasPrice === undefined && (args.maxFeePerGas === undefined || args.maxPriorityFeePerGas === undefined)) throw serverError('missing gasPrice or maxFeePerGas/maxPriorityFeePerGas')
    if (args.nonce === undefined) throw serverError('nonce not specified')
  }
  const sender = bytesToHex(args.from)
  const nonce = args.nonce ?? (ctx.txpool !== undefined ? await ctx.txpool.pendingNonce(sender) : ((await (await chain.stateAt(head)).getAccount(new Address(args.from)))?.nonce ?? 0n))
  let fees: { gasPrice: bigint } | { maxFeePerGas: bigint; maxPriorityFeePerGas: bigint }
  if (args.gasPrice !== undefined || !london) {
    fees = { gasPrice: args.gasPrice ?? (await gasPriceOracle(chain).suggestTipCap()) + (head.baseFeePerGas ?? 0n) }
  } else {
    const tip = args.maxPriorityFeePerGas ?? (await gasPriceOracle(chain).suggestTipCap())
    // geth: fee cap = tip + 2 x base fee, so the transaction stays includable through six full blocks
    const maxFeePerGas = args.maxFeePerGas ?? tip + 2n * (head.baseFeePerGas ?? 0n)
    if (maxFeePerGas < tip) throw serverError(`maxFeePerGas (${maxFeePerGas}) < maxPriorityFeePerGas (${tip})`)
    fees = { maxFeePerGas, maxPriorityFeePerGas: tip }
  }
  const data = args.input ?? args.data ?? new Uint8Array()
  let gasLimit = args.gas
  if (gasLimit === undefined) {
    if (ctx.execution === undefined) throw serverError('gas not specified')
    try {
      gasLimit = await ctx.execution.estimateGas(head, { ...args, nonce, ...fees })
    } catch (err) {
      if (err instanceof RevertError) throw executionReverted(toData(err.data), err.reason)
      if (err instanceof CallError) throw serverError(err.message)
      throw err
    }
  }
  const base = { nonce, gasLimit, to: args.to, value: args.value ?? 0n, data, chainId: chain.chainId }
  const typed =
    'gasPrice' in fees
      ? { ...base, ...fees, ...(args.accessList !== undefined ? { type: 1, accessList: args.accessList } : {}) }
      : { ...base, ...fees, type: 2, accessList: args.accessList ?? [] }
  return createTx(typed as TypedTxData, { common })
}

function nextBlockCommon(chain: ChainReader) {
  const head = chain.heads().latest
  const common = chain.common.copy()
  common.setHardforkBy({ blockNumber: head.number + 1n, timestamp: BigInt(Math.max(Number(head.timestamp) + 1, Math.floor(Date.now() / 1000))) })
  return common
}

/** eth namespace methods backed by the node's unlocked keys. */
export const ethAccounts = namespace<RpcContext>('eth', [
  method({ name: 'eth_accounts', params: [], handler: (ctx) => ctx.accounts?.addresses() ?? [] }),
  method({
    name: 'eth_sign',
    params: [address, bytes],
    handler: (ctx, addr, data) => toData(signHash(textHash(data), keyOf(ctx, addr))),
  }),
  method({
    name: 'eth_signTransaction',
    params: [transactionArgs],
    handler: async (ctx, args) => {
      const key = keyOf(ctx, args.from ?? new Uint8Array(20))
      const signed = (await fillTransaction(ctx, args, true)).sign(key)
      return { raw: toData(signed.serialize()), tx: formatTransaction(signed) }
    },
  }),
  method({
    name: 'eth_sendTransaction',
    params: [transactionArgs],
    handler: async (ctx, args) => {
      const key = keyOf(ctx, args.from ?? new Uint8Array(20))
      if (ctx.txpool === undefined) throw serverError('this node has no transaction pool')
      const signed = (await fillTransaction(ctx, args, false)).sign(key)
      try {
        await ctx.txpool.add(signed, { local: true })
      } catch (err) {
        throw serverError((err as Error).message)
      }
      return toData(signed.hash())
    },
  }),
])
