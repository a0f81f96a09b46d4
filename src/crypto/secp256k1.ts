import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

interface NativeSecp256k1 {
  ecdsaRecover(sig: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array
}

// libsecp256k1 through the `secp256k1` package's prebuilt N-API addon (node-gyp-build loads it; no install script
// runs): public-key recovery in ~0.05 ms against ~1.2 ms for pure-JS noble, which capped sender and Clique signer
// recovery (pool admission, import, block assembly, RPC `from` fields) at a few hundred per second.
const native = createRequire(import.meta.url)('secp256k1') as NativeSecp256k1

/**
 * The 65-byte uncompressed public key (0x04 prefix) that signed `hash` with the 64-byte compact signature `rs`
 * (r || s) and recovery id 0 or 1. Throws when r or s is zero or not below the curve order, or no point recovers.
 * High-s signatures are accepted, as ecrecover does; callers that forbid them check s themselves.
 */
export function recoverPublicKey(hash: Uint8Array, rs: Uint8Array, recovery: number): Uint8Array {
  return native.ecdsaRecover(rs, recovery, hash, false)
}

/** One request to RecoveryWorker: message hash (32) || r || s (64) || recovery id (1). */
export const RECOVERY_ITEM_BYTES = 97
/** what asks the worker to leave, between two batches */
export const RECOVERY_CLOSE = 'close'
/** how long close waits for the worker to leave before it terminates it */
const CLOSE_GRACE_MS = 5000

/**
 * Public-key recovery on a worker thread, for batches recovered ahead of need (an import's next blocks): the main
 * thread keeps executing meanwhile. Best effort: if the worker fails, every request answers "not recovered" and the
 * caller recovers on its own thread.
 */
export class RecoveryWorker {
  private readonly worker: Worker
  private readonly waiting = new Map<number, (keys: Uint8Array | undefined) => void>()
  private nextId = 0
  private failed = false
  private readonly exited: Promise<void>

  private constructor(worker: Worker) {
    this.worker = worker
    worker.on('message', ({ id, keys }: { id: number; keys: Uint8Array }) => {
      this.waiting.get(id)?.(keys)
      this.waiting.delete(id)
      if (this.waiting.size === 0) worker.unref()
    })
    worker.on('error', () => this.fail())
    this.exited = new Promise((resolve) =>
      worker.on('exit', () => {
        this.fail()
        resolve()
      }),
    )
    worker.unref()
  }

  static start(): RecoveryWorker {
    return new RecoveryWorker(new Worker(new URL('./recoveryThread.ts', import.meta.url)))
  }

  /**
   * The 65-byte uncompressed keys for `items` (RECOVERY_ITEM_BYTES each, concatenated), in order; an all-zero key
   * where nothing recovers. Undefined if the worker is gone.
   */
  recover(items: Uint8Array): Promise<Uint8Array | undefined> {
    if (this.failed) return Promise.resolve(undefined)
    const id = this.nextId++
    return new Promise((resolve) => {
      this.waiting.set(id, resolve)
      // an idle worker does not keep the process alive; one with answers owed does
      this.worker.ref()
      // handed over, not copied, when `items` is its buffer's only view
      const own = items.byteOffset === 0 && items.byteLength === items.buffer.byteLength
      this.worker.postMessage({ id, items }, own ? [items.buffer as ArrayBuffer] : [])
    })
  }

  /**
   * Asks the worker to leave once its current batch (or its start-up) is done, and waits until it has. terminate()
   * could stop it inside a libsecp256k1 call, and that aborts the whole process: node-addon-api turns the failure of
   * the call the stopping thread can no longer make into a C++ exception that nothing catches.
   */
  async close(): Promise<void> {
    this.fail()
    this.worker.postMessage(RECOVERY_CLOSE)
    const timer = setTimeout(() => void this.worker.terminate(), CLOSE_GRACE_MS)
    await this.exited
    clearTimeout(timer)
  }

  private fail(): void {
    this.failed = true
    for (const resolve of this.waiting.values()) resolve(undefined)
    this.waiting.clear()
  }
}
