import { invalidParams, invalidRequest, methodNotFound, notificationsUnsupported, serverError } from './errors.ts'
import { ParamError, string } from './params.ts'
import type { Param } from './params.ts'

type ParamList<A extends unknown[]> = { readonly [K in keyof A]: Param<A[K]> }

/** One RPC method, declared once: its full name, a validator per positional argument, and the handler. */
export interface Method<C, A extends unknown[] = any[]> {
  readonly name: string
  readonly params: ParamList<A>
  handler(ctx: C, ...args: A): unknown
}

/**
 * Returns a declaration helper for methods over context C, so the handler's arguments are typed from `params`:
 *   const method = methodsOver<RpcContext>()
 *   method({ name: 'eth_getBalance', params: [address, optional(blockRef)], handler: (ctx, addr, ref) => ... })
 */
export function methodsOver<C>() {
  return <A extends unknown[]>(method: Method<C, A>): Method<C, A> => method
}

/** A geth API namespace: `eth`, `net`, ...; each method's name starts with `<name>_`. */
export interface Namespace<C> {
  readonly name: string
  readonly methods: readonly Method<C>[]
}

export function namespace<C>(name: string, methods: readonly Method<C, any>[]): Namespace<C> {
  for (const m of methods) {
    if (!m.name.startsWith(`${name}_`)) throw new Error(`method ${m.name} is not in namespace ${name}`)
  }
  return { name, methods }
}

interface Bound {
  method: Method<unknown>
  ctx: unknown
}

/** geth's rpc.Server limit on method names */
const MAX_METHOD_NAME_LENGTH = 2048

/** Every namespace the node offers, bound to its context; transports each serve a selection of them. */
export class Registry {
  private readonly namespaces = new Map<string, Map<string, Bound>>()

  add<C>(ns: Namespace<C>, ctx: C): this {
    const methods = new Map<string, Bound>()
    for (const method of ns.methods) methods.set(method.name, { method: method as Method<unknown>, ctx })
    this.namespaces.set(ns.name, methods)
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
    for (const api of enabled) for (const [name, bound] of this.namespaces.get(api)!) methods.set(name, bound)
    const modules = Object.fromEntries([...enabled, 'rpc'].sort().map((api) => [api, '1.0']))
    const rpcModules: Method<null, []> = { name: 'rpc_modules', params: [], handler: () => modules }
    methods.set(rpcModules.name, { method: rpcModules as Method<unknown>, ctx: null })
    return new MethodTable(methods)
  }
}

/** What a transport dispatches to. */
export class MethodTable {
  private readonly methods: ReadonlyMap<string, Bound>

  constructor(methods: ReadonlyMap<string, Bound>) {
    this.methods = methods
  }

  /** Runs a method on raw JSON params; throws RpcError for geth's request errors, anything else from handlers. */
  async call(name: string, params: unknown): Promise<unknown> {
    if (name.length > MAX_METHOD_NAME_LENGTH) throw invalidRequest(`method name too long: ${name.length} > ${MAX_METHOD_NAME_LENGTH}`)
    // HTTP has no subscriptions: geth answers these two itself, before any method lookup
    if (name.endsWith('_subscribe')) throw notificationsUnsupported()
    if (name.endsWith('_unsubscribe')) {
      parseArguments(params, [string])
      throw serverError('subscription not found')
    }
    const bound = this.methods.get(name)
    if (bound === undefined) throw methodNotFound(name)
    const args = parseArguments(params, bound.method.params)
    return bound.method.handler(bound.ctx, ...args)
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
