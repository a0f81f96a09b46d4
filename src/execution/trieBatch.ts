import { setImmediate as yieldToEventLoop } from 'node:timers/promises'

import type { CheckpointDB, MerklePatriciaTrie } from '@ethereumjs/mpt'
import { KECCAK256_RLP, KeyEncoding, ValueEncoding, equalsBytes, unprefixedHexToBytes } from '@ethereumjs/util'

import { encodeRlp, rlpList, rlpListItems } from '../chain/rlp.ts'
import type { RlpItemBounds } from '../chain/rlp.ts'
import { keccak256 } from '../crypto/keccak.ts'

/**
 * Many writes to a Merkle-Patricia trie applied at once: the paths they touch are loaded and changed in memory, and
 * every changed node is hashed and stored once at the end. ethereumjs's put() walks, re-encodes, re-hashes and stores
 * the whole path for each key, so a block touching a thousand accounts hashed the nodes near the root a thousand
 * times. Nodes are read and stored past the trie's checkpoints (see nodeStore); the result is the root the same
 * writes made one by one would give, which the tests check against ethereumjs.
 */

/** a write: the (unhashed) key and its value; an empty value deletes the key, as MerklePatriciaTrie.put does */
export type TrieWrite = [key: Uint8Array, value: Uint8Array]

type Nibbles = number[]
interface Leaf {
  kind: 'leaf'
  path: Nibbles
  value: Uint8Array
  /** the stored node's hash while it is unchanged (a node read from the database) */
  hash?: Uint8Array
}
interface Extension {
  kind: 'ext'
  path: Nibbles
  child: Ref
  hash?: Uint8Array
}
interface Branch {
  kind: 'branch'
  children: Ref[]
  value: Uint8Array | undefined
  hash?: Uint8Array
}
type TrieNode = Leaf | Extension | Branch
/** a child: absent, a stored node not read yet (its hash), or a node in memory */
type Ref = undefined | Uint8Array | TrieNode

type RlpItem = Uint8Array | RlpItem[]

type StoredNode = { type: 'put'; key: Uint8Array; value: Uint8Array }

interface NodeSource {
  get(key: Uint8Array): Promise<Uint8Array | undefined | null>
  store(nodes: StoredNode[]): Promise<void>
  /** told the stored nodes (by key in hex) that the writes replaced, which the new root no longer refers to */
  superseded?(keys: string[]): void
}

const EMPTY = new Uint8Array(0)
/** how long the writes run before other work (RPC, gossip) gets a turn */
const YIELD_EVERY_MS = 20

/** Whether `trie` hashes its keys, and its node store; a key prefix (which cairn never sets) is refused. */
function nodeAccess(trie: MerklePatriciaTrie, caller: string): { useKeyHashing: boolean; source: NodeSource } {
  const opts = (trie as unknown as { _opts: { useKeyHashing: boolean; keyPrefix?: Uint8Array } })._opts
  if (opts.keyPrefix !== undefined) throw new Error(`${caller}: tries with a key prefix are not supported`)
  return { useKeyHashing: opts.useKeyHashing, source: nodeStore(trie.database()) }
}

/**
 * The trie's nodes, read and stored past its CheckpointDB. CheckpointDB.get copies every node read under a checkpoint
 * (runTx opens one per transaction) into that checkpoint, and its last commit stores them all again as writes: in the
 * bench's import that was 47 % of the nodes each block stored (1.25 M of 2.65 M), every one hex-keyed, batched and
 * written to LevelDB once more. Reads here look at the open checkpoints' writes first, newest first, as
 * CheckpointDB.get does, and then at the store, and copy nothing. New nodes go to the store at once rather than
 * through the checkpoints' maps and their commits. Nodes are content-addressed: a node read once reads the same until
 * the checkpoint ends, and a node stored under a checkpoint that is then reverted is one nothing refers to (a block
 * whose execution fails has its store's pending nodes discarded). A trie with CheckpointDB's own cache, or that stores
 * values as strings, goes through CheckpointDB.
 */
