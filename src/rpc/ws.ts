/**
 * The WebSocket JSON-RPC endpoint, as geth's rpc/websocket.go and node/rpcstack.go serve it on --ws.port: the origin
 * check of the handshake, a 32 MiB message limit, idle pings, the same batches and limits as HTTP, and
 * subscriptions. Each connection's unsent output is bounded: a client that stops reading is dropped rather than
 * buffered for without end, so it never holds up the node or other clients.
 */
import { createServer } from 'node:http'
import type { IncomingMessage } from 'node:http'
import type { Socket } from 'node:net'
import { hostname } from 'node:os'

import { WebSocket, WebSocketServer } from 'ws'
import type { RawData } from 'ws'

import type { Logger } from '../cli/log.ts'
import { listen } from '../util/listen.ts'
import { handleRequestBody } from './jsonrpc.ts'
import type { BatchLimits, CallObserver, InternalErrorSink } from './jsonrpc.ts'
import type { MethodTable } from './registry.ts'
import { ConnectionSubscriptions } from './subscriptions.ts'

export interface WsServerOptions {
  /** default 127.0.0.1 */
  host?: string
  /** 0 picks a free port */
  port: number
  methods: MethodTable
  /**
   * allowed browser origins (--ws.origins): '*' allows all; empty (default) allows http://localhost and
   * http://<this host's name>, as geth. Clients that send no Origin (non-browsers) are always accepted.
   */
  origins?: readonly string[]
  /** largest incoming message; default 32 MiB, geth's wsDefaultReadLimit */
  maxMessageBytes?: number
  /** default 1000, geth's */
  batchItemLimit?: number
  /** default 25 MB, geth's */
  batchResponseMaxSize?: number
  /** most bytes waiting to be sent to one client; a client that lets more pile up is dropped (default 32 MiB) */
  maxSendBufferBytes?: number
  /** a client that takes none of its pending output for this long is dropped; default 10 s, geth's write timeout */
  writeTimeoutMs?: number
  /** idle time before a ping; default 30 s, geth's */
  pingIntervalMs?: number
  /** time a ping has to be answered; default 30 s, geth's */
  pongTimeoutMs?: number
  /** told about handler failures that are not RpcErrors; default: written to stderr */
  onInternalError?: InternalErrorSink
  /** told about every call's duration and outcome (metrics) */
  onCall?: CallObserver
  /** refused origins and dropped clients are reported here */
  log?: Pick<Logger, 'warn' | 'debug'>
}

export interface WsServer {
  url: string
  port: number
  close(): Promise<void>
}

const DEFAULT_MAX_MESSAGE_BYTES = 32 * 1024 * 1024
const DEFAULT_BATCH_ITEM_LIMIT = 1000
const DEFAULT_BATCH_RESPONSE_MAX_SIZE = 25 * 1000 * 1000
const DEFAULT_MAX_SEND_BUFFER_BYTES = 32 * 1024 * 1024
const DEFAULT_WRITE_TIMEOUT_MS = 10_000
const DEFAULT_PING_INTERVAL_MS = 30_000
const DEFAULT_PONG_TIMEOUT_MS = 30_000
// geth's HTTP read timeout, which also bounds a handshake
const HANDSHAKE_TIMEOUT_MS = 30_000

