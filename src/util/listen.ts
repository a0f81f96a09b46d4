import type { Server } from 'node:http'
import { isIP } from 'node:net'
import type { AddressInfo } from 'node:net'

/** `host:port` as a URL or a message writes it: an IPv6 host in brackets. */
export function hostPort(host: string, port: number | string): string {
  return `${isIP(host) === 6 ? `[${host}]` : host}:${port}`
}

/** Starts `server` on host:port (0 picks a free port) and gives the URL clients use. */
export async function listen(server: Server, port: number, host: string, scheme: 'http' | 'ws'): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = (server.address() as AddressInfo).port
  return { url: `${scheme}://${hostPort(host, bound)}`, port: bound }
}
