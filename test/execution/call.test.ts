/**
 * Calls as geth's internal/ethapi runs them: revert data decoding, the estimator's bounds (gas cap, balance, the
 * 63/64 rule, the 1.5% error ratio), the default gas of a call, state and block overrides. Contracts are put in place
 * with code overrides on a fresh dev chain, so nothing needs sealing.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import type { BlockHeader } from '@ethereumjs/block'
import { Address, bytesToBigInt, bytesToHex, concatBytes, hexToBytes } from '@ethereumjs/util'

import { Chain } from '../../src/chain/chain.ts'
import { devAccounts } from '../../src/accounts/devAccounts.ts'
import { devGenesis } from '../../src/config/devGenesis.ts'
import { CallError, CallExecutor, RevertError, unpackRevert } from '../../src/execution/call.ts'
import type { CallOverrides } from '../../src/execution/call.ts'

const bytes = (hex: string) => hexToBytes(`0x${hex.replace(/^0x/, '')}`)
const word = (n: bigint) => bytes(n.toString(16).padStart(64, '0'))
/** abi.encode(string) */
const abiString = (s: string) => {
  const text = new TextEncoder().encode(s)
  const padded = new Uint8Array(Math.ceil(text.length / 32) * 32)
  padded.set(text)
  return concatBytes(word(32n), word(BigInt(text.length)), padded)
}

const CONTRACT = bytes('c0de00000000000000000000000000000000c0de')
const CALLEE = bytes('bbbb00000000000000000000000000000000bbbb')
const NOBODY = bytes('0000000000000000000000000000000000001234')
const [dev] = devAccounts(1)
const DEV = bytes(dev.address)

// GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN: the gas left when the code starts
const RETURN_GAS = '5a60005260206000f3'
// NUMBER, TIMESTAMP, COINBASE, BASEFEE, each a word
const RETURN_ENV = '4360005242602052416040524860605260806000f3'
// stores 0xdeadbeef as a custom error and reverts with its 4 bytes
const REVERT_CUSTOM = '63deadbeef6000526004601cfd'
const REVERT_EMPTY = '60006000fd'
// SLOAD(0) returned as a word
const RETURN_SLOT0 = '60005460005260206000f3'
// INVALID
const INVALID = 'fe'
// JUMPDEST PUSH1 0 JUMP: spins until the gas is gone
const LOOP = '5b600056'
/** runs to the end only with more than `n` gas left at its first instruction, else hits INVALID */
const needsGas = (n: number) => `5a62${n.toString(16).padStart(6, '0')}10600a57fe5b00`
/** CALLs CALLEE with all the gas it may pass on (63/64 of what is left), INVALID when that call fails */
const CALL_CALLEE = `60006000600060006000${'73'}${bytesToHex(CALLEE).slice(2)}5af1602557fe5b00`

const withCode = (code: string): CallOverrides => ({ state: new Map([[bytesToHex(CONTRACT), { code: bytes(code) }]]) })

