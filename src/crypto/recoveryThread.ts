// The worker side of RecoveryWorker: recovers public keys for batches of signatures, off the main thread.
import { parentPort } from 'node:worker_threads'

import { RECOVERY_CLOSE, RECOVERY_ITEM_BYTES, recoverPublicKey } from './secp256k1.ts'

parentPort!.on('message', (message: { id: number; items: Uint8Array } | typeof RECOVERY_CLOSE) => {
  // with the port closed the thread has nothing left to wait for, and ends as a thread that ran out of work does
  if (message === RECOVERY_CLOSE) return parentPort!.close()
  const { id, items } = message
  const count = items.length / RECOVERY_ITEM_BYTES
  // 65 bytes per item: the uncompressed key (0x04 prefix), or zeros where nothing recovers
  const keys = new Uint8Array(count * 65)
  for (let i = 0; i < count; i++) {
    const item = items.subarray(i * RECOVERY_ITEM_BYTES, (i + 1) * RECOVERY_ITEM_BYTES)
    try {
      keys.set(recoverPublicKey(item.subarray(0, 32), item.subarray(32, 96), item[96]), i * 65)
    } catch {
      // left as zeros: the caller recovers this one itself and reports its error
    }
  }
  parentPort!.postMessage({ id, keys }, [keys.buffer])
})
