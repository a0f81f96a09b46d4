/**
 * Clique consensus errors. Messages are go-ethereum v1.13's own strings (consensus/clique,
 * consensus/errors.go, consensus/misc, crypto/secp256k1) so logs and RPC errors read the same as
 * geth's. The few cairn-only rules (Shanghai+ on Clique, empty-block refusal, proposals) use
 * messages in the same style.
 */
export const CliqueErrors = {
  unknownBlock: 'unknown block',
  unknownAncestor: 'unknown ancestor',
  futureBlock: 'block in the future',
  invalidCheckpointBeneficiary: 'beneficiary in checkpoint block non-zero',
  invalidVote: 'vote nonce not 0x00..0 or 0xff..f',
  invalidCheckpointVote: 'vote nonce in checkpoint block non-zero',
  missingVanity: 'extra-data 32 byte vanity prefix missing',
  missingSignature: 'extra-data 65 byte signature suffix missing',
  extraSigners: 'non-checkpoint block contains extra signer list',
  invalidCheckpointSigners: 'invalid signer list on checkpoint block',
  mismatchingCheckpointSigners: 'mismatching signer list on checkpoint block',
  invalidMixDigest: 'non-zero mix digest',
  invalidUncleHash: 'non empty uncle hash',
  invalidDifficulty: 'invalid difficulty',
  wrongDifficulty: 'wrong difficulty',
  invalidTimestamp: 'invalid timestamp',
  invalidVotingChain: 'invalid voting chain',
  unauthorizedSigner: 'unauthorized signer',
  recentlySigned: 'recently signed',
  invalidRecoveryId: 'invalid signature recovery id',
  recoveryFailed: 'recovery failed',
  unclesNotAllowed: 'uncles not allowed',
  missingBaseFee: 'header is missing baseFee',
  missingExcessBlobGas: 'header is missing excessBlobGas',
  missingBlobGasUsed: 'header is missing blobGasUsed',
  missingBeaconRoot: 'header is missing beaconRoot',
  missingWithdrawalsHash: 'missing withdrawalsHash',
  // cairn extensions
  missingRequestsHash: 'missing requestsHash',
  emptyBlock: 'empty block on a chain that forbids empty blocks',
  dropLastSigner: 'refusing to vote out the last signer',
} as const

/** A header or vote that breaks a Clique rule. Other exceptions mean misuse or a bug. */
export class CliqueError extends Error {
  override name = 'CliqueError'
}
