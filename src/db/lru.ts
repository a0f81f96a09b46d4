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

interface Entry<K, V> {
  key: K
  value: V
  weight: number
  /** toward the least recently used end */
  older: Entry<K, V> | undefined
  /** toward the most recently used end */
  newer: Entry<K, V> | undefined
}

export class Lru<K, V> {
  readonly maxEntries: number
  readonly maxWeight: number
  private readonly weigh: (value: V) => number
  // recency is a doubly linked list, not a Map's insertion order: evicting a Map's first entry again and again costs
  // a walk over every deleted slot before it (V8 compacts only on rehash), which made a full cache's set O(size)
  private readonly entries = new Map<K, Entry<K, V>>()
  private oldest: Entry<K, V> | undefined
  private newest: Entry<K, V> | undefined
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
    if (entry !== this.newest) {
      this.unlink(entry)
      this.append(entry)
    }
    return entry.value
  }

  set(key: K, value: V): void {
    const weight = this.weigh(value)
    // a value heavier than the whole cache would only evict everything else
    if (weight > this.maxWeight) return
    this.delete(key)
    const entry: Entry<K, V> = { key, value, weight, older: undefined, newer: undefined }
    this.entries.set(key, entry)
    this.append(entry)
    this.totalWeight += weight
    while (this.oldest !== undefined && (this.entries.size > this.maxEntries || this.totalWeight > this.maxWeight)) {
      this.delete(this.oldest.key)
    }
  }

  delete(key: K): void {
    const entry = this.entries.get(key)
    if (entry === undefined) return
    this.entries.delete(key)
    this.unlink(entry)
    this.totalWeight -= entry.weight
  }

  clear(): void {
    this.entries.clear()
    this.oldest = this.newest = undefined
    this.totalWeight = 0
  }

  private append(entry: Entry<K, V>): void {
    entry.older = this.newest
    entry.newer = undefined
    if (this.newest !== undefined) this.newest.newer = entry
    else this.oldest = entry
    this.newest = entry
  }

  private unlink(entry: Entry<K, V>): void {
    if (entry.older !== undefined) entry.older.newer = entry.newer
    else this.oldest = entry.newer
    if (entry.newer !== undefined) entry.newer.older = entry.older
    else this.newest = entry.older
    entry.older = entry.newer = undefined
  }
}