function nodeStore(db: CheckpointDB): NodeSource {
  const { valueEncoding } = db as unknown as { valueEncoding: ValueEncoding }
  if (db.cacheSize > 0 || valueEncoding !== ValueEncoding.Bytes) {
    return { get: (k) => db.get(k) as Promise<Uint8Array | undefined | null>, store: (nodes) => db.batch(nodes) }
  }
  const opts = { keyEncoding: KeyEncoding.String, valueEncoding }
  const store = db.db as typeof db.db & { superseded?(keys: string[]): void }
  return {
    async get(key) {
      const hex = hexOf(key)
      for (let i = db.checkpoints.length - 1; i >= 0; i--) {
        const written = db.checkpoints[i].keyValueMap
        if (written.has(hex)) return written.get(hex)
      }
      const value = await db.db.get(hex, opts)
      return typeof value === 'string' ? unprefixedHexToBytes(value) : value
    },
    store: (nodes) => db.db.batch(nodes.map((n) => ({ type: 'put', key: hexOf(n.key), value: n.value, opts }))),
    superseded: store.superseded?.bind(store),
  }
}

/**
 * Applies `writes` to `trie` and moves it to the new root. Later writes to a key win over earlier ones. Keys are hashed
 * when the trie hashes them (a secure trie, as the state tries are); a trie with a key prefix is not supported.
 */
export async function applyTrieWrites(trie: MerklePatriciaTrie, writes: Iterable<TrieWrite>): Promise<Uint8Array> {
  const { useKeyHashing, source } = nodeAccess(trie, 'applyTrieWrites')
  const byKey = new Map<string, [Nibbles, Uint8Array]>()
  for (const [key, value] of writes) {
    const applied = useKeyHashing ? keccak256(key) : key
    byKey.set(hexOf(applied), [toNibbles(applied), value])
  }
  if (byKey.size === 0) return trie.root()
  let root: Ref = equalsBytes(trie.root(), KECCAK256_RLP) ? undefined : trie.root()
  // nodes mostly come from caches, so the awaits below settle as microtasks: without a yield, a block of thousands of
  // accounts would hold off RPC and gossip until its whole state is written
  let slice = performance.now()
  const replaced: Uint8Array[] = []
  for (const [path, value] of byKey.values()) {
    root = value.length === 0 ? await remove(source, root, path, 0, replaced) : await insert(source, root, path, 0, value, replaced)
    if (performance.now() - slice > YIELD_EVERY_MS) {
      await yieldToEventLoop()
      slice = performance.now()
    }
  }
  if (performance.now() - slice > YIELD_EVERY_MS / 2) await yieldToEventLoop()
  const stored: StoredNode[] = []
  const rootHash = commitRoot(root, stored)
  if (stored.length > 0) await source.store(stored)
  if (replaced.length > 0) source.superseded?.(replaced.map(hexOf))
  trie.root(rootHash)
  return rootHash
}

/**
 * The value under `key`, or null: what MerklePatriciaTrie.get returns, found by one walk down the key's path. get()
 * goes through ethereumjs's generic walker (a task queue, a node object and several awaits per step), which cost more
 * than the node reads themselves: 13 % of an import.
 */
export async function readTrieValue(trie: MerklePatriciaTrie, key: Uint8Array): Promise<Uint8Array | null> {
  const { useKeyHashing, source } = nodeAccess(trie, 'readTrieValue')
  const root = trie.root()
  if (equalsBytes(root, KECCAK256_RLP)) return null
  const path = toNibbles(useKeyHashing ? keccak256(key) : key)
  let ref: Ref = root
  let at = 0
  for (;;) {
    if (ref === undefined) return null
    const node = await resolve(source, ref)
    if (node.kind === 'branch') {
      if (at === path.length) return node.value?.slice() ?? null
      ref = node.children[path[at++]]
      continue
    }
    if (commonPrefix(node.path, path, at) !== node.path.length) return null
    at += node.path.length
    // a copy: the node's byte strings are views into the stored (and cached) node
    if (node.kind === 'leaf') return at === path.length ? node.value.slice() : null
    ref = node.child
  }
}

/**
 * The stored node `ref` names, decoded afresh each time. Keeping decoded nodes (8,192, by their stored bytes) saved
 * allocation but made the bench's import 10-15 % slower: they lived just long enough to reach the old generation.
 */
async function resolve(source: NodeSource, ref: Uint8Array | TrieNode): Promise<TrieNode> {
  if (!(ref instanceof Uint8Array)) return ref
  const encoded = await source.get(ref)
  if (encoded === undefined || encoded === null) throw new Error(`missing trie node ${hexOf(ref)}`)
  let node: TrieNode
  try {
    const list = rlpList(encoded)
    node = decodeList(encoded, list.payload, list.end)
  } catch (err) {
    throw new Error(`invalid trie node ${hexOf(ref)}: ${(err as Error).message}`)
  }
  node.hash = ref
  return node
}

