/**
 * A least-recently-used map bounded by entry count and by a total weight (bytes, transactions...), for read caches
 * of content-addressed data: a value stored under a hash never changes, so entries need no invalidation and memory
 * stays within the bounds whatever the chain's length.
 */
export interface LruOptions<V> {
  maxEntries: number
  /** the most weight held at once; default: no bound beyond maxEntries */
  maxWeight?: number
  /** one value's weight; default 1 */
  weigh?: (value: V) => number
}

export class Lru<K, V> {
  readonly maxEntries: number
  readonly maxWeight: number
  private readonly weigh: (value: V) => number
  // a Map iterates in insertion order: re-inserting on use keeps the least recently used first
  private readonly entries = new Map<K, { value: V; weight: number }>()
  private totalWeight = 0

  constructor(opts: LruOptions<V>) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new RangeError(`invalid LRU size ${opts.maxEntries}`)
    this.maxEntries = opts.maxEntries
    this.maxWeight = opts.maxWeight ?? Infinity
    this.weigh = opts.weigh ?? (() => 1)
  }

  get size(): number {
    return this.entries.size
  }

  get weight(): number {
    return this.totalWeight
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key)
    if (entry === undefined) return undefined
    this.entries.delete(key)
    this.entries.set(key, entry)
    return entry.value
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value)
    // a value heavier than the whole cache would only evict everything else
    if (weight > this.maxWeight) return
    this.delete(key)
    this.entries.set(key, { value, weight })
    this.totalWeight += weight
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.totalWeight <= this.maxWeight) break
      this.entries.delete(oldest)
      this.totalWeight -= entry.weight
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.totalWeight -= entry.weight
  }

  clear(): void {
    this.entries.clear()
    this.totalWeight = 0
  }
}
