import { RpcError, RpcErrorKind, invalidParams, invalidRequest, methodNotFound, notificationsUnsupported, serverError } from './errors.ts'
import { ParamError, string } from './params.ts'
import type { Param } from './params.ts'

type ParamList<A extends unknown[]> = { readonly [K in keyof A]: Param<A[K]> }

/** One RPC method, declared once: its full name, a validator per positional argument, and the handler. */
export interface Method<C, A extends unknown[] = any[]> {
  readonly name: string
  readonly params: ParamList<A>
  handler(ctx: C, ...args: A): unknown
  /**
   * Runs before a batch, once, with the raw params of each of the batch's calls to this method: work that pays in
   * bulk (one trip to a thread rather than one per call) is done there. Returns what to undo once the batch has run.
   * A call's errors are its handler's to report: bad params are skipped here.
   */
  prepareBatch?(ctx: C, calls: unknown[]): Promise<() => void>
}

/**
 * Returns a declaration helper for methods over context C, so the handler's arguments are typed from `params`:
 *   const method = methodsOver<RpcContext>()
 *   method({ name: 'eth_getBalance', params: [address, optional(blockRef)], handler: (ctx, addr, ref) => ... })
 */
export function methodsOver<C>() {
  return <A extends unknown[]>(method: Method<C, A>): Method<C, A> => method
}

/**
 * A subscription kind, geth's subscription callbacks: `eth_subscribe("newHeads")` starts `newHeads` of the eth
 * namespace. `params` validate the arguments after the name; `start` throws RpcError to refuse, else feeds `notify`
 * until the returned function is called.
 */
export interface SubscriptionKind<C, A extends unknown[] = any[]> {
  readonly name: string
  readonly params: ParamList<A>
  start(ctx: C, notify: (result: unknown) => void, ...args: A): () => void
}

/** Declaration helper for subscription kinds over context C, as methodsOver. */
export function subscriptionsOver<C>() {
  return <A extends unknown[]>(kind: SubscriptionKind<C, A>): SubscriptionKind<C, A> => kind
}

/**
 * The connection a call arrives on, when it can carry notifications (WebSocket). It owns the subscriptions: their
 * ids, their notifications, their end with the connection.
 */
export interface SubscriptionHost {
  /** Registers a subscription of `namespace` begun by `start`; returns its id. */
  subscribe(namespace: string, start: (notify: (result: unknown) => void) => () => void): string
  /** Ends a subscription of this connection; false when it has none by that id. */
  unsubscribe(id: string): boolean
}

/** A geth API namespace: `eth`, `net`, ...; each method's name starts with `<name>_`. */
export interface Namespace<C> {
  readonly name: string
  readonly methods: readonly Method<C>[]
  readonly subscriptions: readonly SubscriptionKind<C>[]
}

export function namespace<C>(name: string, methods: readonly Method<C, any>[], subscriptions: readonly SubscriptionKind<C, any>[] = []): Namespace<C> {
  for (const m of methods) {
    if (!m.name.startsWith(`${name}_`)) throw new Error(`method ${m.name} is not in namespace ${name}`)
  }
  return { name, methods, subscriptions }
}

interface Bound {
  method: Method<unknown>
  ctx: unknown
}

interface BoundSubscription {
  kind: SubscriptionKind<unknown>
  ctx: unknown
}

/** What one namespace serves; a namespace may be declared in several files (eth's reads, filters, subscriptions). */
interface NamespaceEntries {
  methods: Map<string, Bound>
  subscriptions: Map<string, BoundSubscription>
}

/** geth's rpc.Server limit on method names */
const MAX_METHOD_NAME_LENGTH = 2048

/** Every namespace the node offers, bound to its context; transports each serve a selection of them. */
export class Registry {
  private readonly namespaces = new Map<string, NamespaceEntries>()

  /** Adds a namespace's methods and subscriptions, next to any already added under its name. */
  add<C>(ns: Namespace<C>, ctx: C): this {
    let entries = this.namespaces.get(ns.name)
    if (entries === undefined) this.namespaces.set(ns.name, (entries = { methods: new Map(), subscriptions: new Map() }))
    for (const method of ns.methods) entries.methods.set(method.name, { method: method as Method<unknown>, ctx })
    for (const kind of ns.subscriptions) entries.subscriptions.set(kind.name, { kind: kind as SubscriptionKind<unknown>, ctx })
    return this
  }

  /** The registered namespaces, for checking a transport's API list. */
  names(): string[] {
    return [...this.namespaces.keys()]
  }

