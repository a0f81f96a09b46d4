import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { Lru } from '../../src/db/lru.ts'

describe('Lru', () => {
  it('evicts the least recently used entry past its size', () => {
    const lru = new Lru<string, number>({ maxEntries: 2 })
    lru.set('a', 1)
    lru.set('b', 2)
    assert.equal(lru.get('a'), 1)
    lru.set('c', 3)
    assert.equal(lru.get('b'), undefined)
    assert.equal(lru.get('a'), 1)
    assert.equal(lru.get('c'), 3)
    assert.equal(lru.size, 2)
  })

  it('keeps its total weight within the bound and skips values heavier than it', () => {
    const lru = new Lru<string, string>({ maxEntries: 10, maxWeight: 10, weigh: (v) => v.length })
    lru.set('a', 'xxxx')
    lru.set('b', 'xxxx')
    lru.set('c', 'xxxx')
    assert.equal(lru.get('a'), undefined)
    assert.equal(lru.weight, 8)
    lru.set('huge', 'x'.repeat(11))
    assert.equal(lru.get('huge'), undefined)
    assert.equal(lru.weight, 8)
    lru.set('b', 'x')
    assert.equal(lru.weight, 5)
    lru.clear()
    assert.equal(lru.size, 0)
    assert.equal(lru.weight, 0)
  })
})
