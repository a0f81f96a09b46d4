/** A binary min-heap under `less` (Go's container/heap, which geth's price heaps are built on). */
export class Heap<T> {
  private items: T[] = []
  private readonly less: (a: T, b: T) => boolean

  constructor(less: (a: T, b: T) => boolean) {
    this.less = less
  }

  get size(): number {
    return this.items.length
  }

  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    this.items.push(item)
    this.up(this.items.length - 1)
  }

  pop(): T | undefined {
    const items = this.items
    if (items.length === 0) return undefined
    const top = items[0]
    const last = items.pop() as T
    if (items.length > 0) {
      items[0] = last
      this.down(0)
    }
    return top
  }

  /** Replaces the smallest item (cheaper than pop + push). */
  replaceTop(item: T): void {
    this.items[0] = item
    this.down(0)
  }

  /** Takes `items` as the heap's contents and orders them in O(n). */
  init(items: T[]): void {
    this.items = items
    for (let i = (items.length >> 1) - 1; i >= 0; i--) this.down(i)
  }

  private up(i: number): void {
    const items = this.items
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.less(items[i], items[parent])) break
      ;[items[i], items[parent]] = [items[parent], items[i]]
      i = parent
    }
  }

  private down(i: number): void {
    const items = this.items
    const n = items.length
    for (;;) {
      const left = 2 * i + 1
      if (left >= n) break
      let child = left
      if (left + 1 < n && this.less(items[left + 1], items[left])) child = left + 1
      if (!this.less(items[child], items[i])) break
      ;[items[i], items[child]] = [items[child], items[i]]
      i = child
    }
  }
}
