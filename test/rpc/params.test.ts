import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { ParamError, address, blockNumber, blockRef, boolean, bytes, hash, optional, quantity, string, uint64Quantity, uintQuantity } from '../../src/rpc/params.ts'
import type { Param } from '../../src/rpc/params.ts'

const HASH = `0x${'ab'.repeat(32)}`
const ADDR = `0x${'cd'.repeat(20)}`

function rejects(param: Param<unknown>, value: unknown, message: string) {
  assert.throws(() => param.parse(value), (err: unknown) => err instanceof ParamError && err.message === message, `${JSON.stringify(value)} -> ${message}`)
}

describe('quantity (hexutil.Big)', () => {
  it('decodes hex quantities, "" as zero as geth does', () => {
    assert.equal(quantity.parse('0x0'), 0n)
    assert.equal(quantity.parse('0x1aF'), 0x1afn)
    assert.equal(quantity.parse(`0x${'f'.repeat(64)}`), (1n << 256n) - 1n)
    assert.equal(quantity.parse(''), 0n)
  })
  it("rejects with geth's messages", () => {
    const t = '*hexutil.Big'
    rejects(quantity, '1', `json: cannot unmarshal hex string without 0x prefix into Go value of type ${t}`)
    rejects(quantity, '0x', `json: cannot unmarshal hex string "0x" into Go value of type ${t}`)
    rejects(quantity, '0x01', `json: cannot unmarshal hex number with leading zero digits into Go value of type ${t}`)
    rejects(quantity, '0xzz', `json: cannot unmarshal invalid hex string into Go value of type ${t}`)
    rejects(quantity, `0x1${'0'.repeat(64)}`, `json: cannot unmarshal hex number > 256 bits into Go value of type ${t}`)
    rejects(quantity, 5, `json: cannot unmarshal non-string into Go value of type ${t}`)
    rejects(quantity, null, `json: cannot unmarshal non-string into Go value of type ${t}`)
  })
  it('uint64 and uint quantities stop at 64 bits, checked before the digits', () => {
    assert.equal(uint64Quantity.parse(`0x${'f'.repeat(16)}`), (1n << 64n) - 1n)
    rejects(uint64Quantity, `0x1${'z'.repeat(16)}`, 'json: cannot unmarshal hex number > 64 bits into Go value of type hexutil.Uint64')
    rejects(uintQuantity, `0x1${'0'.repeat(16)}`, 'json: cannot unmarshal hex number > 64 bits into Go value of type hexutil.Uint')
    rejects(uintQuantity, true, 'json: cannot unmarshal non-string into Go value of type hexutil.Uint')
  })
})

describe('bytes (hexutil.Bytes)', () => {
  it('decodes data, "" and "0x" as empty', () => {
    assert.deepEqual(bytes.parse('0x00ff'), Buffer.from([0, 255]))
    assert.equal(bytes.parse('0x').length, 0)
    assert.equal(bytes.parse('').length, 0)
  })
  it("rejects with geth's messages", () => {
    rejects(bytes, '00', 'json: cannot unmarshal hex string without 0x prefix into Go value of type hexutil.Bytes')
    rejects(bytes, '0x123', 'json: cannot unmarshal hex string of odd length into Go value of type hexutil.Bytes')
    rejects(bytes, '0xgg', 'json: cannot unmarshal invalid hex string into Go value of type hexutil.Bytes')
    rejects(bytes, [], 'json: cannot unmarshal non-string into Go value of type hexutil.Bytes')
  })
})

describe('address and hash', () => {
  it('decode exact-length hex, either case', () => {
    assert.deepEqual(address.parse(ADDR.toUpperCase().replace('0X', '0x')), Buffer.from('cd'.repeat(20), 'hex'))
    assert.deepEqual(hash.parse(HASH), Buffer.from('ab'.repeat(32), 'hex'))
  })
  it("reject with geth's messages, the length one unwrapped", () => {
    rejects(address, `0x${'cd'.repeat(19)}`, 'hex string has length 38, want 40 for common.Address')
    rejects(address, '', 'hex string has length 0, want 40 for common.Address')
    rejects(address, 'cd'.repeat(20), 'json: cannot unmarshal hex string without 0x prefix into Go value of type common.Address')
    rejects(address, `0x${'c'.repeat(39)}`, 'json: cannot unmarshal hex string of odd length into Go value of type common.Address')
    rejects(address, `0x${'zz'.repeat(20)}`, 'json: cannot unmarshal invalid hex string into Go value of type common.Address')
    rejects(address, null, 'json: cannot unmarshal non-string into Go value of type common.Address')
    rejects(hash, '0x1234', 'hex string has length 4, want 64 for common.Hash')
    rejects(hash, 1, 'json: cannot unmarshal non-string into Go value of type common.Hash')
  })
})