describe('calls as geth runs them', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cairn-call-'))
  let chain: Chain
  let head: BlockHeader
  let calls: CallExecutor

  before(async () => {
    await Chain.init(dir, JSON.stringify(devGenesis({ period: 0, gasLimit: 30_000_000n })))
    chain = await Chain.open(dir)
    head = chain.heads().latest
    calls = chain.callExecution() as CallExecutor
  })
  after(async () => {
    await chain?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  describe('revert data', () => {
    it("decodes Error(string) and Panic(uint256) as geth's abi.UnpackRevert", () => {
      assert.equal(unpackRevert(concatBytes(bytes('08c379a0'), abiString('user error'))), 'user error')
      assert.equal(unpackRevert(concatBytes(bytes('08c379a0'), abiString(''))), '')
      assert.equal(unpackRevert(concatBytes(bytes('4e487b71'), word(1n))), 'assert(false)')
      assert.equal(unpackRevert(concatBytes(bytes('4e487b71'), word(0x11n))), 'arithmetic underflow or overflow')
      assert.equal(unpackRevert(concatBytes(bytes('4e487b71'), word(0x12n))), 'division or modulo by zero')
      assert.equal(unpackRevert(concatBytes(bytes('4e487b71'), word(0x99n))), 'unknown panic code: 0x99')
    })

    it('leaves custom errors, empty and malformed data undecoded', () => {
      assert.equal(unpackRevert(bytes('deadbeef')), undefined)
      assert.equal(unpackRevert(new Uint8Array()), undefined)
      assert.equal(unpackRevert(bytes('08c379a0')), undefined, 'no offset')
      assert.equal(unpackRevert(concatBytes(bytes('08c379a0'), word(32n), word(100n))), undefined, 'length past the end')
      assert.equal(unpackRevert(bytes('4e487b7101')), undefined, 'short panic code')
    })

    it('names the reason in the error, as geth: "execution reverted: <reason>"', () => {
      assert.equal(new RevertError(concatBytes(bytes('08c379a0'), abiString('nope'))).message, 'execution reverted: nope')
      assert.equal(new RevertError(bytes('deadbeef')).message, 'execution reverted')
    })
  })

  describe('eth_call', () => {
    it('gives a call without gas the gas cap, and caps what is asked above it', async () => {
      const left = async (gas?: bigint) => bytesToBigInt(await calls.call(head, { to: CONTRACT, gas }, withCode(RETURN_GAS)))
      // the cap minus the intrinsic 21000 and GAS's own 2
      assert.equal(await left(), 50_000_000n - 21_000n - 2n)
      assert.equal(await left(10n ** 12n), 50_000_000n - 21_000n - 2n)
      assert.equal(await left(100_000n), 100_000n - 21_000n - 2n)
      const small = new CallExecutor({ common: chain.common, db: chain.db, ancestors: (h) => chain.ancestorsOf(h), gasCap: 60_000n })
      assert.equal(bytesToBigInt(await small.call(head, { to: CONTRACT }, withCode(RETURN_GAS))), 60_000n - 21_000n - 2n)
    })

    it('reverts with the data, and fails other EVM errors with geth\'s words', async () => {
      await assert.rejects(calls.call(head, { to: CONTRACT }, withCode(REVERT_CUSTOM)), (err: unknown) => {
        assert.ok(err instanceof RevertError)
        assert.equal(err.message, 'execution reverted')
        assert.equal(bytesToHex(err.data), '0xdeadbeef')
        return true
      })
      await assert.rejects(calls.call(head, { to: CONTRACT }, withCode(REVERT_EMPTY)), (err: unknown) => err instanceof RevertError && err.data.length === 0)
      await assert.rejects(calls.call(head, { to: CONTRACT, gas: 100_000n }, withCode(LOOP)), new CallError('out of gas'))
      await assert.rejects(calls.call(head, { to: CONTRACT }, withCode(INVALID)), new CallError('invalid opcode: INVALID'))
      await assert.rejects(calls.call(head, { to: CONTRACT }, withCode('0c')), new CallError('invalid opcode: opcode 0xc not defined'))
    })

    it("refuses what geth's state transition refuses, naming the supplied gas", async () => {
      await assert.rejects(calls.call(head, { to: NOBODY, gas: 20_000n }), new CallError('err: intrinsic gas too low: have 20000, want 21000 (supplied gas 20000)'))
      await assert.rejects(
        calls.call(head, { from: NOBODY, to: CONTRACT, gas: 30_000n, gasPrice: 10n ** 9n }),
        new CallError('err: insufficient funds for gas * price + value: address 0x0000000000000000000000000000000000001234 have 0 want 30000000000000 (supplied gas 30000)'),
      )
      await assert.rejects(calls.call(head, { from: NOBODY, to: CONTRACT, value: 1n }), /^CallError: err: insufficient funds for gas \* price \+ value: address 0x0000000000000000000000000000000000001234 have 0 want 1 \(supplied gas 50000000\)$/)
      await assert.rejects(calls.call(head, { to: CONTRACT, gasPrice: 1n, maxFeePerGas: 2n }), new CallError('both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified'))
      await assert.rejects(calls.call(head, { to: CONTRACT, chainId: 1n }), new CallError("chainId does not match node's (have=1, want=1337)"))
      await assert.rejects(
        calls.call(head, { to: CONTRACT, maxFeePerGas: 1n, maxPriorityFeePerGas: 1n }),
        new CallError(`err: max fee per gas less than block base fee: address 0x0000000000000000000000000000000000000000, maxFeePerGas: 1, baseFee: ${head.baseFeePerGas} (supplied gas 50000000)`),
      )
    })

    it('applies state overrides on a state of its own, never the chain\'s', async () => {
      const slot0 = (state: Map<string, Uint8Array>, key: 'state' | 'stateDiff') =>
        calls.call(head, { to: CONTRACT }, { state: new Map([[bytesToHex(CONTRACT), { code: bytes(RETURN_SLOT0), [key]: state }]]) })
      const zero = `0x${'00'.repeat(32)}`
      assert.equal(bytesToBigInt(await slot0(new Map([[zero, word(7n)]]), 'state')), 7n)
      assert.equal(bytesToBigInt(await slot0(new Map([[zero, word(8n)]]), 'stateDiff')), 8n)
      assert.equal(bytesToBigInt(await slot0(new Map(), 'state')), 0n)
      await assert.rejects(
        calls.call(head, { to: CONTRACT }, { state: new Map([[bytesToHex(CONTRACT), { state: new Map(), stateDiff: new Map() }]]) }),
        new CallError("account 0xC0De00000000000000000000000000000000C0DE has both 'state' and 'stateDiff'"),
      )
      // a balance override funds a call that could not pay
      const funded = { state: new Map([[bytesToHex(NOBODY), { balance: 10n ** 18n }]]) }
      assert.deepEqual(await calls.call(head, { from: NOBODY, to: CONTRACT, value: 5n }, funded), new Uint8Array())
      const state = await chain.stateAt(head)
      assert.equal((await state.getCode(new Address(CONTRACT))).length, 0, 'no code was written to the chain')
      assert.equal(await state.getAccount(new Address(NOBODY)), undefined)
    })

    it('moves a precompile, and refuses to move what is not one', async () => {
      const sha256 = `0x${'00'.repeat(19)}02`
      const input = bytes('616263') // "abc"
      const digest = '0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
      assert.equal(bytesToHex(await calls.call(head, { to: bytes(sha256), input })), digest)
      const moved: CallOverrides = { state: new Map([[sha256, { movePrecompileToAddress: NOBODY }]]) }
      assert.equal(bytesToHex(await calls.call(head, { to: NOBODY, input }, moved)), digest)
      assert.equal(bytesToHex(await calls.call(head, { to: bytes(sha256), input }, moved)), '0x', 'the old address is an empty account now')
      await assert.rejects(
        calls.call(head, { to: NOBODY }, { state: new Map([[bytesToHex(NOBODY), { movePrecompileToAddress: CALLEE }]]) }),
        new CallError('account 0x0000000000000000000000000000000000001234 is not a precompile'),
      )
    })

    it("aborts at geth's --rpc.evmtimeout, without holding up the event loop meanwhile", async () => {
      const quick = new CallExecutor({ common: chain.common, db: chain.db, ancestors: (h) => chain.ancestorsOf(h), evmTimeoutMs: 300 })
      let ticks = 0
      const timer = setInterval(() => ticks++, 10)
      await assert.rejects(quick.call(head, { to: CONTRACT }, withCode(LOOP)), new CallError('execution aborted (timeout = 300ms)'))
      clearInterval(timer)
      // no wall-clock bound (the machine may be busy): what matters is that timers ran while the loop executed
      assert.ok(ticks >= 1, `timers ran ${ticks} times during the call`)
      await assert.rejects(quick.estimateGas(head, { to: CONTRACT }, withCode(LOOP)), new CallError('execution aborted (timeout = 300ms)'))
    })

    it('sees block overrides in NUMBER, TIMESTAMP, COINBASE and BASEFEE', async () => {
      const env = async (overrides: CallOverrides, fees: { maxFeePerGas?: bigint } = {}) => {
        const out = await calls.call(head, { from: DEV, to: CONTRACT, ...fees }, { ...withCode(RETURN_ENV), ...overrides })
        return [0, 1, 2, 3].map((i) => bytesToBigInt(out.subarray(i * 32, i * 32 + 32)))
      }
      // the genesis has no seal: geth's Clique Author fails there and COINBASE is zero; no fees: BASEFEE is zero
      assert.deepEqual(await env({}), [0n, head.timestamp, 0n, 0n])
      assert.deepEqual(await env({}, { maxFeePerGas: 10n ** 10n }), [0n, head.timestamp, 0n, head.baseFeePerGas])
      const overridden = await env({ block: { number: 99n, time: 12345n, feeRecipient: CALLEE, baseFeePerGas: 7n } }, { maxFeePerGas: 10n ** 10n })
      assert.deepEqual(overridden, [99n, 12345n, bytesToBigInt(CALLEE), 7n])
      await assert.rejects(calls.call(head, { to: CONTRACT }, { block: { beaconRoot: new Uint8Array(32) } }), new CallError('block override "beaconRoot" is not supported for this RPC method'))
    })
  })

  describe('eth_estimateGas', () => {
    it('estimates a plain transfer at 21000 and a failing call with its error', async () => {
      assert.equal(await calls.estimateGas(head, { from: DEV, to: NOBODY, value: 1n }), 21_000n)
      await assert.rejects(calls.estimateGas(head, { to: CONTRACT }, withCode(REVERT_CUSTOM)), (err: unknown) => err instanceof RevertError && bytesToHex(err.data) === '0xdeadbeef')
      await assert.rejects(calls.estimateGas(head, { to: CONTRACT }, withCode(INVALID)), new CallError('invalid opcode: INVALID'))
    })

    it('searches up to the block gas limit, the gas asked for or the gas cap, and says so when that is not enough', async () => {
      const lowBlockLimit: CallOverrides = { ...withCode(LOOP), block: { gasLimit: 90_000n } }
      await assert.rejects(calls.estimateGas(head, { to: CONTRACT }, lowBlockLimit), new CallError('gas required exceeds allowance (90000)'))
      await assert.rejects(calls.estimateGas(head, { to: CONTRACT, gas: 80_000n }, withCode(LOOP)), new CallError('gas required exceeds allowance (80000)'))
      const small = new CallExecutor({ common: chain.common, db: chain.db, ancestors: (h) => chain.ancestorsOf(h), gasCap: 40_000n })
      await assert.rejects(small.estimateGas(head, { to: CONTRACT }, withCode(LOOP)), new CallError('gas required exceeds allowance (40000)'))
    })

    it('caps the search at what the sender can pay for', async () => {
      const gwei = 10n ** 9n
      const overrides: CallOverrides = { state: new Map([[bytesToHex(CONTRACT), { code: bytes(LOOP) }], [bytesToHex(NOBODY), { balance: 100_000n * gwei + 1n }]]) }
      // what is left after the value, at 2 gwei per gas, buys 50000 gas
      await assert.rejects(calls.estimateGas(head, { from: NOBODY, to: CONTRACT, gasPrice: 2n * gwei, value: 1n }, overrides), new CallError('gas required exceeds allowance (50000)'))
      await assert.rejects(calls.estimateGas(head, { from: NOBODY, to: CONTRACT, gasPrice: 2n * gwei, value: 100_000n * gwei + 1n }, overrides), new CallError('insufficient funds for transfer'))
    })

    it('finds the least gas a gas-hungry call needs, within 1.5% above', async () => {
      const need = 100_000
      const estimate = await calls.estimateGas(head, { to: CONTRACT }, withCode(needsGas(need)))
      // GAS reads the limit less the intrinsic 21000 and its own 2; the check wants strictly more than `need`
      const least = BigInt(need) + 21_003n
      assert.ok(estimate >= least && Number(estimate) <= Number(least) * 1.015, `estimate ${estimate}, least ${least}`)
      await calls.call(head, { to: CONTRACT, gas: estimate }, withCode(needsGas(need)))
      await assert.rejects(calls.call(head, { to: CONTRACT, gas: least - 1n }, withCode(needsGas(need))), new CallError('invalid opcode: INVALID'))
    })

    it('leaves room for the 63/64 a CALL holds back', async () => {
      const need = 200_000
      const overrides: CallOverrides = { state: new Map([[bytesToHex(CONTRACT), { code: bytes(CALL_CALLEE) }], [bytesToHex(CALLEE), { code: bytes(needsGas(need)) }]]) }
      const estimate = await calls.estimateGas(head, { to: CONTRACT }, overrides)
      assert.ok(estimate > 21_000n + (BigInt(need) * 64n) / 63n, `estimate ${estimate}`)
      await calls.call(head, { to: CONTRACT, gas: estimate }, overrides)
      await assert.rejects(calls.call(head, { to: CONTRACT, gas: (estimate * 97n) / 100n }, overrides), new CallError('invalid opcode: INVALID'))
    })
  })

  describe('eth_createAccessList', () => {
    it("lists what the run touches, sorted, without the sender, the recipient's own entry or the precompiles", async () => {
      // BALANCE(CALLEE), SLOAD(5), SLOAD(1), BALANCE(sha256 precompile)
      const code = `73${bytesToHex(CALLEE).slice(2)}315060055450600154506002315000`
      const slot = (n: bigint) => bytesToHex(word(n))
      const tip = async () => 10n ** 9n
      const result = await calls.createAccessList(head, { from: DEV, to: CONTRACT, accessList: [{ address: DEV, storageKeys: [word(9n)] }] }, withCode(code).state, tip)
      assert.deepEqual(
        result.accessList.map((e) => [bytesToHex(e.address), e.storageKeys.map((k) => bytesToHex(k))]),
        [
          [bytesToHex(CALLEE), []],
          [bytesToHex(CONTRACT), [slot(1n), slot(5n)]],
        ],
      )
      assert.equal(result.error, undefined)
      // run with its own list: the list's intrinsic cost (2 addresses, 2 slots), and only warm accesses (100 each)
      assert.equal(result.gasUsed, 21_000n + 2n * 2_400n + 2n * 1_900n + 4n * 100n + 4n * 3n + 4n * 2n)
      const reverting = await calls.createAccessList(head, { from: DEV, to: CONTRACT }, withCode(REVERT_EMPTY).state, tip)
      assert.deepEqual(reverting, { accessList: [], gasUsed: 21_000n + 3n * 2n, error: 'execution reverted' })
    })
  })
})
