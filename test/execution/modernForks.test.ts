import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { createFeeMarket1559Tx } from '@ethereumjs/tx'
import type { TypedTransaction } from '@ethereumjs/tx'
import { bytesToBigInt, bytesToHex, concatBytes, createContractAddress, createAddressFromString, hexToBytes, setLengthLeft } from '@ethereumjs/util'
import { keccak_256 } from '@noble/hashes/sha3.js'

import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { Chain } from '../../src/chain/chain.ts'
import { createLogger } from '../../src/cli/log.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import type { CliqueEngine } from '../../src/consensus/clique/engine.ts'
import { Sealer } from '../../src/consensus/clique/sealer.ts'
import { compileContract, solcVersion } from '../solc.ts'
import { tempDir } from '../helpers.ts'

const [dev] = devAccounts(1)
const KEY = hexToBytes(dev.privateKey as `0x${string}`)
const selector = (sig: string) => keccak_256(new TextEncoder().encode(sig)).subarray(0, 4)

describe('modern forks on Clique', () => {
  it(`a contract compiled by solc (evmVersion prague) deploys and runs: PUSH0, TSTORE/TLOAD, MCOPY`, { timeout: 60_000 }, async (t) => {
    const compiled = compileContract('ModernOpcodes.sol', 'ModernOpcodes')
    t.diagnostic(`solc ${solcVersion()}`)
    const dir = tempDir(t)
    await Chain.init(dir, JSON.stringify(devGenesis({ period: 0, gasLimit: 30_000_000n })))
    const chain = await Chain.open(dir)
    t.after(() => chain.close())
    assert.equal(chain.heads().latest.common.hardfork(), 'prague')

    let queue: TypedTransaction[] = []
    const sealer = new Sealer({
      chain,
      engine: chain.engine as CliqueEngine,
      signerKey: KEY,
      log: createLogger(0),
      txs: { candidates: () => queue.splice(0), hasPending: () => queue.length > 0, onPending: () => () => {} },
    })
    const common = chain.common.copy()
    common.setHardfork('prague')
    const tx = (nonce: bigint, to: `0x${string}` | undefined, data: Uint8Array) =>
      createFeeMarket1559Tx({ nonce, to, data, gasLimit: 1_000_000n, maxFeePerGas: 10n ** 10n, maxPriorityFeePerGas: 10n ** 9n }, { common }).sign(KEY)

    queue = [tx(0n, undefined, hexToBytes(compiled.bytecode as `0x${string}`))]
    const deployBlock = await sealer.sealNow()
    assert.equal(deployBlock.transactions.length, 1)
    const receipts = await chain.getReceipts(deployBlock.hash())
    assert.equal(receipts?.[0].status, 1, 'deployment succeeded')
    const address = createContractAddress(createAddressFromString(dev.address), 0n)
    const state0 = await chain.stateAt(chain.heads().latest)
    assert.equal(bytesToHex(await state0.getCode(address)), compiled.deployedBytecode)
    assert.ok(compiled.deployedBytecode.includes('5f'), 'PUSH0 (0x5f) is in the code')

    const word = keccak_256(new TextEncoder().encode('cairn'))
    queue = [tx(1n, address.toString() as `0x${string}`, concatBytes(selector('run(uint256,bytes32)'), setLengthLeft(Uint8Array.of(21), 32), word))]
    const runBlock = await sealer.sealNow()
    assert.equal((await chain.getReceipts(runBlock.hash()))?.[0].status, 1, 'run() succeeded')
    const state = await chain.stateAt(chain.heads().latest)
    assert.equal(bytesToBigInt(await state.getStorage(address, setLengthLeft(Uint8Array.of(0), 32))), 42n, 'doubled = TLOAD(TSTORE(21)) * 2')
    assert.equal(bytesToHex(await state.getStorage(address, setLengthLeft(Uint8Array.of(1), 32))), bytesToHex(word), 'copied through MCOPY')
    // block fields of the forks Clique now carries
    const h = runBlock.header
    assert.ok(h.withdrawalsRoot !== undefined && h.blobGasUsed === 0n && h.excessBlobGas === 0n && h.requestsHash !== undefined)
    assert.equal(bytesToHex(h.parentBeaconBlockRoot!), `0x${'00'.repeat(32)}`)
  })
})
