import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { describe, it } from 'node:test'

import { SUITE, readBaseline, regressions, runConformance } from '../conformance/run.ts'

describe('execution-apis conformance (npm run conformance)', () => {
  it('passes at least every test recorded in test/conformance/baseline.json', { timeout: 240_000, skip: !existsSync(SUITE) && 'the shared suite is not beside this checkout' }, async (t) => {
    const report = await runConformance({ quiet: true })
    const baseline = readBaseline()
    t.diagnostic(`${report.passed}/${report.total} pass (baseline ${baseline.passed})`)
    assert.deepEqual(regressions(report, baseline), [], 'tests that passed before must still pass')
    assert.ok(report.passed >= baseline.passed)
  })
})