/** `ref` with `value` at `path`; the stored nodes it replaces go into `replaced` */
async function insert(source: NodeSource, ref: Ref, path: Nibbles, at: number, value: Uint8Array, replaced: Uint8Array[]): Promise<TrieNode> {
  if (ref === undefined) return { kind: 'leaf', path: path.slice(at), value }
  const node = await resolve(source, ref)
  if (node.hash !== undefined) replaced.push(node.hash)
  if (node.kind === 'branch') {
    const children = node.children.slice()
    if (at === path.length) return { kind: 'branch', children, value }
    children[path[at]] = await insert(source, children[path[at]], path, at + 1, value, replaced)
    return { kind: 'branch', children, value: node.value }
  }
  const shared = commonPrefix(node.path, path, at)
  if (node.kind === 'leaf' && shared === node.path.length && at + shared === path.length) return { kind: 'leaf', path: node.path, value }
  if (node.kind === 'ext' && shared === node.path.length) {
    return { kind: 'ext', path: node.path, child: await insert(source, node.child, path, at + shared, value, replaced) }
  }
  // the paths part after `shared` nibbles: a branch holds both (an extension above it keeps the shared part)
  const children: Ref[] = new Array(16).fill(undefined)
  let branchValue: Uint8Array | undefined
  if (node.kind === 'leaf') {
    if (shared === node.path.length) branchValue = node.value
    else children[node.path[shared]] = { kind: 'leaf', path: node.path.slice(shared + 1), value: node.value }
  } else {
    const rest = node.path.slice(shared + 1)
    children[node.path[shared]] = rest.length === 0 ? node.child : { kind: 'ext', path: rest, child: node.child }
  }
  const split = at + shared
  if (split === path.length) branchValue = value
  else children[path[split]] = { kind: 'leaf', path: path.slice(split + 1), value }
  const branch: Branch = { kind: 'branch', children, value: branchValue }
  return shared === 0 ? branch : { kind: 'ext', path: path.slice(at, split), child: branch }
}

/** `ref` without the key at `path`, the stored nodes it replaces put into `replaced`; the same `ref` when the key is absent */
async function remove(source: NodeSource, ref: Ref, path: Nibbles, at: number, replaced: Uint8Array[]): Promise<Ref> {
  if (ref === undefined) return undefined
  const node = await resolve(source, ref)
  const changed = <T>(result: T): T => {
    if (node.hash !== undefined) replaced.push(node.hash)
    return result
  }
  if (node.kind === 'leaf') {
    return node.path.length === path.length - at && commonPrefix(node.path, path, at) === node.path.length ? changed(undefined) : ref
  }
  if (node.kind === 'ext') {
    if (commonPrefix(node.path, path, at) !== node.path.length) return ref
    const child = await remove(source, node.child, path, at + node.path.length, replaced)
    if (child === node.child) return ref
    if (child === undefined) return changed(undefined)
    return changed(joinPath(node.path, await resolve(source, child)))
  }
  let children = node.children
  let value = node.value
  if (at === path.length) {
    if (value === undefined) return ref
    value = undefined
  } else {
    const child = await remove(source, children[path[at]], path, at + 1, replaced)
    if (child === children[path[at]]) return ref
    children = children.slice()
    children[path[at]] = child
  }
  // a branch left with a single entry folds into its neighbour
  const used = children.reduce<number[]>((acc, c, i) => (c !== undefined ? [...acc, i] : acc), [])
  if (used.length + (value !== undefined ? 1 : 0) >= 2) return changed({ kind: 'branch', children, value })
  if (used.length === 0) return changed(value === undefined ? undefined : { kind: 'leaf', path: [], value })
  const folded = await resolve(source, children[used[0]] as Uint8Array | TrieNode)
  // a leaf or an extension below takes the branch's place with a longer path: a stored one is replaced too
  if (folded.hash !== undefined && folded.kind !== 'branch') replaced.push(folded.hash)
  return changed(joinPath([used[0]], folded))
}

/** `prefix` followed by `node`: leaves and extensions absorb it, a branch gets an extension above it */
function joinPath(prefix: Nibbles, node: TrieNode): TrieNode {
  if (node.kind === 'leaf') return { kind: 'leaf', path: [...prefix, ...node.path], value: node.value }
  if (node.kind === 'ext') return { kind: 'ext', path: [...prefix, ...node.path], child: node.child }
  return { kind: 'ext', path: prefix, child: node }
}

