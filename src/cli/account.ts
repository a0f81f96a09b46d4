import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { hexToBytes, isValidPrivate } from '@ethereumjs/util'

import { Keystore, LightScryptN, LightScryptP, readPasswordFile } from '../accounts/keystore.ts'
import { UsageError } from './flags.ts'

const ACCOUNT_USAGE = `Usage: cairn account new|list|import KEYFILE [options]

Manages the keystore as \`geth account\` does; key files are interchangeable with geth's.

  new                create an account and print its address and key file
  list               print every account of the keystore
  import KEYFILE     store the unencrypted private key in KEYFILE (64 hex characters) as a new account

  --datadir DIR      data directory (default: ~/.cairn)
  --keystore DIR     keystore directory (default: DATADIR/keystore)
  --password FILE    password file, the first line is the password (default: prompt on the terminal)
  --lightkdf         fast, weaker key encryption: scrypt N=4096 p=6 instead of N=262144 p=1`

const OPTIONS = {
  datadir: { type: 'string' },
  keystore: { type: 'string' },
  password: { type: 'string' },
  lightkdf: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** `cairn account ...`: returns the exit code (2 for bad usage, 1 for any failure, printed as geth's `Fatal: ...`). */
export async function accountCommand(args: string[]): Promise<number> {
  try {
    const { values, positionals } = parseAccountArgs(args)
    if (values.help) {
      process.stdout.write(`${ACCOUNT_USAGE}\n`)
      return 0
    }
    const datadir = resolve(values.datadir ?? join(homedir(), '.cairn')) // the node's default
    const keystore = new Keystore(resolve(values.keystore ?? join(datadir, 'keystore')), values.lightkdf ? { scryptN: LightScryptN, scryptP: LightScryptP } : {})
    const [command, ...rest] = positionals
    const expectArgs = (count: number) => {
      if (rest.length !== count) throw new UsageError(count === 0 ? `cairn account ${command} takes no arguments` : 'keyfile must be given as the only argument')
    }
    switch (command) {
      case 'new':
        expectArgs(0)
        await accountNew(keystore, values.password)
        return 0
      case 'list':
        expectArgs(0)
        await accountList(keystore)
        return 0
      case 'import':
        expectArgs(1)
        await accountImport(keystore, rest[0], values.password)
        return 0
      default:
        throw new UsageError(command === undefined ? 'missing account command (new, list or import)' : `unknown account command ${JSON.stringify(command)}`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\nRun \`cairn account --help\` for usage.\n`)
      return 2
    }
    process.stderr.write(`Fatal: ${(err as Error).message}\n`)
    return 1
  }
}

function parseAccountArgs(args: string[]) {
  try {
    return parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true })
  } catch (err) {
    throw new UsageError((err as Error).message)
  }
}

async function accountNew(keystore: Keystore, passwordFile: string | undefined): Promise<void> {
  const password = await newAccountPassword(passwordFile)
  const account = await withContext('Failed to create account', () => keystore.newAccount(password))
  process.stdout.write(
    [
      '',
      'Your new key was generated',
      '',
      `Public address of the key:   ${account.address}`,
      `Path of the secret key file: ${account.path}`,
      '',
      '- The address is public: share it with anyone who needs to pay or call you.',
      '- The key file and its password control the funds: share neither, back up the file, remember the password.',
      '',
      '',
    ].join('\n'),
  )
}

async function accountList(keystore: Keystore): Promise<void> {
  const accounts = await keystore.list()
  for (const [index, { address, path }] of accounts.entries()) {
    process.stdout.write(`Account #${index}: {${address.slice(2).toLowerCase()}} keystore://${path}\n`)
  }
}

async function accountImport(keystore: Keystore, keyFile: string, passwordFile: string | undefined): Promise<void> {
  const privateKey = await withContext('Failed to load the private key', async () => parseHexKeyFile(await readFile(keyFile)))
  const password = await newAccountPassword(passwordFile)
  const account = await withContext('Could not create the account', () => keystore.importKey(privateKey, password))
  process.stdout.write(`Address: {${account.address.slice(2).toLowerCase()}}\n`)
}

/**
 * geth's crypto.LoadECDSA format: exactly 64 hex characters (no 0x), then at most two '\n'/'\r' bytes.
 * The error texts are geth's (a 0x prefix aside), so scripts and docs written for geth apply.
 */
function parseHexKeyFile(content: Uint8Array): Uint8Array {
  const keyLength = 64
  // geth would report the two extra characters at the end; name the actual mistake instead.
  if (/^0x/i.test(Buffer.from(content.subarray(0, 2)).toString('latin1'))) throw new Error(`the key must be written as ${keyLength} hex characters without a 0x prefix`)
  let length = 0
  while (length < keyLength && length < content.length && content[length] > 0x20) length++
  if (length < keyLength) throw new Error(`key file too short, want ${keyLength} hex characters`)
  for (const [index, byte] of content.subarray(keyLength).entries()) {
    if (byte !== 0x0a && byte !== 0x0d) throw new Error(`invalid character ${JSON.stringify(String.fromCharCode(byte))} at end of key file`)
    if (index >= 2) throw new Error(`key file too long, want ${keyLength} hex characters`)
  }
  const hex = Buffer.from(content.subarray(0, keyLength)).toString('latin1')
  const bad = /[^0-9a-fA-F]/.exec(hex)
  if (bad !== null) throw new Error(`invalid hex character ${JSON.stringify(bad[0])} in private key`)
  const privateKey = hexToBytes(`0x${hex}`)
  if (!isValidPrivate(privateKey)) throw new Error('invalid private key: not in the secp256k1 scalar range')
  return privateKey
}

/** The password for a new key file: the first line of --password FILE, else asked twice on the terminal. */
async function newAccountPassword(passwordFile: string | undefined): Promise<string> {
  if (passwordFile !== undefined) return (await withContext('Failed to read password file', () => readPasswordFile(passwordFile)))[0]
  if (!process.stdin.isTTY) throw new Error('no password: stdin is not a terminal, so pass --password FILE (the first line of FILE is the password)')
  process.stderr.write('Your new account is locked with a password. Please give a password. Do not forget this password.\n')
  const password = await promptHidden('Password: ')
  if ((await promptHidden('Repeat password: ')) !== password) throw new Error('Passwords do not match')
  return password
}

/**
 * Reads one line from the terminal in raw mode, so nothing typed is echoed. Prompts go to stderr so that stdout
 * carries only the result, even when it is piped.
 */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin
  // Echo goes off before the prompt shows, so even an answer typed the instant it appears stays hidden.
  stdin.setRawMode(true)
  process.stderr.write(prompt)
  return new Promise((resolvePassword, reject) => {
    let typed: string[] = []
    const finish = (error?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      if (error === undefined) resolvePassword(typed.join(''))
      else reject(error)
    }
    const onData = (chunk: string) => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return finish()
        // Raw mode turns Ctrl-C and Ctrl-D into plain bytes, so handle them as the terminal would.
        if (char === '\u0003') return finish(new Error('Failed to read password: interrupted'))
        if (char === '\u0004' && typed.length === 0) return finish(new Error('Failed to read password: end of input'))
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1)
        else if (char >= ' ') typed.push(char)
      }
    }
    stdin.setEncoding('utf8')
    stdin.on('data', onData)
    stdin.resume()
  })
}

/** Runs `work`, prefixing the message of any error it throws with `context` (as geth's Fatalf lines read). */
async function withContext<T>(context: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw new Error(`${context}: ${(err as Error).message}`, { cause: err })
  }
}