export async function startWsServer(opts: WsServerOptions): Promise<WsServer> {
  const host = opts.host ?? '127.0.0.1'
  const originAllowed = originPolicy(opts.origins ?? [])
  const settings: ConnectionSettings = {
    methods: opts.methods,
    limits: {
      batchItemLimit: opts.batchItemLimit ?? DEFAULT_BATCH_ITEM_LIMIT,
      batchResponseMaxSize: opts.batchResponseMaxSize ?? DEFAULT_BATCH_RESPONSE_MAX_SIZE,
    },
    maxSendBufferBytes: opts.maxSendBufferBytes ?? DEFAULT_MAX_SEND_BUFFER_BYTES,
    writeTimeoutMs: opts.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    pingIntervalMs: opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
    pongTimeoutMs: opts.pongTimeoutMs ?? DEFAULT_PONG_TIMEOUT_MS,
    onInternalError: opts.onInternalError ?? ((method, err) => console.error(`RPC method ${method} crashed:`, err)),
    onCall: opts.onCall,
    log: opts.log,
  }
  // as gorilla/websocket in geth: no compression, text not checked for UTF-8 (what is not JSON gets a parse error),
  // and a message over the limit closes the connection (1009)
  const wss = new WebSocketServer({ noServer: true, maxPayload: opts.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES, perMessageDeflate: false, skipUTF8Validation: true })
  // a WebSocket-only server answers anything else 404, as geth's
  const server = createServer({ requestTimeout: HANDSHAKE_TIMEOUT_MS, headersTimeout: HANDSHAKE_TIMEOUT_MS }, (_req, res) => res.writeHead(404).end())

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/' || !isWebsocketRequest(req)) {
      refuseHandshake(socket, 404, 'Not Found', '')
      return
    }
    if (!originAllowed(req.headers.origin)) {
      settings.log?.warn('Rejected WebSocket connection', { origin: req.headers.origin })
      // gorilla/websocket's answer to a refused origin
      refuseHandshake(socket, 403, 'Forbidden', 'Forbidden\n')
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveConnection(ws, `${socket.remoteAddress}:${socket.remotePort}`, settings))
  })

  const { url, port } = await listen(server, opts.port, host, 'ws')
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const ws of wss.clients) ws.terminate()
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

interface ConnectionSettings {
  methods: MethodTable
  limits: BatchLimits
  maxSendBufferBytes: number
  writeTimeoutMs: number
  pingIntervalMs: number
  pongTimeoutMs: number
  onInternalError: InternalErrorSink
  onCall: CallObserver | undefined
  log: Pick<Logger, 'warn' | 'debug'> | undefined
}

/**
 * One client: every message is answered as it completes (messages run concurrently, as in geth), subscriptions end
 * with the connection, and the client is dropped when its unsent output passes the bound, when none of it is taken
 * for the write timeout, or when it does not answer a ping.
 */
function serveConnection(ws: WebSocket, remote: string, settings: ConnectionSettings): void {
  const subscriptions = new ConnectionSubscriptions((text) => send(text))
  let writesInFlight = 0

  const drop = (reason: string) => {
    settings.log?.warn('Dropped WebSocket client', { remote, reason })
    ws.terminate()
  }
  // restarted by every send and every completed write; it drops the client when it fires with writes outstanding
  const writeTimer = setTimeout(() => writesInFlight > 0 && drop('not reading'), settings.writeTimeoutMs)
  let pongTimer: NodeJS.Timeout | undefined
  // geth pings only an idle connection: every completed write restarts this timer
  const pingTimer = setTimeout(function ping() {
    if (ws.readyState !== WebSocket.OPEN) return
    ws.ping()
    pongTimer ??= setTimeout(() => drop('no pong'), settings.pongTimeoutMs)
    pingTimer.refresh()
  }, settings.pingIntervalMs)

  function send(text: string): void {
    if (ws.readyState !== WebSocket.OPEN) return
    const buffered = ws.bufferedAmount
    // one message alone may be as large as a batch answer; output piling up behind it may not
    if (buffered > 0 && buffered + Buffer.byteLength(text) > settings.maxSendBufferBytes) {
      drop('send buffer full')
      return
    }
    if (writesInFlight++ === 0) writeTimer.refresh()
    ws.send(text, (err) => {
      writesInFlight--
      if (err !== undefined && err !== null) return
      // the client takes its output: the write timeout starts over for what is still queued
      writeTimer.refresh()
      pingTimer.refresh()
    })
  }

  ws.on('pong', () => {
    clearTimeout(pongTimer)
    pongTimer = undefined
  })
  ws.on('message', (data: RawData) => {
    const { host, activate } = subscriptions.forMessage()
    const methods = { call: (name: string, params: unknown) => settings.methods.call(name, params, host), prepareBatch: settings.methods.prepareBatch.bind(settings.methods) }
    handleRequestBody(rawText(data), methods, settings.limits, settings.onInternalError, settings.onCall)
      .then((answer) => {
        if (answer !== undefined) send(answer)
        activate()
      })
      .catch((err) => settings.onInternalError('(ws)', err))
  })
  // protocol errors (too large a message, bad frames) close the connection with their code; 'close' follows
  ws.on('error', (err) => settings.log?.debug('WebSocket connection error', { remote, error: err.message }))
  ws.on('close', () => {
    clearTimeout(writeTimer)
    clearTimeout(pingTimer)
    clearTimeout(pongTimer)
    subscriptions.closeAll()
  })
}

