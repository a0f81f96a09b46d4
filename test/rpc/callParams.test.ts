/**
 * The arguments of eth_call, eth_estimateGas, eth_createAccessList and eth_feeHistory, decoded as geth's
 * encoding/json decodes TransactionArgs, StateOverride, BlockOverrides, math.HexOrDecimal64 and []float64.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { ParamError, blockOverrides, float64List, hexOrDecimal64, stateOverride, transactionArgs } from '../../src/rpc/params.ts'

const ADDRESS = '0x7dcd17433742f4c0ca53122ab541d0ba67fc27df'
const SLOT = `0x${'00'.repeat(31)}01`
const refuses = (f: () => unknown, message: string) => assert.throws(f, (err: unknown) => err instanceof ParamError && err.message === message)

describe('TransactionArgs', () => {
  it('matches members case-insensitively, ignores unknown ones, and lets null leave a field unset', () => {
    const args = transactionArgs.parse({ FROM: ADDRESS, to: null, Gas: '0x5208', input: '0x01', type: '0x2', value: '0x0' })
    assert.equal(bytesToHex(args.from!), ADDRESS)
    assert.equal(args.to, undefined)
    assert.equal(args.gas, 21000n)
    assert.equal(bytesToHex(args.input!), '0x01')
    assert.equal(args.value, 0n)
    assert.deepEqual(transactionArgs.parse(null), {})
  })

  it("names the struct field of a type error, as Go's decoder does", () => {
    refuses(() => transactionArgs.parse('0x'), 'json: cannot unmarshal string into Go value of type ethapi.TransactionArgs')
    refuses(() => transactionArgs.parse({ gas: '0x' }), 'json: cannot unmarshal hex string "0x" into Go struct field TransactionArgs.gas of type hexutil.Uint64')
    refuses(() => transactionArgs.parse({ value: 5 }), 'json: cannot unmarshal non-string into Go struct field TransactionArgs.value of type *hexutil.Big')
    refuses(() => transactionArgs.parse({ to: '0x12' }), 'hex string has length 2, want 40 for common.Address')
    refuses(() => transactionArgs.parse({ blobVersionedHashes: '0x' }), 'json: cannot unmarshal string into Go struct field TransactionArgs.blobVersionedHashes of type []common.Hash')
  })

  it("decodes access lists and authorizations with gencodec's required fields", () => {
    const args = transactionArgs.parse({
      accessList: [{ address: ADDRESS, storageKeys: [SLOT] }],
      authorizationList: [{ chainId: '0x1', address: ADDRESS, nonce: '0x0', yParity: '0x101', r: '0x1', s: '0x2' }],
    })
    assert.deepEqual(args.accessList!.map((e) => [bytesToHex(e.address), e.storageKeys.map((k) => bytesToHex(k))]), [[ADDRESS, [SLOT]]])
    assert.equal(args.authorizationList![0].yParity, 1n, 'a Go uint8')
    refuses(() => transactionArgs.parse({ accessList: [{ address: ADDRESS }] }), "missing required field 'storageKeys' for AccessTuple")
    refuses(() => transactionArgs.parse({ authorizationList: [{ chainId: '0x1' }] }), "missing required field 'address' for SetCodeAuthorization")
    refuses(
      () => transactionArgs.parse({ accessList: [{ address: '0x1', storageKeys: [] }] }),
      'json: cannot unmarshal hex string of odd length into Go struct field TransactionArgs.accessList of type common.Address',
    )
  })
})

describe('StateOverride and BlockOverrides', () => {
  it('decodes accounts by address, with storage maps keyed by slot', () => {
    const overrides = stateOverride.parse({ [ADDRESS.toUpperCase().replace('0X', '0x')]: { balance: '0x10', state: { [SLOT]: SLOT }, stateDiff: null } })
    const account = overrides.get(ADDRESS)!
    assert.equal(account.balance, 16n)
    assert.deepEqual([...account.state!.keys()], [SLOT])
    assert.equal(account.stateDiff, undefined)
    assert.deepEqual(stateOverride.parse({ [ADDRESS]: { state: {} } }).get(ADDRESS)!.state, new Map(), 'an empty state still replaces the storage')
  })

  it('refuses bad addresses and fields with geth\'s messages', () => {
    refuses(() => stateOverride.parse({ '0x12': {} }), 'hex string has length 2, want 40 for common.Address')
    refuses(() => stateOverride.parse({ [ADDRESS]: { balance: '10' } }), 'json: cannot unmarshal hex string without 0x prefix into Go struct field OverrideAccount.balance of type *hexutil.Big')
    refuses(() => stateOverride.parse([]), 'json: cannot unmarshal array into Go value of type override.StateOverride')
  })

  it("reads BlockOverrides by Go's field names", () => {
    assert.deepEqual(blockOverrides.parse({ number: '0x10', TIME: '0x5', baseFeePerGas: '0x7' }), { Number: 16n, Time: 5n, BaseFeePerGas: 7n })
    refuses(() => blockOverrides.parse({ time: '0x' }), 'json: cannot unmarshal hex string "0x" into Go struct field BlockOverrides.Time of type hexutil.Uint64')
  })
})

describe('eth_feeHistory arguments', () => {
  it('takes the block count in hex or decimal, as a string or a number', () => {
    assert.equal(hexOrDecimal64.parse('0x10'), 16n)
    assert.equal(hexOrDecimal64.parse('10'), 10n)
    assert.equal(hexOrDecimal64.parse(10), 10n)
    refuses(() => hexOrDecimal64.parse('abc'), 'invalid hex or decimal integer "abc"')
    refuses(() => hexOrDecimal64.parse(null), 'invalid hex or decimal integer "null"')
    refuses(() => hexOrDecimal64.parse('0x10000000000000000'), 'invalid hex or decimal integer "0x10000000000000000"')
  })

  it('takes reward percentiles as a list of numbers', () => {
    assert.deepEqual(float64List.parse([25, 75.5]), [25, 75.5])
    assert.deepEqual(float64List.parse(null), [])
    refuses(() => float64List.parse(['50']), 'json: cannot unmarshal string into Go value of type float64')
    refuses(() => float64List.parse('50'), 'json: cannot unmarshal string into Go value of type []float64')
  })
})
