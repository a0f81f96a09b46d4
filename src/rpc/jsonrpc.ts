/**
 * JSON-RPC 2.0 message handling as geth's rpc package does it (json.go, handler.go), independent of the transport:
 * one request body in, the response body (or nothing) out.
 */
import { RpcError, RpcErrorKind, batchTooLarge, emptyBatch, invalidRequest, parseError, responseTooLarge, toJsonError } from './errors.ts'

export interface BatchLimits {
  /** most messages in one batch; 0 = unlimited (geth: 1000) */
  batchItemLimit: number
  /** most bytes of results and errors in one batch answer; 0 = unlimited (geth: 25 MB) */
  batchResponseMaxSize: number
}

/** What messages are dispatched to: a MethodTable, or one bound to the connection the body came on (WebSocket). */
export interface Methods {
  call(name: string, params: unknown): Promise<unknown>
  /** before a batch's calls run in order: lets their methods prepare together (MethodTable.prepareBatch) */
  prepareBatch?(calls: readonly { name: string; params: unknown }[]): Promise<() => void>
}

/** Told about every non-RpcError a handler throws (they are answered as "method handler crashed"). */
export type InternalErrorSink = (method: string, err: unknown) => void

/** Told how long each call took and the error it failed with, if any (metrics). */
export type CallObserver = (method: string, seconds: number, err: unknown) => void

/** A message as geth decodes it into its jsonrpcMessage struct. */
interface Message {
  version?: string
  /** raw JSON text of the id, echoed byte for byte; undefined when absent */
  id?: string
  method?: string
  hasParams: boolean
  params?: unknown
  hasResult: boolean
  hasError: boolean
}

const NULL_ID = 'null'

const hasValidId = (m: Message) => m.id !== undefined && m.id[0] !== '{' && m.id[0] !== '['
const hasValidVersion = (m: Message) => m.version === '2.0'
const isNotification = (m: Message) => hasValidVersion(m) && m.id === undefined && !!m.method
const isCall = (m: Message) => hasValidVersion(m) && hasValidId(m) && !!m.method
const isResponse = (m: Message) => hasValidVersion(m) && hasValidId(m) && !m.method && !m.hasParams && (m.hasResult || m.hasError)
/** responses to our own requests and subscription notifications: a server drops them unanswered */
const isIgnored = (m: Message) => isResponse(m) || (isNotification(m) && m.method!.endsWith('_subscription'))

/** One message's answer; `payloadBytes` is the size of its result or error, what geth's batch size limit counts. */
interface Answer {
  text: string
  payloadBytes: number
}

/**
 * Answers one request body: a single message or a batch. Returns undefined when nothing is to be sent (an empty
 * body, notifications only).
 */
export async function handleRequestBody(body: string, methods: Methods, limits: BatchLimits, onInternalError: InternalErrorSink, onCall?: CallObserver): Promise<string | undefined> {
  if (body.trim() === '') return undefined
  const rawIds = new WeakMap<object, string>()
  let parsed: unknown = parseSimple(body, rawIds)
  if (parsed === undefined) {
    try {
      // the reviver keeps each id's source text, so ids come back exactly as sent (big numbers, 1.0, escapes)
      parsed = JSON.parse(body, function (this: object, key: string, value: unknown, context?: { source?: string }) {
        if (key.toLowerCase() === 'id') {
          if (context?.source !== undefined) rawIds.set(this, context.source)
          else rawIds.set(this, Array.isArray(value) ? '[' : '{')
        }
        return value
      })
    } catch {
      return errorAnswer(NULL_ID, parseError()).text
    }
  }
  const run = (m: Message) => runMessage(m, methods, onInternalError, onCall)
  if (!Array.isArray(parsed)) {
    const message = decodeMessage(parsed, rawIds)
    if (isIgnored(message)) return undefined
    return (await run(message))?.text
  }
  return handleBatch(parsed.map((item) => decodeMessage(item, rawIds)), limits, run, methods)
}

async function handleBatch(messages: Message[], limits: BatchLimits, run: (m: Message) => Promise<Answer | undefined>, methods: Methods): Promise<string | undefined> {
  if (messages.length === 0) return errorAnswer(NULL_ID, emptyBatch()).text
  if (limits.batchItemLimit !== 0 && messages.length > limits.batchItemLimit) {
    // geth reports it once, under the id of the first call
    const first = messages.find(isCall)
    return `[${errorAnswer(first?.id ?? NULL_ID, batchTooLarge()).text}]`
  }
  const calls = messages.filter((m) => !isIgnored(m))
  if (calls.length === 0) return undefined
  const answers: string[] = []
  let responseBytes = 0
  const prepared = calls.filter((m) => isCall(m) || isNotification(m)).map((m) => ({ name: m.method!, params: m.params }))
  const undo = (await methods.prepareBatch?.(prepared)) ?? (() => {})
  try {
    for (let i = 0; i < calls.length; i++) {
      const answer = await run(calls[i])
      if (answer === undefined) continue
      answers.push(answer.text)
      responseBytes += answer.payloadBytes
      if (limits.batchResponseMaxSize !== 0 && responseBytes > limits.batchResponseMaxSize) {
        // the answer that crossed the limit is kept; every later call gets the error
        for (const rest of calls.slice(i + 1)) if (!isNotification(rest)) answers.push(errorAnswer(rest.id ?? NULL_ID, responseTooLarge()).text)
        break
      }
    }
  } finally {
    undo()
  }
  return answers.length === 0 ? undefined : `[${answers.join(',')}]`
}

