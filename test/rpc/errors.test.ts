import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  RpcError,
  RpcErrorKind,
  batchTooLarge,
  emptyBatch,
  executionReverted,
  hashNotCanonical,
  headerForHashNotFound,
  headerNotFound,
  invalidParams,
  invalidRequest,
  methodNotFound,
  notificationsUnsupported,
  parseError,
  responseTooLarge,
  toJsonError,
  unknownBlock,
} from '../../src/rpc/errors.ts'

describe('toJsonError', () => {
  it("maps each error kind to geth's code and message", () => {
    const cases: [RpcError, number, string][] = [
      [parseError(), -32700, 'parse error'],
      [invalidRequest(), -32600, 'invalid request'],
      [emptyBatch(), -32600, 'empty batch'],
      [batchTooLarge(), -32600, 'batch too large'],
      [methodNotFound('eth_foo'), -32601, 'the method eth_foo does not exist/is not available'],
      [notificationsUnsupported(), -32601, 'notifications not supported'],
      [invalidParams('missing value for required argument 0'), -32602, 'missing value for required argument 0'],
      [responseTooLarge(), -32003, 'response too large'],
      [headerNotFound(), -32000, 'header not found'],
      [headerForHashNotFound(), -32000, 'header for hash not found'],
      [hashNotCanonical(), -32000, 'hash is not currently canonical'],
      [unknownBlock(), -32000, 'unknown block'],
      [new RpcError(RpcErrorKind.Internal, 'json: unsupported value'), -32603, 'json: unsupported value'],
    ]
    for (const [err, code, message] of cases) assert.deepEqual(toJsonError(err), { code, message })
  })

  it('carries revert data under code 3', () => {
    const data = '0x08c379a0'
    assert.deepEqual(toJsonError(executionReverted(data)), { code: 3, message: 'execution reverted', data })
    assert.deepEqual(toJsonError(executionReverted(data, 'not owner')), { code: 3, message: 'execution reverted: not owner', data })
  })

  it('answers anything else as a crashed handler, without its message', () => {
    assert.deepEqual(toJsonError(new Error('ENOENT /secret/path')), { code: -32603, message: 'method handler crashed' })
    assert.deepEqual(toJsonError('thrown string'), { code: -32603, message: 'method handler crashed' })
  })
})
