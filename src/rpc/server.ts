/**
 * The HTTP JSON-RPC endpoint, layered as geth's node/rpcstack.go and rpc/http.go: path, virtual host, CORS, then
 * request checks (health probe, method, size, content type), then JSON-RPC handling.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { promisify } from 'node:util'
import { constants, gzip } from 'node:zlib'

import { listen } from '../util/listen.ts'
import { handleRequestBody } from './jsonrpc.ts'
import type { BatchLimits, CallObserver, InternalErrorSink } from './jsonrpc.ts'
import type { MethodTable } from './registry.ts'

export interface HttpServerOptions {
  /** default 127.0.0.1 */
  host?: string
  /** 0 picks a free port */
  port: number
  methods: MethodTable
  /** allowed browser origins (--http.corsdomain); '*' allows all; empty (default) sends no CORS headers */
  cors?: readonly string[]
  /** accepted Host names (--http.vhosts); default ['localhost']; '*' accepts all; IP-literal hosts always pass */
  vhosts?: readonly string[]
  /** default 5 MiB, geth's */
  maxBodyBytes?: number
  /** default 1000, geth's */
  batchItemLimit?: number
  /** default 25 MB, geth's */
  batchResponseMaxSize?: number
  /** told about handler failures that are not RpcErrors; default: written to stderr */
  onInternalError?: InternalErrorSink
  /** told about every call's duration and outcome (metrics) */
  onCall?: CallObserver
}

export interface HttpServer {
  url: string
  port: number
  close(): Promise<void>
}

const DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024
const DEFAULT_BATCH_ITEM_LIMIT = 1000
const DEFAULT_BATCH_RESPONSE_MAX_SIZE = 25 * 1000 * 1000
const JSON_CONTENT_TYPE = 'application/json'
const ACCEPTED_CONTENT_TYPES = [JSON_CONTENT_TYPE, 'application/json-rpc', 'application/jsonrequest']
const CORS_MAX_AGE_SECONDS = '600'
const CORS_ALLOWED_METHODS = ['POST', 'GET']
// geth's HTTP timeouts: read 30 s, idle 120 s
const REQUEST_TIMEOUT_MS = 30_000
const KEEP_ALIVE_TIMEOUT_MS = 120_000
/** smaller answers go uncompressed */
export const GZIP_MIN_BYTES = 16 * 1024
const gzipAsync = promisify(gzip)
const ROOT_URL = { pathname: '/', search: '' }

export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const host = opts.host ?? '127.0.0.1'
  const vhosts = new Set((opts.vhosts ?? ['localhost']).map((h) => h.toLowerCase()))
  const cors = opts.cors !== undefined && opts.cors.length > 0 ? corsPolicy(opts.cors) : undefined
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES
  const limits: BatchLimits = {
    batchItemLimit: opts.batchItemLimit ?? DEFAULT_BATCH_ITEM_LIMIT,
    batchResponseMaxSize: opts.batchResponseMaxSize ?? DEFAULT_BATCH_RESPONSE_MAX_SIZE,
  }
  const onInternalError = opts.onInternalError ?? ((method, err) => console.error(`RPC method ${method} crashed:`, err))

  const server = createServer({ requestTimeout: REQUEST_TIMEOUT_MS, headersTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, (req, res) => {
    serve(req, res).catch((err) => {
      onInternalError('(http)', err)
      if (!res.headersSent) plainError(res, 500, 'internal server error')
      else res.destroy()
    })
  })

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // almost every request is a POST to '/': no URL parse for those
    const url = req.url === '/' || req.url === undefined ? ROOT_URL : new URL(req.url, 'http://localhost')
    if (url.pathname !== '/') {
      res.writeHead(404).end()
      return
    }
    if (!hostAllowed(req.headers.host, vhosts)) {
      plainError(res, 403, 'invalid host specified')
      return
    }
    if (cors !== undefined) {
      if (req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
        res.writeHead(200, cors.preflightHeaders(req)).end()
        return
      }
      for (const [name, value] of Object.entries(cors.actualRequestHeaders(req))) res.setHeader(name, value!)
    }

    // geth answers empty GETs 200 for load-balancer health checks
    const contentLength = requestContentLength(req)
    if (req.method === 'GET' && contentLength === 0 && url.search === '') {
      res.writeHead(200).end()
      return
    }
    if (req.method === 'PUT' || req.method === 'DELETE') {
      plainError(res, 405, 'method not allowed')
      return
    }
    if (contentLength > maxBodyBytes) {
      plainError(res, 413, `content length too large (${contentLength}>${maxBodyBytes})`)
      return
    }
    if (req.method !== 'OPTIONS' && !ACCEPTED_CONTENT_TYPES.includes(mediaType(req.headers['content-type']))) {
      plainError(res, 415, `invalid content type, only ${JSON_CONTENT_TYPE} is supported`)
      return
    }

    const body = await readBody(req, maxBodyBytes)
    if (body === undefined) {
      // a body without a declared length that outgrows the limit: stop reading it
      res.setHeader('connection', 'close')
      plainError(res, 413, `content length too large (>${maxBodyBytes})`)
      return
    }
    const answer = await handleRequestBody(body, opts.methods, limits, onInternalError, opts.onCall)
    res.setHeader('content-type', JSON_CONTENT_TYPE)
    if (answer === undefined) {
      res.writeHead(200).end()
      return
    }
    let payload = Buffer.from(answer)
    // geth gzips responses for clients that accept it; cairn only large ones (smaller ones cost more CPU than they save
    // in transfer, the common client being on the same host or network), off the event loop
    if (payload.length >= GZIP_MIN_BYTES && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
      payload = await gzipAsync(payload, { level: constants.Z_BEST_SPEED })
      res.setHeader('content-encoding', 'gzip')
    }
    res.writeHead(200, { 'content-length': payload.length }).end(payload)
  }

  const { url, port } = await listen(server, opts.port, host, 'http')
  return {
    url,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      }),
  }
}