/** One message's answer, or undefined for a notification (which still runs). */
async function runMessage(m: Message, methods: Methods, onInternalError: InternalErrorSink, onCall: CallObserver | undefined): Promise<Answer | undefined> {
  if (isNotification(m)) {
    await invoke(m.method!, m.params, methods, onInternalError, onCall)
    return undefined
  }
  if (!isCall(m)) return errorAnswer(hasValidId(m) ? m.id! : NULL_ID, invalidRequest())
  const outcome = await invoke(m.method!, m.params, methods, onInternalError, onCall)
  if ('error' in outcome) return errorAnswer(m.id!, outcome.error)
  return { text: `{"jsonrpc":"2.0","id":${m.id},"result":${outcome.result}}`, payloadBytes: Buffer.byteLength(outcome.result) }
}

async function invoke(method: string, params: unknown, methods: Methods, onInternalError: InternalErrorSink, onCall: CallObserver | undefined): Promise<{ result: string } | { error: unknown }> {
  let value: unknown
  const started = performance.now()
  try {
    value = await methods.call(method, params)
  } catch (err) {
    onCall?.(method, (performance.now() - started) / 1000, err)
    if (!(err instanceof RpcError)) onInternalError(method, err)
    return { error: err }
  }
  onCall?.(method, (performance.now() - started) / 1000, undefined)
  try {
    return { result: goJson(value ?? null) }
  } catch (err) {
    // geth: a result that does not marshal is an internal error carrying the marshaller's message
    return { error: new RpcError(RpcErrorKind.Internal, (err as Error).message) }
  }
}

const ID_KEY = /"id"/gi

/**
 * The common message parsed without the reviver below (which costs a call per JSON value): a single object without
 * escapes whose only "id" text is its id member, written exactly as JSON.stringify writes it back. Undefined for
 * anything else (1.0, big numbers, batches...), which takes the general path.
 */
function parseSimple(body: string, rawIds: WeakMap<object, string>): object | undefined {
  if (body.includes('\\') || body.match(ID_KEY)?.length !== 1) return undefined
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Object.hasOwn(parsed, 'id')) return undefined
  const id = (parsed as { id: unknown }).id
  if (typeof id !== 'string' && typeof id !== 'number') return undefined
  const text = JSON.stringify(id)
  const member = `"id":${text}`
  const at = body.indexOf(member)
  // the id's text must end there: "id":1 is not how "id":1.0 or "id":10 was written
  if (at === -1 || !/^\s*[,}]/.test(body.slice(at + member.length, at + member.length + 64))) return undefined
  rawIds.set(parsed, text)
  return parsed
}

/** The members of geth's jsonrpcMessage, matched case-insensitively and skipped when mistyped, as encoding/json does. */
function decodeMessage(value: unknown, rawIds: WeakMap<object, string>): Message {
  const message: Message = { hasParams: false, hasResult: false, hasError: false }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return message
  message.id = rawIds.get(value)
  for (const [key, v] of Object.entries(value)) {
    switch (key.toLowerCase()) {
      case 'jsonrpc':
        if (typeof v === 'string') message.version = v
        break
      case 'method':
        if (typeof v === 'string') message.method = v
        break
      case 'params':
        message.hasParams = true
        message.params = v
        break
      case 'result':
        message.hasResult = true
        break
      case 'error':
        message.hasError = true
        break
    }
  }
  return message
}

function errorAnswer(id: string, err: unknown): Answer {
  const error = goJson(toJsonError(err))
  return { text: `{"jsonrpc":"2.0","id":${id},"error":${error}}`, payloadBytes: Buffer.byteLength(error) }
}

/** the encoding of results that methods keep and answer again (see keptResult) */
const keptEncodings = new WeakMap<object, string>()

/**
 * Marks `value` as a result a method keeps and answers again: it is frozen (deeply), so its encoding is made once and
 * reused for every answer. Returns `value`.
 */
export function keptResult<T extends object>(value: T): T {
  deepFreeze(value)
  keptEncodings.set(value, goJson(value))
  return value
}

/** the length of a kept result's encoding (1 for a value that was not kept) */
export function keptSize(value: object): number {
  return keptEncodings.get(value)?.length ?? 1
}

function deepFreeze(value: object): void {
  for (const member of Object.values(value)) if (typeof member === 'object' && member !== null) deepFreeze(member)
  Object.freeze(value)
}

/** JSON as Go's encoding/json writes it: <, > and & escaped for HTML, U+2028 and U+2029 for JavaScript. */
function goJson(value: unknown): string {
  const kept = typeof value === 'object' && value !== null ? keptEncodings.get(value) : undefined
  if (kept !== undefined) return kept
  // a list of kept results (eth_getLogs' logs) is their encodings joined, as JSON.stringify would write them
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'object' && item !== null && keptEncodings.has(item))) {
    return `[${value.map((item) => keptEncodings.get(item)).join(',')}]`
  }
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
}
