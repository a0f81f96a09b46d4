/**
 * A small leveled logger writing one line per event to stderr, geth-style: `LEVEL [time] message key=value...`.
 * (Structured JSON logs with per-module children come with the networking issue.)
 */
export interface Logger {
  error(msg: string, ctx?: Record<string, unknown>): void
  warn(msg: string, ctx?: Record<string, unknown>): void
  info(msg: string, ctx?: Record<string, unknown>): void
  debug(msg: string, ctx?: Record<string, unknown>): void
}

const LEVELS = { error: 1, warn: 2, info: 3, debug: 4 } as const
const LABELS = { error: 'ERROR', warn: 'WARN ', info: 'INFO ', debug: 'DEBUG' } as const

export function createLogger(verbosity: number, write: (line: string) => void = (l) => process.stderr.write(l)): Logger {
  const at = (level: keyof typeof LEVELS) => (msg: string, ctx?: Record<string, unknown>) => {
    if (LEVELS[level] > verbosity) return
    const time = new Date().toISOString().slice(5, 23).replace('T', '|')
    const kv = ctx === undefined ? '' : Object.entries(ctx).map(([k, v]) => ` ${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`).join('')
    write(`${LABELS[level]} [${time}] ${msg}${kv}\n`)
  }
  return { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') }
}
