import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Common, Mainnet } from '@ethereumjs/common'
import { createAccessList2930Tx, createBlob4844Tx, createEOACode7702Tx, createFeeMarket1559Tx } from '@ethereumjs/tx'
import { bytesToHex, eoaCode7702SignAuthorization } from '@ethereumjs/util'
import type { PrefixedHexString } from '@ethereumjs/util'

import { TxPoolErrorCode, TxPoolError } from '../../src/txpool/errors.ts'
import { TxPool } from '../../src/txpool/txpool.ts'
import type { PoolChain } from '../../src/txpool/txpool.ts'
import { deferCleanup } from '../helpers.ts'
import { BASE_FEE, DEV_BALANCE, GWEI, devChain, legacy, mine, refusal, startPool, transfer } from './testkit.ts'

describe('admission: geth 1.13 refusals, word for word', () => {
  it('already known', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const tx = transfer(dc, 1, 0n)
    await pool.add(tx)
    assert.equal(await refusal(pool.add(tx)), 'already known')
    const [error] = await pool.addRemotes([tx])
    assert.equal(error?.code, TxPoolErrorCode.alreadyKnown)
  })

  it('nonce too low: the state nonce is past it', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await mine(dc, [transfer(dc, 1, 0n)])
    await pool.settled()
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { value: 2n }))), 'nonce too low: next nonce 1, tx nonce 0')
  })

  it('a nonce far ahead is queued, not refused (geth has no "nonce too high" in this pool)', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 1000n))
    assert.deepEqual(pool.status(), { pending: 0, queued: 1 })
  })

  it('insufficient funds: cost above the balance, and overdrafts counting the pending transactions', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const feeCap = GWEI + 2n * BASE_FEE
    const gasCost = 21000n * feeCap
    assert.equal(
      await refusal(pool.add(transfer(dc, 1, 0n, { value: DEV_BALANCE }))),
      `insufficient funds for gas * price + value: balance ${DEV_BALANCE}, tx cost ${DEV_BALANCE + gasCost}, overshot ${gasCost}`,
    )
    const eth = 10n ** 18n
    await pool.add(transfer(dc, 1, 0n, { value: 6000n * eth }))
    const spent = 6000n * eth + gasCost
    const cost = 5000n * eth + gasCost
    assert.equal(
      await refusal(pool.add(transfer(dc, 1, 1n, { value: 5000n * eth }))),
      `insufficient funds for gas * price + value: balance ${DEV_BALANCE}, queued cost ${spent}, tx cost ${cost}, overshot ${spent + cost - DEV_BALANCE}`,
    )
    await pool.add(transfer(dc, 1, 1n, { value: 3000n * eth }))
    // replacing nonce 0: only the difference counts
    const total = spent + 3000n * eth + gasCost
    const replacement = transfer(dc, 1, 0n, { value: 7500n * eth, tip: 2n * GWEI, feeCap: 4n * GWEI })
    const bump = 7500n * eth + 21000n * 4n * GWEI - spent
    assert.equal(
      await refusal(pool.add(replacement)),
      `insufficient funds for gas * price + value: balance ${DEV_BALANCE}, queued cost ${total}, tx bumped ${bump}, overshot ${total + bump - DEV_BALANCE}`,
    )
  })

  it('intrinsic gas too low, and (Prague) the EIP-7623 calldata floor', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { gasLimit: 20999n }))), 'intrinsic gas too low: gas 20999, minimum needed 21000')
    // 2 zero and 2 non-zero bytes: 21000 + 2x4 + 2x16 = 21040; floor 21000 + 10 x (2 + 2x4) = 21100
    const data = Uint8Array.from([0, 1, 0, 2])
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { data, gasLimit: 21039n }))), 'intrinsic gas too low: gas 21039, minimum needed 21040')
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { data, gasLimit: 21099n }))), 'insufficient gas for floor data gas cost: gas 21099, minimum needed 21100')
    await pool.add(transfer(dc, 1, 0n, { data, gasLimit: 21100n }))
    // creation (53000) with one word of initcode (EIP-3860: 2 per word)
    const create = { to: null, data: Uint8Array.from([0x60, 0x01]) }
    assert.equal(await refusal(pool.add(transfer(dc, 2, 0n, { ...create, gasLimit: 53033n }))), 'intrinsic gas too low: gas 53033, minimum needed 53034')
    // an access list: 2400 per address, 1900 per key
    const accessList = [{ address: dc.addresses[8] as PrefixedHexString, storageKeys: [`0x${'00'.repeat(32)}`, `0x${'00'.repeat(31)}01`] as PrefixedHexString[] }]
    const withList = createAccessList2930Tx({ nonce: 0n, to: dc.addresses[9] as PrefixedHexString, gasLimit: 27199n, gasPrice: 3n * GWEI, accessList, chainId: 1337n }, { common: dc.common }).sign(dc.keys[3])
    assert.equal(await refusal(pool.add(withList)), 'intrinsic gas too low: gas 27199, minimum needed 27200')
  })

  it('exceeds block gas limit', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    assert.equal(await refusal(pool.add(transfer(dc, 1, 0n, { gasLimit: 30_000_001n }))), 'exceeds block gas limit')
  })

  it('transaction underpriced below --txpool.pricelimit (remote, or local with its own price limit exemption)', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const [error] = await pool.addRemotes([transfer(dc, 1, 0n, { tip: 0n })])
    assert.equal(error?.message, 'transaction underpriced: gas tip cap 0, minimum needed 1')
    await pool.add(transfer(dc, 1, 0n, { tip: 0n }), { local: true })

    const strict = await startPool(t, dc, { priceLimit: 2n * GWEI })
    const [low] = await strict.addRemotes([legacy(dc, 2, 0n, GWEI)])
    assert.equal(low?.message, `transaction underpriced: gas tip cap ${GWEI}, minimum needed ${2n * GWEI}`)
  })

  it('a fee cap below the base fee is accepted (geth checks it when the block is built)', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await pool.add(transfer(dc, 1, 0n, { tip: 1n, feeCap: 1n }))
    assert.deepEqual(pool.status(), { pending: 1, queued: 0 })
    assert.equal([...pool.pendingByPriceAndNonce(BASE_FEE)].length, 0)
  })

  it('oversized data: over 128 KiB', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const tx = transfer(dc, 1, 0n, { data: new Uint8Array(128 * 1024), gasLimit: 29_000_000n })
    assert.equal(await refusal(pool.add(tx)), `oversized data: transaction size ${tx.serialize().length}, limit 131072`)
  })

  it('max initcode size exceeded (Shanghai, EIP-3860)', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    // ethereumjs itself refuses to build it with Shanghai rules: a transaction object made under older rules
    const london = dc.common.copy()
    london.setHardfork('london')
    const tx = transfer(dc, 1, 0n, { to: null, data: new Uint8Array(49153).fill(1), gasLimit: 2_000_000n, common: london })
    assert.equal(await refusal(pool.add(tx)), 'max initcode size exceeded: code size 49153, limit 49152')
  })

  it('invalid sender: another chain\'s transaction (typed or EIP-155), or a signature that does not recover', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const mainnet = new Common({ chain: Mainnet, hardfork: 'prague' })
    const typed = createFeeMarket1559Tx({ to: dc.addresses[9] as PrefixedHexString, gasLimit: 21000n, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI, chainId: 1n }, { common: mainnet }).sign(dc.keys[1])
    assert.equal(await refusal(pool.add(typed)), 'invalid sender')
    assert.equal(await refusal(pool.add(legacy(dc, 1, 0n, 3n * GWEI, { common: mainnet }))), 'invalid sender')
    const forged = createFeeMarket1559Tx(
      { to: dc.addresses[9] as PrefixedHexString, gasLimit: 21000n, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI, chainId: 1337n, v: 0n, r: 0n, s: 1n },
      { common: dc.common },
    )
    assert.equal(await refusal(pool.add(forged)), 'invalid sender')
  })

  it('only replay-protected transactions over RPC, unless allowed; peers may send unprotected ones', async (t) => {
    const dc = await devChain(t)
    const preEip155 = dc.common.copy()
    preEip155.setHardfork('tangerineWhistle')
    const unprotected = () => legacy(dc, 1, 0n, 3n * GWEI, { common: preEip155 })
    assert.ok(unprotected().v === 27n || unprotected().v === 28n)
    const pool = await startPool(t, dc)
    assert.equal(await refusal(pool.add(unprotected(), { local: true })), 'only replay-protected (EIP-155) transactions allowed over RPC')
    assert.deepEqual(await pool.addRemotes([unprotected()]), [undefined])
    const lenient = await startPool(t, dc, { allowUnprotectedTxs: true })
    await lenient.add(unprotected(), { local: true })
  })

  it('blob transactions: "transaction type not supported" unless allowed, then only with their sidecar', async (t) => {
    const dc = await devChain(t)
    const blob = (data: { blobsData?: string[]; blobVersionedHashes?: PrefixedHexString[] }, maxFeePerBlobGas = 1n) =>
      createBlob4844Tx(
        { ...data, to: dc.addresses[9] as PrefixedHexString, maxFeePerBlobGas, maxFeePerGas: 3n * GWEI, maxPriorityFeePerGas: GWEI, gasLimit: 21000n, chainId: 1337n },
        { common: dc.common },
      ).sign(dc.keys[1])
    const withSidecar = blob({ blobsData: ['cairn'] })
    const pool = await startPool(t, dc)
    assert.equal(await refusal(pool.add(withSidecar)), 'transaction type not supported')

    const blobPool = await startPool(t, dc, { allowBlobTxs: true })
    const hashes = withSidecar.blobVersionedHashes
    assert.equal(await refusal(blobPool.add(blob({ blobVersionedHashes: hashes }))), 'missing sidecar in blob transaction')
    assert.equal(await refusal(blobPool.add(blob({ blobVersionedHashes: hashes }, 0n))), 'transaction underpriced: blob fee cap 0, minimum needed 1')
    await blobPool.add(withSidecar)
    const pooled = blobPool.get(bytesToHex(withSidecar.hash()))
    assert.equal(pooled?.cost, 21000n * 3n * GWEI + 131072n, 'cost includes the blob gas')
  })

  it('transaction types not active at the head: "pool not yet in London"', async (t) => {
    const prague = await devChain(t)
    const berlin = await devChain(t, (genesis) => {
      for (const key of ['londonBlock', 'shanghaiTime', 'cancunTime', 'pragueTime', 'blobSchedule']) delete genesis.config[key]
      delete genesis.baseFeePerGas
    })
    const pool = await startPool(t, berlin)
    assert.equal(await refusal(pool.add(transfer(prague, 1, 0n))), 'transaction type not supported: type 2 rejected, pool not yet in London')
    await pool.add(legacy(berlin, 1, 0n, GWEI))
    assert.deepEqual(pool.status(), { pending: 1, queued: 0 })
  })

  it('EIP-7702: authorities with pooled transactions are reserved; delegating accounts get one executable slot', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    const delegate = dc.addresses[8] as PrefixedHexString
    const setCode = (from: number, nonce: bigint, authority: number) =>
      createEOACode7702Tx(
        {
          nonce,
          to: dc.addresses[9] as PrefixedHexString,
          gasLimit: 100_000n,
          maxFeePerGas: 3n * GWEI,
          maxPriorityFeePerGas: GWEI,
          chainId: 1337n,
          authorizationList: [eoaCode7702SignAuthorization({ chainId: '0x539', address: delegate, nonce: '0x0' }, dc.keys[authority])],
        },
        { common: dc.common },
      ).sign(dc.keys[from])

    await pool.add(transfer(dc, 2, 0n))
    await pool.add(transfer(dc, 2, 1n))
    assert.equal(await refusal(pool.add(setCode(3, 0n, 2))), 'authority already reserved')

    await pool.add(setCode(3, 0n, 4))
    assert.deepEqual(pool.get(bytesToHex(setCode(3, 0n, 4).hash()))?.authorities, [dc.addresses[4]])
    assert.equal(await refusal(pool.add(transfer(dc, 4, 3n))), 'gapped-nonce tx from delegated accounts')
    await pool.add(transfer(dc, 4, 0n))
    assert.equal(await refusal(pool.add(transfer(dc, 4, 1n))), 'in-flight transaction limit reached for delegated accounts')
    // replacing its one transaction stays possible
    await pool.add(transfer(dc, 4, 0n, { tip: 2n * GWEI, feeCap: 5n * GWEI }))
  })

  it('every refusal is a TxPoolError with a stable code', async (t) => {
    const dc = await devChain(t)
    const pool = await startPool(t, dc)
    await assert.rejects(pool.add(transfer(dc, 1, 0n, { gasLimit: 20000n })), (err) => err instanceof TxPoolError && err.code === TxPoolErrorCode.intrinsicGas)
  })
})

describe('admission and block imports', () => {
  it("a submission waits while a block is being imported, and is admitted once the import has settled", async (t) => {
    const dc = await devChain(t)
    // the chain as the pool sees it, reporting an import in flight until the test lets it settle
    let importing = true
    let settle!: () => void
    const settled = new Promise<void>((resolve) => (settle = resolve))
    const chain = new Proxy(dc.chain, {
      get(target, prop) {
        if (prop === 'importsDone') return () => (importing ? settled : Promise.resolve())
        const value = Reflect.get(target, prop, target)
        return typeof value === 'function' ? value.bind(target) : value
      },
    }) as PoolChain
    const pool = new TxPool(chain)
    await pool.start()
    deferCleanup(t, () => pool.stop())

    let added = false
    const adding = pool.add(transfer(dc, 1, 0n)).then(() => (added = true))
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(added, false, 'admitted while a block was being imported')
    assert.deepEqual(pool.status(), { pending: 0, queued: 0 })
    importing = false
    settle()
    await adding
    assert.deepEqual(pool.status(), { pending: 1, queued: 0 })
    // with no import in flight, a submission goes straight in
    await pool.add(transfer(dc, 1, 1n))
    assert.deepEqual(pool.status(), { pending: 2, queued: 0 })
  })
})
