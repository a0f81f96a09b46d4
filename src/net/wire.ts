import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import * as lp from 'it-length-prefixed'

/** Largest request or response chunk accepted (a block near the 60M gas limit is well below it). */
export const MAX_CHUNK_BYTES = 10 * 1024 * 1024

export interface RequestOptions {
  timeoutMs: number
  /** stop reading after this many response chunks */
  maxChunks: number
}

/**
 * One request/response exchange: opens a stream for `protocol`, sends `payload` as one length-prefixed chunk,
 * closes its writing side and reads the length-prefixed response chunks until the responder closes. Rejects on
 * timeout, on a reset stream or on a chunk over MAX_CHUNK_BYTES.
 */
export async function request(node: Libp2p, peer: PeerId, protocol: string, payload: Uint8Array, opts: RequestOptions): Promise<Uint8Array[]> {
  const signal = AbortSignal.timeout(opts.timeoutMs)
  const stream = await node.dialProtocol(peer, protocol, { signal })
  const onAbort = () => stream.abort(new Error(`${protocol} request timed out after ${opts.timeoutMs} ms`))
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    stream.send(lp.encode.single(payload))
    await stream.close({ signal })
    const chunks: Uint8Array[] = []
    for await (const chunk of lp.decode(stream, { maxDataLength: MAX_CHUNK_BYTES })) {
      chunks.push(chunk.subarray())
      if (chunks.length >= opts.maxChunks) break
    }
    return chunks
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Answers one request: the response chunks, or throws to reset the stream (the requester sees an error). */
export type RequestHandler = (payload: Uint8Array, peer: PeerId) => Promise<Iterable<Uint8Array> | AsyncIterable<Uint8Array>>

/** Registers `handler` for `protocol`: reads one request chunk, writes each response chunk length-prefixed, closes. */
export async function serve(node: Libp2p, protocol: string, handler: RequestHandler, opts: { timeoutMs: number; maxInboundStreams?: number }): Promise<void> {
  await node.handle(
    protocol,
    async (stream: Stream, connection) => {
      const timer = setTimeout(() => stream.abort(new Error(`${protocol} response timed out`)), opts.timeoutMs)
      try {
        const payload = await readOne(stream)
        for await (const chunk of await handler(payload, connection.remotePeer)) {
          if (!stream.send(lp.encode.single(chunk))) await stream.onDrain()
        }
        await stream.close()
      } catch (err) {
        stream.abort(err as Error)
      } finally {
        clearTimeout(timer)
      }
    },
    { maxInboundStreams: opts.maxInboundStreams ?? 32 },
  )
}

async function readOne(stream: Stream): Promise<Uint8Array> {
  for await (const chunk of lp.decode(stream, { maxDataLength: MAX_CHUNK_BYTES })) return chunk.subarray()
  throw new Error('empty request')
}

/**
 * A token bucket per peer: each request spends tokens (its cost), which refill at `perSecond` up to `burst`. A peer
 * that asks for more is refused until its bucket refills.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  private readonly burst: number
  private readonly perSecond: number
  private readonly now: () => number

  constructor(opts: { burst: number; perSecond: number; now?: () => number }) {
    this.burst = opts.burst
    this.perSecond = opts.perSecond
    this.now = opts.now ?? Date.now
  }

  /** Takes `cost` tokens from `peer`'s bucket; false (and nothing taken) when it has fewer. */
  take(peer: string, cost = 1): boolean {
    const now = this.now()
    const b = this.buckets.get(peer) ?? { tokens: this.burst, at: now }
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond)
    b.at = now
    this.buckets.set(peer, b)
    if (b.tokens < cost) return false
    b.tokens -= cost
    return true
  }

  forget(peer: string): void {
    this.buckets.delete(peer)
  }
}