function commitRoot(root: Ref, stored: StoredNode[]): Uint8Array {
  if (root === undefined) return KECCAK256_RLP
  if (root instanceof Uint8Array) return root
  if (root.hash !== undefined) return root.hash
  // the root is stored by its hash even when its encoding is shorter than 32 bytes
  const encoded = encodeRlp(itemOf(root, stored))
  const hash = keccak256(encoded)
  stored.push({ type: 'put', key: hash, value: encoded })
  return hash
}

/** how a parent refers to `ref`: its hash, or the node itself when its encoding is shorter than 32 bytes */
function refItem(ref: Ref, stored: StoredNode[]): RlpItem {
  if (ref === undefined) return EMPTY
  if (ref instanceof Uint8Array) return ref
  if (ref.hash !== undefined) return ref.hash
  const item = itemOf(ref, stored)
  const encoded = encodeRlp(item)
  if (encoded.length < 32) return item
  const hash = keccak256(encoded)
  stored.push({ type: 'put', key: hash, value: encoded })
  ref.hash = hash
  return hash
}

function itemOf(node: TrieNode, stored: StoredNode[]): RlpItem[] {
  if (node.kind === 'leaf') return [hexPrefix(node.path, true), node.value]
  if (node.kind === 'ext') return [hexPrefix(node.path, false), refItem(node.child, stored)]
  return [...node.children.map((c) => refItem(c, stored)), node.value ?? EMPTY]
}

/**
 * The node whose list items are encoded in bytes[payload, end). Its byte strings are views into the stored bytes
 * (which are never changed): RLP.decode copied the list body and then every item again, a third of a state read.
 */
function decodeList(bytes: Uint8Array, payload: number, end: number): TrieNode {
  const items = rlpListItems(bytes, payload, end)
  const ref = (item: RlpItemBounds): Ref => {
    if (item.isList) return decodeList(bytes, item.payload, item.end)
    return item.payload === item.end ? undefined : bytes.subarray(item.payload, item.end)
  }
  const string = (item: RlpItemBounds): Uint8Array => {
    if (item.isList) throw new Error('a list where a byte string belongs')
    return bytes.subarray(item.payload, item.end)
  }
  if (items.length === 17) {
    const children: Ref[] = new Array(16)
    for (let i = 0; i < 16; i++) children[i] = ref(items[i])
    const value = string(items[16])
    return { kind: 'branch', children, value: value.length > 0 ? value : undefined }
  }
  if (items.length !== 2) throw new Error(`a list of ${items.length} items`)
  const [path, isLeaf] = fromHexPrefix(string(items[0]))
  return isLeaf ? { kind: 'leaf', path, value: string(items[1]) } : { kind: 'ext', path, child: ref(items[1]) }
}

function hexPrefix(path: Nibbles, leaf: boolean): Uint8Array {
  const odd = path.length % 2 === 1
  const out = new Uint8Array(Math.floor(path.length / 2) + 1)
  const flag = (leaf ? 2 : 0) + (odd ? 1 : 0)
  out[0] = (flag << 4) | (odd ? path[0] : 0)
  for (let i = odd ? 1 : 0, o = 1; i < path.length; i += 2, o++) out[o] = (path[i] << 4) | path[i + 1]
  return out
}

function fromHexPrefix(bytes: Uint8Array): [Nibbles, boolean] {
  const flag = bytes[0] >> 4
  const path: Nibbles = flag % 2 === 1 ? [bytes[0] & 0x0f] : []
  for (let i = 1; i < bytes.length; i++) path.push(bytes[i] >> 4, bytes[i] & 0x0f)
  return [path, flag >= 2]
}

function toNibbles(bytes: Uint8Array): Nibbles {
  const out: Nibbles = new Array(bytes.length * 2)
  for (let i = 0; i < bytes.length; i++) {
    out[2 * i] = bytes[i] >> 4
    out[2 * i + 1] = bytes[i] & 0x0f
  }
  return out
}

function commonPrefix(a: Nibbles, b: Nibbles, bStart: number): number {
  let i = 0
  while (i < a.length && bStart + i < b.length && a[i] === b[bStart + i]) i++
  return i
}

function hexOf(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}