describe('boolean and string', () => {
  it('take JSON booleans and strings; null is the zero value, as Go', () => {
    assert.equal(boolean.parse(true), true)
    assert.equal(boolean.parse(null), false)
    assert.equal(string.parse('0x1'), '0x1')
    assert.equal(string.parse(null), '')
  })
  it("reject other JSON kinds with encoding/json's messages", () => {
    rejects(boolean, 'true', 'json: cannot unmarshal string into Go value of type bool')
    rejects(boolean, 1, 'json: cannot unmarshal number into Go value of type bool')
    rejects(string, 1, 'json: cannot unmarshal number into Go value of type string')
    rejects(string, {}, 'json: cannot unmarshal object into Go value of type string')
    rejects(string, [], 'json: cannot unmarshal array into Go value of type string')
  })
})

describe('blockNumber (rpc.BlockNumber)', () => {
  it('takes tags and int64 numbers', () => {
    for (const tag of ['latest', 'earliest', 'pending', 'safe', 'finalized']) assert.equal(blockNumber.parse(tag), tag)
    assert.equal(blockNumber.parse('0x0'), 0n)
    assert.equal(blockNumber.parse('0x7fffffffffffffff'), (1n << 63n) - 1n)
  })
  it("rejects with hexutil.DecodeUint64's unwrapped messages", () => {
    rejects(blockNumber, '2', 'hex string without 0x prefix')
    rejects(blockNumber, 2, 'hex string without 0x prefix')
    rejects(blockNumber, null, 'hex string without 0x prefix')
    rejects(blockNumber, '', 'empty hex string')
    rejects(blockNumber, '0x', 'hex string "0x"')
    rejects(blockNumber, '0x00', 'hex number with leading zero digits')
    rejects(blockNumber, '0xg', 'invalid hex string')
    rejects(blockNumber, `0x1${'0'.repeat(16)}`, 'hex number > 64 bits')
    rejects(blockNumber, '0x8000000000000000', 'block number larger than int64')
  })
})

describe('blockRef (rpc.BlockNumberOrHash, EIP-1898)', () => {
  it('takes tags, numbers, hashes and the object forms', () => {
    assert.deepEqual(blockRef.parse('safe'), { number: 'safe' })
    assert.deepEqual(blockRef.parse('0x10'), { number: 16n })
    assert.deepEqual(blockRef.parse(HASH), { hash: Buffer.from('ab'.repeat(32), 'hex'), requireCanonical: false })
    assert.deepEqual(blockRef.parse({ blockNumber: '0x1' }), { number: 1n })
    assert.deepEqual(blockRef.parse({ blockNumber: 'finalized' }), { number: 'finalized' })
    assert.deepEqual(blockRef.parse({ blockHash: HASH, requireCanonical: true }), { hash: Buffer.from('ab'.repeat(32), 'hex'), requireCanonical: true })
    // Go matches member names case-insensitively, and null leaves a member unset
    assert.deepEqual(blockRef.parse({ BlockHash: HASH, blockNumber: null }), { hash: Buffer.from('ab'.repeat(32), 'hex'), requireCanonical: false })
  })
  it("rejects with geth's messages", () => {
    rejects(blockRef, '2', 'hex string without 0x prefix')
    rejects(blockRef, '0x8000000000000000', 'blocknumber too high')
    rejects(blockRef, `0x${'zz'.repeat(32)}`, 'invalid hex string')
    rejects(blockRef, `00${'ab'.repeat(32)}`, 'hex string without 0x prefix')
    rejects(blockRef, {}, 'must specify either BlockHash or BlockNumber')
    rejects(blockRef, null, 'must specify either BlockHash or BlockNumber')
    rejects(blockRef, { blockHash: HASH, blockNumber: '0x1' }, 'cannot specify both BlockHash and BlockNumber, choose one or the other')
    // a malformed object fails geth's object decoding, then its retry as a string
    rejects(blockRef, { blockHash: '0x12' }, 'json: cannot unmarshal object into Go value of type string')
    rejects(blockRef, { blockNumber: 1 }, 'json: cannot unmarshal object into Go value of type string')
    rejects(blockRef, { blockHash: HASH, requireCanonical: 'yes' }, 'json: cannot unmarshal object into Go value of type string')
    rejects(blockRef, 5, 'json: cannot unmarshal number into Go value of type string')
    rejects(blockRef, [], 'json: cannot unmarshal array into Go value of type string')
  })
})

describe('optional', () => {
  it('maps omitted and null to undefined and marks the argument optional', () => {
    const p = optional(blockRef)
    assert.equal(p.optional, true)
    assert.equal(blockRef.optional, false)
    assert.equal(p.parse(undefined), undefined)
    assert.equal(p.parse(null), undefined)
    assert.deepEqual(p.parse('latest'), { number: 'latest' })
    rejects(p, '2', 'hex string without 0x prefix')
  })
})