/** gorilla's ReadJSON takes text and binary messages alike. */
function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8')
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8')
}

/** geth's isWebsocket */
function isWebsocketRequest(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === 'websocket' && (req.headers.connection ?? '').toLowerCase().includes('upgrade')
}

/** An HTTP answer on a socket that asked to upgrade, as Go's http.Error writes it. */
function refuseHandshake(socket: Socket, status: number, reason: string, body: string): void {
  const headers = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close', `Content-Length: ${Buffer.byteLength(body)}`]
  if (body !== '') headers.push('Content-Type: text/plain; charset=utf-8', 'Sec-Websocket-Version: 13', 'X-Content-Type-Options: nosniff')
  socket.end(`${headers.join('\r\n')}\r\n\r\n${body}`)
}

interface OriginRule {
  scheme: string
  hostname: string
  port: string
}

/**
 * geth's wsHandshakeValidator: no Origin header passes (only browsers send one); '*' allows every origin; otherwise
 * an origin passes when a rule matches it, each part a rule leaves out (scheme, port) matching anything. No rules
 * means http://localhost and http://<hostname>.
 */
function originPolicy(allowed: readonly string[]): (origin: string | undefined) => boolean {
  const specs = allowed.filter((o) => o !== '')
  if (specs.includes('*')) return () => true
  if (specs.length === 0) specs.push('http://localhost', `http://${hostname()}`)
  const rules = specs.map(parseOrigin).filter((r) => r !== undefined)
  return (origin) => {
    if (origin === undefined) return true
    const o = parseOrigin(origin)
    if (o === undefined) return false
    return rules.some((r) => (r.scheme === '' || r.scheme === o.scheme) && (r.hostname === '' || r.hostname === o.hostname) && (r.port === '' || r.port === o.port))
  }
}

/**
 * geth's parseOriginURL (Go's url.Parse of the lowercased origin): `scheme://host:port`; without `://`, `host:port`
 * parses as scheme:opaque, which geth reads as hostname and port; undefined where Go fails to parse.
 */
function parseOrigin(origin: string): OriginRule | undefined {
  const o = origin.toLowerCase()
  const schemeEnd = o.indexOf('://')
  if (schemeEnd !== -1) {
    const authority = o.slice(schemeEnd + 3).split(/[/?#]/)[0].replace(/^.*@/, '')
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(authority) ?? /^([^:]*)(?::([^:]*))?$/.exec(authority)
    if (m === null) return undefined
    return { scheme: o.slice(0, schemeEnd), hostname: m[1], port: m[2] ?? '' }
  }
  const opaque = /^([a-z][a-z0-9+.-]*):(.*)$/.exec(o)
  if (opaque !== null) return { scheme: '', hostname: opaque[1], port: opaque[2].startsWith('/') ? '' : opaque[2] }
  // Go refuses a colon in a first path segment
  if (o.includes(':')) return undefined
  return { scheme: '', hostname: o, port: '' }
}
