/**
 * The EVM's analysis of a contract's code, kept between calls. ethereumjs (10.1.3, pinned) analyses the code on
 * every call that jumps: the valid jump destinations, each PUSH's value and an opcode-table entry per byte, 33 µs
 * for a 1.3 KB token and about 25 µs per KB, paid again by every transaction and eth_call to the same contract.
 * geth keeps the analysis per code hash; cairn keeps it per code array: a contract's code comes from the state
 * caches as the same array on every call, and code is never changed in place. The opcode table is part of the key,
 * because each hardfork has its own. The interpreter only reads the analysis.
 *
 * The interpreter class is not exported by @ethereumjs/evm, so its module is loaded by its file (the one evm.js
 * itself imports) and its analysis method wrapped, before the first EVM of execution/ is created.
 */
import { Lru } from '../db/lru.ts'

interface Analysis {
  jumps: Uint8Array
  pushes: Record<number, bigint>
  opcodesCached: unknown[]
}

interface InterpreterLike {
  _evm: { _opcodeMap: unknown[] }
  _getValidJumpDestinations(code: Uint8Array): Analysis
}

/**
 * One code array's analysis. The opcode-table entries hold the EVM's handlers, which differ between EVMs (eth_call's
 * EVMs have their own JUMPDEST, for the request's deadline): they are rebuilt per table from where each instruction
 * starts, which is cheap; the jump destinations and PUSH values (most of the cost) are shared.
 */
interface CodeAnalysis {
  jumps: Uint8Array
  pushes: Record<number, bigint>
  starts: Uint32Array
  byTable: WeakMap<object, unknown[]>
}

/** What one analysis costs in memory per byte of code: the jump flags, the instruction starts, the PUSH values. */
const BYTES_PER_CODE_BYTE = 8
const MAX_WEIGHT = 32 * 1024 * 1024

const analyses = new Lru<Uint8Array, CodeAnalysis>({
  maxEntries: 4096,
  maxWeight: MAX_WEIGHT,
  weigh: (a) => a.jumps.length * BYTES_PER_CODE_BYTE + 200,
})

let installing: Promise<void> | undefined

/** Wraps the interpreter's analysis once per process; every later call returns the same promise. */
export function installCodeAnalysisCache(): Promise<void> {
  installing ??= install()
  return installing
}

async function install(): Promise<void> {
  const url = new URL('./interpreter.js', import.meta.resolve('@ethereumjs/evm'))
  const { Interpreter } = (await import(url.href)) as { Interpreter: { prototype: InterpreterLike } }
  const analyse = Interpreter.prototype._getValidJumpDestinations
  if (typeof analyse !== 'function') throw new Error('unsupported @ethereumjs/evm Interpreter: cairn needs the version it pins')
  Interpreter.prototype._getValidJumpDestinations = function (this: InterpreterLike, code: Uint8Array): Analysis {
    const table = this._evm._opcodeMap
    let known = analyses.get(code)
    if (known === undefined) {
      const fresh = analyse.call(this, code)
      const starts: number[] = []
      fresh.opcodesCached.forEach((_, i) => starts.push(i))
      known = { jumps: fresh.jumps, pushes: fresh.pushes, starts: Uint32Array.from(starts), byTable: new WeakMap() }
      known.byTable.set(table, fresh.opcodesCached)
      analyses.set(code, known)
      return fresh
    }
    let opcodesCached = known.byTable.get(table)
    if (opcodesCached === undefined) {
      opcodesCached = new Array(code.length)
      for (const i of known.starts) opcodesCached[i] = table[code[i]]
      known.byTable.set(table, opcodesCached)
    }
    return { jumps: known.jumps, pushes: known.pushes, opcodesCached }
  }
}

/** How many code arrays have their analysis kept (tests). */
export function cachedCodeAnalyses(): number {
  return analyses.size
}
