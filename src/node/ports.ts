import { hostPort } from '../util/listen.ts'

/**
 * Runs `start` (a server or the p2p host listening on a port the user chose) and turns "address already in use" into
 * what to do about it, naming the flag that moves the port. Node's listen errors carry the code; libp2p's wraps
 * the same error in advice about its own configuration, which a cairn user cannot act on.
 */
export async function withPortAdvice<T>(what: string, flag: string, start: () => Promise<T>): Promise<T> {
  try {
    return await start()
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number }
    const address = e.code === 'EADDRINUSE' && e.address !== undefined ? hostPort(e.address, e.port ?? '') : /EADDRINUSE: address already in use (\S+)/.exec(e.message ?? '')?.[1]
    if (address === undefined) throw err
    throw new Error(`${what} ${address} is in use by another process: stop that process, or choose another port with ${flag}`)
  }
}
