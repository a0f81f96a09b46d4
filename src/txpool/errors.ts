/**
 * Why the pool refused a transaction. Each refusal has a stable code (what callers branch on) and geth 1.13.15's
 * message for it (core/txpool/errors.go, core/error.go, core/txpool/legacypool, and the message text of
 * txpool.ValidateTransaction / ValidateTransactionWithState), so eth_sendRawTransaction answers exactly as geth.
 * The Prague/Osaka rules (EIP-7623 floor gas, EIP-7702 set-code transactions, EIP-7825 gas cap) postdate 1.13;
 * they use the messages of the geth release that introduced them. geth's checks for negative values, 2^256
 * overflows, a tip above the fee cap, blob-less blob transactions and empty authorization lists have no counterpart
 * here: ethereumjs refuses to construct such a transaction, so decoding fails before the pool sees it.
 */
export const TxPoolErrorCode = {
  alreadyKnown: 'alreadyKnown',
  invalidSender: 'invalidSender',
  /** tip below --txpool.pricelimit, or (pool full) cheaper than everything the pool would evict */
  underpriced: 'underpriced',
  replaceUnderpriced: 'replaceUnderpriced',
  gasLimit: 'gasLimit',
  oversizedData: 'oversizedData',
  futureReplacePending: 'futureReplacePending',
  poolFull: 'poolFull',
  nonceTooLow: 'nonceTooLow',
  insufficientFunds: 'insufficientFunds',
  intrinsicGas: 'intrinsicGas',
  floorDataGas: 'floorDataGas',
  gasLimitTooHigh: 'gasLimitTooHigh',
  txTypeNotSupported: 'txTypeNotSupported',
  maxInitCodeSizeExceeded: 'maxInitCodeSizeExceeded',
  unprotected: 'unprotected',
  blobSidecarMissing: 'blobSidecarMissing',
  gappedDelegated: 'gappedDelegated',
  inflightLimitReached: 'inflightLimitReached',
  authorityReserved: 'authorityReserved',
} as const
export type TxPoolErrorCode = (typeof TxPoolErrorCode)[keyof typeof TxPoolErrorCode]

export class TxPoolError extends Error {
  override name = 'TxPoolError'
  readonly code: TxPoolErrorCode
  constructor(code: TxPoolErrorCode, message: string) {
    super(message)
    this.code = code
  }
}

const C = TxPoolErrorCode
const err = (code: TxPoolErrorCode, message: string) => new TxPoolError(code, message)

// geth's messages, one constructor each so no message is spelled twice
export const TxPoolErrors = {
  alreadyKnown: () => err(C.alreadyKnown, 'already known'),
  invalidSender: () => err(C.invalidSender, 'invalid sender'),
  underpriced: () => err(C.underpriced, 'transaction underpriced'),
  tipBelowMinimum: (tip: bigint, minimum: bigint) => err(C.underpriced, `transaction underpriced: gas tip cap ${tip}, minimum needed ${minimum}`),
  blobFeeBelowMinimum: (fee: bigint, minimum: bigint) => err(C.underpriced, `transaction underpriced: blob fee cap ${fee}, minimum needed ${minimum}`),
  replaceUnderpriced: () => err(C.replaceUnderpriced, 'replacement transaction underpriced'),
  gasLimit: () => err(C.gasLimit, 'exceeds block gas limit'),
  oversizedData: (size: number, limit: number) => err(C.oversizedData, `oversized data: transaction size ${size}, limit ${limit}`),
  futureReplacePending: () => err(C.futureReplacePending, 'future transaction tries to replace pending'),
  poolFull: () => err(C.poolFull, 'txpool is full'),
  nonceTooLow: (next: bigint, nonce: bigint) => err(C.nonceTooLow, `nonce too low: next nonce ${next}, tx nonce ${nonce}`),
  insufficientFunds: (balance: bigint, cost: bigint) =>
    err(C.insufficientFunds, `insufficient funds for gas * price + value: balance ${balance}, tx cost ${cost}, overshot ${cost - balance}`),
  overdraftReplacement: (balance: bigint, spent: bigint, bump: bigint) =>
    err(C.insufficientFunds, `insufficient funds for gas * price + value: balance ${balance}, queued cost ${spent}, tx bumped ${bump}, overshot ${spent + bump - balance}`),
  overdraft: (balance: bigint, spent: bigint, cost: bigint) =>
    err(C.insufficientFunds, `insufficient funds for gas * price + value: balance ${balance}, queued cost ${spent}, tx cost ${cost}, overshot ${spent + cost - balance}`),
  intrinsicGas: (gas: bigint, needed: bigint) => err(C.intrinsicGas, `intrinsic gas too low: gas ${gas}, minimum needed ${needed}`),
  floorDataGas: (gas: bigint, needed: bigint) => err(C.floorDataGas, `insufficient gas for floor data gas cost: gas ${gas}, minimum needed ${needed}`),
  gasLimitTooHigh: (cap: bigint, gas: bigint) => err(C.gasLimitTooHigh, `transaction gas limit too high (cap: ${cap}, tx: ${gas})`),
  txTypeNotSupported: () => err(C.txTypeNotSupported, 'transaction type not supported'),
  txTypeNotYetActive: (type: number, fork: string) => err(C.txTypeNotSupported, `transaction type not supported: type ${type} rejected, pool not yet in ${fork}`),
  maxInitCodeSizeExceeded: (size: number, limit: number) => err(C.maxInitCodeSizeExceeded, `max initcode size exceeded: code size ${size}, limit ${limit}`),
  unprotected: () => err(C.unprotected, 'only replay-protected (EIP-155) transactions allowed over RPC'),
  blobSidecarMissing: () => err(C.blobSidecarMissing, 'missing sidecar in blob transaction'),
  gappedDelegated: () => err(C.gappedDelegated, 'gapped-nonce tx from delegated accounts'),
  inflightLimitReached: () => err(C.inflightLimitReached, 'in-flight transaction limit reached for delegated accounts'),
  authorityReserved: () => err(C.authorityReserved, 'authority already reserved'),
} as const
