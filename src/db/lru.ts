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

/**
 * A read cache bounded by total weight that forgets in halves: entries go into the current generation, and when it
 * holds half the weight it becomes the previous one, dropping the one before whole. A hit in the previous generation
 * is put into the current one, so what is in use stays. Unlike Lru it keeps no per-entry record or recency list: for
 * the ~10^5 small trie nodes of the node cache, each record was one more object (beside the key, the array and its
 * buffer) for every full garbage collection to mark, and their upkeep several percent of an import. The price is
 * recency kept per half, not per entry.
 * For content-addressed data only: a key's value never changes, so a key is never set again with another value.
 */
export class GenerationalCache<K, V> {
  readonly maxWeight: number
  private readonly weigh: (value: V) => number
  private current = new Map<K, V>()
  private previous = new Map<K, V>()
  private currentWeight = 0
  private previousWeight = 0

  constructor(opts: { maxWeight: number; weigh: (value: V) => number }) {
    if (!(opts.maxWeight > 0)) throw new RangeError(`invalid cache weight ${opts.maxWeight}`)
    this.maxWeight = opts.maxWeight
    this.weigh = opts.weigh
  }

  /** entries held in both generations (an entry moved up from the previous one counts twice until it is dropped) */
  get size(): number {
    return this.current.size + this.previous.size
  }

  /** the weight held, at most maxWeight (counted as `size` is) */
  get weight(): number {
    return this.currentWeight + this.previousWeight
  }

  get(key: K): V | undefined {
    const value = this.current.get(key)
    if (value !== undefined) return value
    const old = this.previous.get(key)
    if (old !== undefined) this.put(key, old)
    return old
  }

  set(key: K, value: V): void {
    if (!this.current.has(key)) this.put(key, value)
  }

  /** Forgets `key`: for an entry known to be needed no more, so that its room goes to one that is. */
  delete(key: K): void {
    const value = this.current.get(key)
    if (value !== undefined) {
      this.current.delete(key)
      this.currentWeight -= this.weigh(value)
    }
    const old = this.previous.get(key)
    if (old !== undefined) {
      this.previous.delete(key)
      this.previousWeight -= this.weigh(old)
    }
  }

  clear(): void {
    this.current = new Map()
    this.previous = new Map()
    this.currentWeight = this.previousWeight = 0
  }

  private put(key: K, value: V): void {
    const weight = this.weigh(value)
    // one value heavier than a generation would only push everything else out
    if (weight > this.maxWeight / 2) return
    if (this.currentWeight + weight > this.maxWeight / 2) {
      this.previous = this.current
      this.previousWeight = this.currentWeight
      this.current = new Map()
      this.currentWeight = 0
    }
    this.current.set(key, value)
    this.currentWeight += weight
  }
}
