/**
 * The YAML subset docker-compose.yml and deploy/*.yml keep to, so the compose test can read them without a YAML
 * library: block mappings and block sequences by space indentation (a sequence item may open a mapping: `- key: v`),
 * double-quoted (JSON) and single-quoted scalars, flow collections written as JSON (`["a", "b"]`, `{}`), plain
 * scalars (true/false, null/~, integers, else strings) and `#` comments. Anything else (anchors, tags, block
 * scalars, multi-line flow collections) is refused with its line number rather than misread.
 */
export type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue }

interface Line {
  indent: number
  text: string
  number: number
}

export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = []
  source.split('\n').forEach((raw, i) => {
    if (/^\s*\t/.test(raw)) throw yamlError(i + 1, 'tabs are not allowed in indentation')
    const text = stripComment(raw).trimEnd()
    if (text.trim() === '' || text.trim() === '---') return
    lines.push({ indent: text.length - text.trimStart().length, text: text.trimStart(), number: i + 1 })
  })
  if (lines.length === 0) return null
  const parser = new Parser(lines)
  const value = parser.block(lines[0].indent)
  if (parser.pos < lines.length) throw yamlError(lines[parser.pos].number, 'unexpected indentation')
  return value
}

const KEY = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s"'#[\]{}&*!|>-][^:]*?|-[^\s:][^:]*?)\s*:(?:\s+(.*))?$/

class Parser {
  pos = 0
  private readonly lines: Line[]

  constructor(lines: Line[]) {
    this.lines = lines
  }

  block(indent: number): YamlValue {
    return isItem(this.lines[this.pos].text) ? this.sequence(indent) : this.mapping(indent)
  }

  private sequence(indent: number): YamlValue[] {
    const items: YamlValue[] = []
    while (this.pos < this.lines.length && this.lines[this.pos].indent === indent && isItem(this.lines[this.pos].text)) {
      const line = this.lines[this.pos]
      const rest = line.text.slice(1).trimStart()
      if (rest === '') {
        this.pos++
        items.push(this.child(indent, line))
      } else if (KEY.test(rest) && !/^["'[{]/.test(rest)) {
        // `- key: value` opens a mapping whose keys line up with `key`
        const inner = indent + (line.text.length - rest.length)
        this.lines[this.pos] = { indent: inner, text: rest, number: line.number }
        items.push(this.mapping(inner))
      } else {
        this.pos++
        items.push(scalar(rest, line.number))
      }
    }
    return items
  }

  private mapping(indent: number): { [key: string]: YamlValue } {
    const map: { [key: string]: YamlValue } = {}
    while (this.pos < this.lines.length && this.lines[this.pos].indent === indent) {
      const line = this.lines[this.pos]
      if (isItem(line.text)) throw yamlError(line.number, 'a sequence item where a mapping key was expected')
      const m = KEY.exec(line.text)
      if (m === null) throw yamlError(line.number, `expected "key: value", got ${JSON.stringify(line.text)}`)
      const key = String(scalar(m[1], line.number))
      if (Object.hasOwn(map, key)) throw yamlError(line.number, `duplicate key ${JSON.stringify(key)}`)
      this.pos++
      map[key] = m[2] === undefined || m[2] === '' ? this.child(indent, line) : scalar(m[2], line.number)
    }
    return map
  }

  /** The block nested under `parent` (indented deeper), or null when nothing is. */
  private child(indent: number, parent: Line): YamlValue {
    const next = this.lines[this.pos]
    if (next === undefined || next.indent <= indent) return null
    if (next.indent <= parent.indent) throw yamlError(next.number, 'unexpected indentation')
    return this.block(next.indent)
  }
}

const isItem = (text: string) => text === '-' || text.startsWith('- ')

function scalar(text: string, line: number): YamlValue {
  const t = text.trim()
  if (/^[&*!|>%@`]/.test(t)) throw yamlError(line, `unsupported YAML syntax ${JSON.stringify(t)}`)
  if (t.startsWith('"') || t.startsWith('[') || t.startsWith('{')) {
    try {
      return JSON.parse(t) as YamlValue
    } catch {
      throw yamlError(line, `expected a JSON string or flow collection, got ${JSON.stringify(t)}`)
    }
  }
  if (t.startsWith("'")) {
    if (!/^'(?:[^']|'')*'$/.test(t)) throw yamlError(line, `unterminated single-quoted string ${JSON.stringify(t)}`)
    return t.slice(1, -1).replaceAll("''", "'")
  }
  if (t === 'true' || t === 'false') return t === 'true'
  if (t === 'null' || t === '~') return null
  if (/^-?\d+$/.test(t)) return Number(t)
  return t
}

/** The line without its comment: a `#` at the start or after whitespace, outside quotes. */
function stripComment(line: string): string {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote !== undefined) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") {
      quote = c
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]))) {
      return line.slice(0, i)
    }
  }
  return line
}

function yamlError(line: number, message: string): Error {
  return new Error(`YAML line ${line}: ${message}`)
}