/** As Go's http.Error. */
function plainError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' }).end(`${message}\n`)
}

/** Go's Request.ContentLength: the declared length, -1 when the body length is unknown (chunked). */
function requestContentLength(req: IncomingMessage): number {
  const declared = req.headers['content-length']
  if (declared !== undefined) return Number(declared)
  return req.headers['transfer-encoding'] !== undefined ? -1 : 0
}

/** mime.ParseMediaType's media type, lowercased; '' when absent. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase()
}

/** The body as text, or undefined once it exceeds `limit` bytes. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        req.removeAllListeners('data')
        req.pause()
        resolve(undefined)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * geth's virtual-host check: a Host naming an IP address always passes (DNS rebinding needs a name), a name must
 * be listed, '*' lists all, and a request without Host passes.
 */
function hostAllowed(hostHeader: string | undefined, vhosts: ReadonlySet<string>): boolean {
  if (hostHeader === undefined || hostHeader === '') return true
  const host = splitHostPort(hostHeader).toLowerCase()
  if (isIP(host) !== 0) return true
  return vhosts.has('*') || vhosts.has(host)
}

/** Go's net.SplitHostPort host part, or the whole input where that fails (no port, too many colons). */
function splitHostPort(hostport: string): string {
  const bracketed = /^\[([^\]]*)\]:[^:\]]*$/.exec(hostport)
  if (bracketed !== null) return bracketed[1]
  const colon = hostport.indexOf(':')
  if (colon !== -1 && colon === hostport.lastIndexOf(':') && !hostport.startsWith('[')) return hostport.slice(0, colon)
  return hostport
}

interface CorsPolicy {
  preflightHeaders(req: IncomingMessage): OutgoingHttpHeaders
  actualRequestHeaders(req: IncomingMessage): OutgoingHttpHeaders
}

/**
 * The CORS handler geth installs (rs/cors 1.7 with methods POST and GET, any request header, max age 600):
 * disallowed requests still pass, just without Access-Control-Allow-* headers, so browsers block the answer.
 */
function corsPolicy(origins: readonly string[]): CorsPolicy {
  const patterns = origins.map((o) => o.toLowerCase())
  const allowAll = patterns.includes('*')
  const originAllowed = (origin: string) => {
    const o = origin.toLowerCase()
    return (
      allowAll ||
      patterns.some((p) => {
        const star = p.indexOf('*')
        if (star === -1) return p === o
        const prefix = p.slice(0, star)
        const suffix = p.slice(star + 1)
        return o.length >= prefix.length + suffix.length && o.startsWith(prefix) && o.endsWith(suffix)
      })
    )
  }
  const methodAllowed = (method: string) => {
    const m = method.toUpperCase()
    return m === 'OPTIONS' || CORS_ALLOWED_METHODS.includes(m)
  }
  const allowOrigin = (origin: string) => (allowAll ? '*' : origin)
  return {
    preflightHeaders(req) {
      const headers: OutgoingHttpHeaders = { vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers' }
      const origin = req.headers.origin
      const requestedMethod = String(req.headers['access-control-request-method'])
      if (origin === undefined || origin === '' || !originAllowed(origin) || !methodAllowed(requestedMethod)) return headers
      headers['access-control-allow-origin'] = allowOrigin(origin)
      headers['access-control-allow-methods'] = requestedMethod.toUpperCase()
      const requestedHeaders = parseHeaderList(req.headers['access-control-request-headers'] ?? '')
      if (requestedHeaders.length > 0) headers['access-control-allow-headers'] = requestedHeaders.join(', ')
      headers['access-control-max-age'] = CORS_MAX_AGE_SECONDS
      return headers
    },
    actualRequestHeaders(req) {
      const headers: OutgoingHttpHeaders = { vary: 'Origin' }
      const origin = req.headers.origin
      if (origin === undefined || origin === '' || !originAllowed(origin) || !methodAllowed(req.method ?? '')) return headers
      headers['access-control-allow-origin'] = allowOrigin(origin)
      return headers
    },
  }
}

/** rs/cors's parseHeaderList: names split on commas and spaces, in canonical form (Content-Type). */
function parseHeaderList(list: string): string[] {
  return list
    .split(/[ ,]+/)
    .filter((h) => h !== '')
    .map((h) => h.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase()))
}
