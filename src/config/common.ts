import { Common } from '@ethereumjs/common'
import type { ParamsConfig, ParamsDict } from '@ethereumjs/common'

/**
 * ethereumjs's Common, with one cost removed. Every transaction, block header, VM and EVM construction copies its
 * Common and merges its module's parameter table into the copy (`updateParams(paramsTx)` and friends): a JSON deep
 * copy of each EIP's parameters plus a rebuild of the parameter cache over every fork, ~0.2 ms, repeated for each
 * transaction decoded from RPC, the pool, gossip or the database. The result depends only on the cache merged into
 * and on the tables the (shared) parameter store holds, so it is computed once per cache, table and store content
 * and reused by every later copy.
 */
export class ChainCommon extends Common {
  override updateParams(params: ParamsDict): void {
    const self = this as unknown as { _params: object; _paramsCache: object }
    const store = self._params
    const from = self._paramsCache
    const known = merged.get(from)?.get(params)
    if (known !== undefined && known.storeVersion === storeVersion(store)) {
      self._paramsCache = known.cache
      return
    }
    let tables = storeTables.get(store)
    if (tables === undefined) storeTables.set(store, (tables = { version: 0, seen: new WeakSet() }))
    if (!tables.seen.has(params)) {
      tables.seen.add(params)
      tables.version++
    }
    super.updateParams(params)
    const result = { cache: self._paramsCache, storeVersion: tables.version }
    remember(from, params, result)
    remember(result.cache, params, result)
  }

  /**
   * Moving a copy to another fork (setHardforkBy, as every block and header decoded for a fork does) rebuilt its
   * parameter cache as a new object, which updateParams had never seen: each block paid two full merges (header and
   * first transaction), 3 % of an import. The cache depends only on the fork, the extra EIPs, the chain's fork list and
   * the store's content, so one object per combination is built and shared (nothing changes a cache once built).
   */
  protected override _buildParamsCache(): void {
    let byChain = builtCaches.get(this._params)
    if (byChain === undefined) builtCaches.set(this._params, (byChain = new WeakMap()))
    let byKey = byChain.get(this._chainParams)
    if (byKey === undefined) byChain.set(this._chainParams, (byKey = new Map()))
    const key = `${this.hardfork()}|${this._eips.join(',')}|${storeVersion(this._params)}`
    const known = byKey.get(key)
    if (known !== undefined) {
      this._paramsCache = known
      return
    }
    super._buildParamsCache()
    byKey.set(key, this._paramsCache)
  }
}

/** parameter store -> chain config -> "fork|eips|store version" -> the cache _buildParamsCache built for them */
const builtCaches = new WeakMap<object, WeakMap<object, Map<string, ParamsConfig>>>()

interface Merge {
  cache: object
  storeVersion: number
}

/** parameter cache -> table -> the cache after merging the table, and the store content it was computed with */
const merged = new WeakMap<object, WeakMap<ParamsDict, Merge>>()
/** the tables merged into each parameter store (a Common and its copies share one); a new table bumps the version */
const storeTables = new WeakMap<object, { version: number; seen: WeakSet<ParamsDict> }>()

function storeVersion(store: object): number {
  return storeTables.get(store)?.version ?? 0
}

function remember(from: object, params: ParamsDict, result: Merge): void {
  let byTable = merged.get(from)
  if (byTable === undefined) merged.set(from, (byTable = new WeakMap()))
  byTable.set(params, result)
}