  /**
   * The methods one transport serves (`--http.api eth,net,web3`). Names not registered are skipped, as geth only
   * warns about them. The `rpc` namespace (rpc_modules) is always served, as in geth.
   */
  select(apis: readonly string[]): MethodTable {
    const enabled = [...new Set(apis)].filter((api) => this.namespaces.has(api))
    const methods = new Map<string, Bound>()
    const subscriptions = new Map<string, BoundSubscription>()
    for (const api of enabled) {
      const entries = this.namespaces.get(api)!
      for (const [name, bound] of entries.methods) methods.set(name, bound)
      for (const [name, bound] of entries.subscriptions) subscriptions.set(`${api}_${name}`, bound)
    }
    const modules = Object.fromEntries([...enabled, 'rpc'].sort().map((api) => [api, '1.0']))
    const rpcModules: Method<null, []> = { name: 'rpc_modules', params: [], handler: () => modules }
    methods.set(rpcModules.name, { method: rpcModules as Method<unknown>, ctx: null })
    return new MethodTable(methods, subscriptions)
  }
}

/** What a transport dispatches to. */
export class MethodTable {
  private readonly methods: ReadonlyMap<string, Bound>
  /** by `<namespace>_<name>` */
  private readonly subscriptions: ReadonlyMap<string, BoundSubscription>

  constructor(methods: ReadonlyMap<string, Bound>, subscriptions: ReadonlyMap<string, BoundSubscription> = new Map()) {
    this.methods = methods
    this.subscriptions = subscriptions
  }

  /**
   * Runs a method on raw JSON params; throws RpcError for geth's request errors, anything else from handlers.
   * `*_subscribe` and `*_unsubscribe` need the `host` connection (WebSocket); without one (HTTP) they fail as in geth.
   */
  async call(name: string, params: unknown, host?: SubscriptionHost): Promise<unknown> {
    if (name.length > MAX_METHOD_NAME_LENGTH) throw invalidRequest(`method name too long: ${name.length} > ${MAX_METHOD_NAME_LENGTH}`)
    // geth answers these two itself, before any method lookup
    if (name.endsWith('_subscribe')) {
      if (host === undefined) throw notificationsUnsupported()
      return this.subscribe(name.slice(0, -'_subscribe'.length), params, host)
    }
    if (name.endsWith('_unsubscribe')) {
      const [id] = parseArguments(params, [string]) as [string]
      if (host === undefined || !host.unsubscribe(id)) throw serverError('subscription not found')
      return true
    }
    const bound = this.methods.get(name)
    if (bound === undefined) throw methodNotFound(name)
    const args = parseArguments(params, bound.method.params)
    return bound.method.handler(bound.ctx, ...args)
  }

  /** Lets the methods a batch calls prepare for its calls together (see Method.prepareBatch); returns the undo. */
  async prepareBatch(calls: readonly { name: string; params: unknown }[]): Promise<() => void> {
    const byMethod = new Map<Bound, unknown[]>()
    for (const { name, params } of calls) {
      const bound = this.methods.get(name)
      if (bound?.method.prepareBatch === undefined) continue
      let list = byMethod.get(bound)
      if (list === undefined) byMethod.set(bound, (list = []))
      list.push(params)
    }
    if (byMethod.size === 0) return () => {}
    // preparing only saves work: when it fails, each call does its own
    const undos = await Promise.all([...byMethod].map(([bound, list]) => bound.method.prepareBatch!(bound.ctx, list).catch(() => () => {})))
    return () => undos.forEach((undo) => undo())
  }

  /** geth's handleSubscribe: the name first, then the kind's own arguments (numbered from 1). */
  private subscribe(namespace: string, params: unknown, host: SubscriptionHost): string {
    if (!Array.isArray(params)) throw invalidParams('non-array args')
    if (typeof params[0] !== 'string') throw invalidParams('expected subscription name as first argument')
    const bound = this.subscriptions.get(`${namespace}_${params[0]}`)
    if (bound === undefined) throw new RpcError(RpcErrorKind.MethodNotFound, `no ${JSON.stringify(params[0])} subscription in ${namespace} namespace`)
    const args = parseArguments(params, [string, ...bound.kind.params]).slice(1)
    return host.subscribe(namespace, (notify) => bound.kind.start(bound.ctx, notify, ...args))
  }
}

/** geth's parsePositionalArguments: arguments in order, each error naming its position. */
function parseArguments(raw: unknown, params: readonly Param<unknown>[]): unknown[] {
  if (raw === undefined || raw === null) raw = []
  if (!Array.isArray(raw)) throw invalidParams('non-array args')
  const args: unknown[] = []
  for (let i = 0; i < raw.length; i++) {
    if (i >= params.length) throw invalidParams(`too many arguments, want at most ${params.length}`)
    try {
      args.push(params[i].parse(raw[i]))
    } catch (err) {
      if (err instanceof ParamError) throw invalidParams(`invalid argument ${i}: ${err.message}`)
      throw err
    }
  }
  for (let i = raw.length; i < params.length; i++) {
    if (!params[i].optional) throw invalidParams(`missing value for required argument ${i}`)
    args.push(undefined)
  }
  return args
}
