import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'

import { NODE_FLAGS } from '../../src/cli/nodeFlags.ts'

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
const flags = NODE_FLAGS.join(' ')

// the nodes `cairn devnet` spawns are checked in test/e2e/devnet.test.ts, from their running processes
describe('every way cairn is launched runs Node with NODE_FLAGS', () => {
  it('bin/cairn.ts (its shebang: npx cairn, an installed bin)', () => {
    assert.equal(read('bin/cairn.ts').split('\n')[0], `#!/usr/bin/env -S node ${flags}`)
  })

  it('npm start', () => {
    const { scripts } = JSON.parse(read('package.json')) as { scripts: Record<string, string> }
    assert.equal(scripts.start, `node ${flags} bin/cairn.ts --dev`)
  })

  it('the Docker image and the compose nodes', () => {
    assert.match(read('Dockerfile'), new RegExp(`^ENTRYPOINT \\["node", ${NODE_FLAGS.map((f) => `"${f}"`).join(', ')}, "bin/cairn.ts"\\]$`, 'm'))
    assert.match(read('deploy/node.sh'), new RegExp(`^exec node ${flags} bin/cairn.ts "\\$@"$`, 'm'))
  })
})
