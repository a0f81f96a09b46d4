import { open } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'

import type { Block } from '@ethereumjs/block'
import type { Common } from '@ethereumjs/common'

import { encodeBlock } from './bodyRlp.ts'
import { decodeBlock } from './decode.ts'

/**
 * Reads and writes geth's block export format: block RLPs back to back, no framing. Reading streams the file so
 * that a large export never has to fit in memory.
 */

export class BlockFileError extends Error {
  constructor(file: string, index: number, offset: number, reason: string) {
    super(`${file}: item ${index} at byte ${offset}: ${reason}`)
    this.name = 'BlockFileError'
  }
}

const CHUNK = 1 << 20

/** Yields each block of a file in order; a truncated item or trailing garbage raises BlockFileError. */
export async function* readBlockFile(file: string, common: Common): AsyncGenerator<Block> {
  const fh = await open(file, 'r')
  try {
    let buf = new Uint8Array(0)
    let base = 0 // file offset of buf[0]
    let eof = false
    let index = 0
    const fill = async (need: number) => {
      while (buf.length < need && !eof) {
        const chunk = new Uint8Array(Math.max(CHUNK, need - buf.length))
        const { bytesRead } = await fh.read(chunk, 0, chunk.length, base + buf.length)
        if (bytesRead === 0) eof = true
        else {
          const next = new Uint8Array(buf.length + bytesRead)
          next.set(buf)
          next.set(chunk.subarray(0, bytesRead), buf.length)
          buf = next
        }
      }
    }
    for (;;) {
      await fill(9)
      if (buf.length === 0) return
      const len = listLength(buf)
      if (len === undefined) throw new BlockFileError(file, index, base, buf[0] < 0xc0 ? 'not an RLP list (trailing garbage?)' : 'truncated RLP header')
      await fill(len)
      if (buf.length < len) throw new BlockFileError(file, index, base, `truncated block: need ${len} bytes, file has ${buf.length}`)
      let block: Block
      try {
        block = decodeBlock(buf.subarray(0, len), common)
      } catch (err) {
        throw new BlockFileError(file, index, base, `cannot decode block: ${(err as Error).message.replace(/ \(block number=.*$/s, '')}`)
      }
      yield block
      buf = buf.subarray(len)
      base += len
      index++
    }
  } finally {
    await fh.close()
  }
}

/** Total length (prefix + payload) of the RLP list at the start of `b`, or undefined if `b` does not start one. */
function listLength(b: Uint8Array): number | undefined {
  const p = b[0]
  if (p < 0xc0) return undefined
  if (p <= 0xf7) return 1 + (p - 0xc0)
  const n = p - 0xf7
  if (b.length < 1 + n) return undefined
  let len = 0
  for (let i = 0; i < n; i++) len = len * 256 + b[1 + i]
  return 1 + n + len
}

export class BlockFileWriter {
  private readonly fh: FileHandle
  private constructor(fh: FileHandle) {
    this.fh = fh
  }
  static async create(file: string): Promise<BlockFileWriter> {
    return new BlockFileWriter(await open(file, 'w'))
  }
  async write(block: Block): Promise<void> {
    await this.fh.write(encodeBlock(block))
  }
  async close(): Promise<void> {
    await this.fh.close()
  }
}
