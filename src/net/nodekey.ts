import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

import { generateKeyPair, privateKeyFromProtobuf, privateKeyFromRaw, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'

export const NODE_KEY_TYPES = ['secp256k1', 'ed25519'] as const
export type NodeKeyType = (typeof NODE_KEY_TYPES)[number]

/**
 * The node key file holds one line of hex. A secp256k1 key is its 32 raw bytes (64 hex characters: geth's
 * nodekey format, so a geth nodekey file is read as is); any other key type is libp2p's protobuf encoding of the
 * private key (the `08 01 ...` prefix names ed25519).
 */
export function encodeNodeKey(key: PrivateKey): string {
  const bytes = key.type === 'secp256k1' ? key.raw : privateKeyToProtobuf(key)
  return Buffer.from(bytes).toString('hex')
}

export function decodeNodeKey(text: string, file: string): PrivateKey {
  const hex = text.trim().replace(/^0x/, '')
  if (!/^([0-9a-fA-F]{2})+$/.test(hex)) throw new Error(`invalid node key ${file}: expected hex`)
  const bytes = Buffer.from(hex, 'hex')
  try {
    if (bytes.length === 32) return privateKeyFromRaw(bytes) // secp256k1, geth's format
    return privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new Error(`invalid node key ${file}: ${(err as Error).message}`)
  }
}

export async function generateNodeKey(type: NodeKeyType = 'secp256k1'): Promise<PrivateKey> {
  return type === 'ed25519' ? generateKeyPair('Ed25519') : generateKeyPair('secp256k1')
}

/** Writes a new key to `file` (mode 0600); refuses to replace an existing file. */
export async function writeNewNodeKey(file: string, type: NodeKeyType = 'secp256k1'): Promise<PrivateKey> {
  const key = await generateNodeKey(type)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, `${encodeNodeKey(key)}\n`, { mode: 0o600, flag: 'wx' })
  return key
}

/** The node's persistent identity: read from `file`, or generated there on first start. */
export async function loadOrCreateNodeKey(file: string): Promise<{ key: PrivateKey; created: boolean }> {
  if (existsSync(file)) return { key: decodeNodeKey(readFileSync(file, 'utf8'), file), created: false }
  return { key: await writeNewNodeKey(file), created: true }
}
