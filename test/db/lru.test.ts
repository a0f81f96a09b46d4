import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { GenerationalCache, Lru } from '../../src/db/lru.ts'

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

  it('agrees with a reference model over a long random mix of gets, sets and deletes', () => {
    // the reference keeps recency as an array, oldest first: slow but obviously right
    const lru = new Lru<number, number>({ maxEntries: 50, maxWeight: 400, weigh: (v) => v })
    let model: { key: number; value: number }[] = []
    let seed = 7
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n)
    for (let step = 0; step < 20_000; step++) {
      const key = rand(80)
      const op = rand(10)
      if (op < 5) {
        const at = model.findIndex((e) => e.key === key)
        const want = at === -1 ? undefined : model[at].value
        if (at !== -1) model.push(...model.splice(at, 1))
        assert.equal(lru.get(key), want, `step ${step}: get ${key}`)
      } else if (op < 9) {
        const value = 1 + rand(20)
        model = model.filter((e) => e.key !== key)
        model.push({ key, value })
        let weight = model.reduce((a, e) => a + e.value, 0)
        while (model.length > 50 || weight > 400) weight -= model.shift()!.value
        lru.set(key, value)
      } else {
        model = model.filter((e) => e.key !== key)
        lru.delete(key)
      }
      assert.equal(lru.size, model.length, `step ${step}: size`)
      assert.equal(lru.weight, model.reduce((a, e) => a + e.value, 0), `step ${step}: weight`)
    }
  })
})

describe('GenerationalCache', () => {
  const cache = (maxWeight: number) => new GenerationalCache<string, string>({ maxWeight, weigh: (v) => v.length })

  it('holds at most its weight, dropping the older half when the newer one fills', () => {
    const c = cache(8)
    for (const k of ['a', 'b', 'c', 'd']) c.set(k, 'xx')
    // a and b filled the first half, c and d the second
    assert.equal(c.weight, 8)
    assert.deepEqual([c.get('c'), c.get('d')], ['xx', 'xx'])
    c.set('e', 'xx')
    assert.deepEqual([c.get('a'), c.get('b')], [undefined, undefined])
    assert.deepEqual([c.get('c'), c.get('e')], ['xx', 'xx'])
    for (let i = 0; i < 100; i++) {
      c.set(`k${i}`, 'x'.repeat(1 + (i % 3)))
      if (i % 2 === 0) c.get(`k${i - 7}`)
      assert.ok(c.weight <= 8, `weight ${c.weight} after ${i}`)
    }
  })

  it('keeps an entry that is read while its generation ages out', () => {
    const c = cache(8)
    c.set('kept', 'xx')
    c.set('other', 'xx')
    c.set('n1', 'xx') // a new generation: kept and other are the older one now
    assert.equal(c.get('kept'), 'xx') // read, so put into the newer one
    c.set('n2', 'xx') // the newer one is full: it becomes the older one, and the oldest goes
    assert.equal(c.get('other'), undefined)
    assert.equal(c.get('kept'), 'xx')
  })

  it('skips a value heavier than half its weight, and does not count a key set twice twice', () => {
    const c = cache(8)
    c.set('huge', 'xxxxx')
    assert.equal(c.get('huge'), undefined)
    c.set('a', 'xx')
    c.set('a', 'xx')
    assert.equal(c.weight, 2)
    assert.equal(c.size, 1)
    c.clear()
    assert.equal(c.get('a'), undefined)
    assert.equal(c.weight, 0)
  })

  it('deletes an entry from both generations, and its room goes to new entries', () => {
    const c = cache(8)
    c.set('old', 'xx')
    c.set('other', 'xx')
    c.set('n1', 'xx') // old and other are the older generation now
    assert.equal(c.get('old'), 'xx') // and old is in the newer one as well
    c.delete('old')
    assert.equal(c.get('old'), undefined)
    assert.deepEqual([c.size, c.weight], [2, 4])
    c.delete('absent')
    assert.equal(c.weight, 4)
    // the newer generation has room for one more before it fills and the older one (other) goes
    c.set('n2', 'xx')
    assert.equal(c.get('other'), 'xx')
  })
})
