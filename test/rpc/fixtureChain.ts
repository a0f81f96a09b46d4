import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { Chain } from '../../src/chain/chain.ts'
import { importBlockFiles } from '../../src/chain/importer.ts'

/** ethereum/execution-apis conformance tests: genesis.json, chain.rlp and one folder of .io files per method */
export const CONFORMANCE = new URL('../../../shared/conformance/execution-apis/tests/', import.meta.url).pathname

export interface Exchange {
  request: string
  response: string
}

export interface FixtureTest {
  /** "<method>/<file without .io>" */
  name: string
  exchanges: Exchange[]
}

/** The conformance tests of `method`: each `>>` request line with the `<<` response line after it. */
export function fixtureTests(method: string): FixtureTest[] {
  const dir = join(CONFORMANCE, method)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.io'))
    .sort()
    .map((file) => {
      const lines = readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('>>') || l.startsWith('<<'))
      const exchanges: Exchange[] = []
      for (let i = 0; i + 1 < lines.length; i += 2) exchanges.push({ request: lines[i].slice(2).trim(), response: lines[i + 1].slice(2).trim() })
      return { name: `${method}/${file.replace(/\.io$/, '')}`, exchanges }
    })
}

export const fixtureMethods = (): string[] => readdirSync(CONFORMANCE, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)

/** A real chain in a temporary datadir holding the conformance chain (genesis.json + chain.rlp, head 0x36). */
export async function openFixtureChain(): Promise<{ chain: Chain; close(): Promise<void> }> {
  const datadir = mkdtempSync(join(tmpdir(), 'cairn-rpc-'))
  await Chain.init(datadir, readFileSync(join(CONFORMANCE, 'genesis.json'), 'utf8'))
  const chain = await Chain.open(datadir)
  await importBlockFiles(chain, [join(CONFORMANCE, 'chain.rlp')], () => {})
  return {
    chain,
    close: async () => {
      await chain.close()
      rmSync(datadir, { recursive: true, force: true })
    },
  }
}
