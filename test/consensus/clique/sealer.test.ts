import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { nextGasLimit, sealSchedule } from '../../../src/consensus/clique/sealer.ts'

const base = { parentTimestamp: 1000n, interval: 5, intakeMs: 3750, inTurn: true, signers: 3, random: () => 0.5 }

describe('sealing schedule (geth clique.Prepare/Seal)', () => {
  it('in turn: seals exactly at parent.timestamp + period', () => {
    assert.deepEqual(sealSchedule({ ...base, nowMs: 1_002_000 }), { timestamp: 1005n, delay: 3000 })
  })

  it('out of turn: waits for the in-turn signer\'s intake, then an extra random delay of up to (signers/2+1) x 500 ms', () => {
    const outOfTurn = { ...base, inTurn: false, nowMs: 1_002_000 }
    assert.equal(sealSchedule({ ...outOfTurn, random: () => 0 }).delay, 3000 + 3750)
    assert.equal(sealSchedule({ ...outOfTurn, random: () => 0.5 }).delay, 3000 + 3750 + 500) // 3 signers: wiggle 1000 ms
    assert.equal(sealSchedule({ ...outOfTurn, random: () => 0.999 }).delay, 3000 + 3750 + 999)
    assert.equal(sealSchedule({ ...outOfTurn, signers: 10, random: () => 0.5 }).delay, 3000 + 3750 + 1500) // 10 signers: 3000 ms
  })

  it('out of turn, after in-turn blocks that arrived late: waits that long instead of the intake, at most a period', () => {
    const outOfTurn = { ...base, inTurn: false, nowMs: 1_002_000, random: () => 0 }
    assert.equal(sealSchedule({ ...outOfTurn, inTurnLateMs: 1000 }).delay, 3000 + 3750, 'earlier than the intake: the intake')
    assert.equal(sealSchedule({ ...outOfTurn, inTurnLateMs: 4200 }).delay, 3000 + 4200)
    assert.equal(sealSchedule({ ...outOfTurn, inTurnLateMs: 60_000 }).delay, 3000 + 5000, 'capped at the 5 s period')
    assert.equal(sealSchedule({ ...base, nowMs: 1_002_000, inTurnLateMs: 4200 }).delay, 3000, 'in turn: no wait')
  })

  it('a late parent: the timestamp is now and sealing starts at once (a restarted sealer resumes within a period)', () => {
    assert.deepEqual(sealSchedule({ ...base, nowMs: 2_000_400 }), { timestamp: 2000n, delay: 0 })
  })

  it('period 0: the timestamp may equal the parent\'s', () => {
    assert.deepEqual(sealSchedule({ ...base, interval: 0, nowMs: 999_000 }), { timestamp: 1000n, delay: 1000 })
  })
})

describe('gas limit towards the target (geth core.CalcGasLimit)', () => {
  it('moves by at most parent/1024 - 1 and stops at the target', () => {
    assert.equal(nextGasLimit(30_000_000n, 30_000_000n), 30_000_000n)
    assert.equal(nextGasLimit(30_000_000n, 60_000_000n), 30_000_000n + 30_000_000n / 1024n - 1n)
    assert.equal(nextGasLimit(30_000_000n, 20_000_000n), 30_000_000n - 30_000_000n / 1024n + 1n)
    assert.equal(nextGasLimit(30_000_000n, 30_010_000n), 30_010_000n)
  })
})
