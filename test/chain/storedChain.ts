import type { TestContext } from 'node:test'

import { Chain } from '../../src/chain/chain.ts'
import { importBlockFiles } from '../../src/chain/importer.ts'
import { fixture, readFixture, tempDir } from '../helpers.ts'

/**
 * The execution-apis chain imported, then opened afresh: every block is read from the database, none served from
 * the import's caches. Closed when the test ends.
 */
export async function reopenedExecutionApisChain(t: TestContext): Promise<Chain> {
  const dir = tempDir(t)
  await Chain.init(dir, readFixture('execution-apis/genesis.json'))
  const writer = await Chain.open(dir)
  await importBlockFiles(writer, [fixture('execution-apis/chain.rlp')], () => {})
  await writer.close()
  const chain = await Chain.open(dir)
  t.after(() => chain.close())
  return chain
}
