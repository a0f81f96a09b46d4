import type { BlockHeader } from '@ethereumjs/block'
import { Hardfork } from '@ethereumjs/common'
import { KECCAK256_RLP_ARRAY, equalsBytes } from '@ethereumjs/util'

import { isZeroBaseFee } from '../config/genesis.ts'

const MAX_EXTRA_DATA = 32
const GAS_LIMIT_CAP = (1n << 63n) - 1n

/**
 * Header rules every engine shares (geth's VerifyEIP1559Header, VerifyEIP4844Header, gas limit and ordering checks);
 * seal and difficulty rules belong to the engine. Pure: throws with geth's wording.
 */
export function verifyExecutionHeader(header: BlockHeader, parent: BlockHeader, clique: boolean): void {
  const c = header.common
  if (header.number !== parent.number + 1n) throw new Error(`invalid number: have ${header.number}, want ${parent.number + 1n}`)
  if (!clique) {
    if (header.timestamp <= parent.timestamp) throw new Error('timestamp older than parent')
    if (header.extraData.length > MAX_EXTRA_DATA) throw new Error(`extra-data too long: ${header.extraData.length} > ${MAX_EXTRA_DATA}`)
  }
  if (header.gasLimit > GAS_LIMIT_CAP) throw new Error(`invalid gasLimit: have ${header.gasLimit}, max ${GAS_LIMIT_CAP}`)
  if (header.gasUsed > header.gasLimit) throw new Error(`invalid gasUsed: have ${header.gasUsed}, gasLimit ${header.gasLimit}`)
  try {
    header.validateGasLimit(parent)
  } catch (err) {
    throw new Error((err as Error).message.replace(/ \(block number=.*$/s, ''))
  }
  if (c.isActivatedEIP(1559)) {
    if (header.baseFeePerGas === undefined) throw new Error('header is missing baseFee')
    // genesis config.zeroBaseFee (Besu's free-gas chains): 0 whatever the parent's gas use
    const want = isZeroBaseFee(c) ? 0n : parent.common.isActivatedEIP(1559) ? parent.calcNextBaseFee() : header.common.param('initialBaseFee')
    if (header.baseFeePerGas !== want) {
      throw new Error(`invalid baseFee: have ${header.baseFeePerGas}, want ${want}, parentBaseFee ${parent.baseFeePerGas ?? 0n}, parentGasUsed ${parent.gasUsed}`)
    }
  }
  if (c.isActivatedEIP(4844)) {
    if (header.excessBlobGas === undefined) throw new Error('header is missing excessBlobGas')
    if (header.blobGasUsed === undefined) throw new Error('header is missing blobGasUsed')
    const want = parent.common.isActivatedEIP(4844) ? parent.calcNextExcessBlobGas(c) : 0n
    if (header.excessBlobGas !== want) {
      throw new Error(`invalid excessBlobGas: have ${header.excessBlobGas}, want ${want}, parentExcessBlobGas ${parent.excessBlobGas ?? 0n}, parentBlobDataUsed ${parent.blobGasUsed ?? 0n}`)
    }
  }
  if (clique) return
  if (c.gteHardfork(Hardfork.Paris)) {
    if (header.difficulty !== 0n) throw new Error('invalid difficulty')
    if (!equalsBytes(header.nonce, new Uint8Array(8))) throw new Error('invalid nonce')
    if (!equalsBytes(header.uncleHash, KECCAK256_RLP_ARRAY)) throw new Error('invalid uncle hash')
  } else {
    const want = header.ethashCanonicalDifficulty(parent)
    if (header.difficulty !== want) throw new Error(`invalid difficulty: have ${header.difficulty}, want ${want}`)
  }
}
