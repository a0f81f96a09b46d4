import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { TestContext } from 'node:test'

import { bytesToHex } from '@ethereumjs/util'

import { Keystore } from '../../src/accounts/keystore.ts'
import { CAIRN, runCairn, tempDir } from '../helpers.ts'

const DEV_KEY = 'ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80'
const DEV_ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266'

/** A datadir and a password file holding `password` (with the trailing newline editors add). */
function setup(t: TestContext, password = 'correct horse'): { datadir: string; passwordFile: string; dir: string } {
  const dir = tempDir(t)
  const passwordFile = join(dir, 'password.txt')
  writeFileSync(passwordFile, `${password}\n`)
  return { datadir: join(dir, 'data'), passwordFile, dir }
}

function keyFile(dir: string, content: string): string {
  const path = join(dir, `key-${readdirSync(dir).length}.txt`)
  writeFileSync(path, content)
  return path
}

describe('cairn account', () => {
  it('new stores a key under DATADIR/keystore that list shows and the password decrypts', async (t) => {
    const { datadir, passwordFile } = setup(t)
    const r = await runCairn(['account', 'new', '--datadir', datadir, '--password', passwordFile, '--lightkdf'])
    assert.equal(r.code, 0, r.stderr)
    const address = /^Public address of the key: {3}(0x[0-9a-fA-F]{40})$/m.exec(r.stdout)?.[1]
    const path = /^Path of the secret key file: (.+)$/m.exec(r.stdout)?.[1]
    assert.ok(address !== undefined && path !== undefined, r.stdout)
    assert.equal(join(path, '..'), join(datadir, 'keystore'))
    assert.match(path, new RegExp(`/UTC--\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{9}Z--${address.slice(2).toLowerCase()}$`))
    const { crypto } = JSON.parse(readFileSync(path, 'utf8'))
    assert.deepEqual([crypto.kdf, crypto.kdfparams.n, crypto.kdfparams.p], ['scrypt', 4096, 6])

    const list = await runCairn(['account', 'list', '--datadir', datadir])
    assert.equal(list.code, 0, list.stderr)
    assert.equal(list.stdout, `Account #0: {${address.slice(2).toLowerCase()}} keystore://${path}\n`)
    await new Keystore(join(datadir, 'keystore')).unlock(address, 'correct horse')
  })

  it("uses geth's standard scrypt parameters without --lightkdf", async (t) => {
    const { datadir, passwordFile } = setup(t)
    const r = await runCairn(['account', 'new', '--datadir', datadir, '--password', passwordFile])
    assert.equal(r.code, 0, r.stderr)
    const path = /^Path of the secret key file: (.+)$/m.exec(r.stdout)![1]
    const { kdfparams } = JSON.parse(readFileSync(path, 'utf8')).crypto
    assert.deepEqual([kdfparams.n, kdfparams.r, kdfparams.p], [262144, 8, 1])
  })

  it('import stores a hex key file once, and refuses it a second time', async (t) => {
    const { datadir, passwordFile, dir } = setup(t, 'pw')
    const key = keyFile(dir, `${DEV_KEY}\n`)
    const r = await runCairn(['account', 'import', '--datadir', datadir, '--password', passwordFile, '--lightkdf', key])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, `Address: {${DEV_ADDRESS.slice(2).toLowerCase()}}\n`)
    assert.equal(bytesToHex(await new Keystore(join(datadir, 'keystore')).unlock(DEV_ADDRESS, 'pw')), `0x${DEV_KEY}`)

    const again = await runCairn(['account', 'import', '--datadir', datadir, '--password', passwordFile, '--lightkdf', key])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /^Fatal: Could not create the account: account already exists: 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266 \(/)
    const list = await runCairn(['account', 'list', '--datadir', datadir])
    assert.equal(list.stdout.split('\n').filter(Boolean).length, 1)
  })

  it('import reads key files as geth does: 64 hex characters, at most two line-end bytes', async (t) => {
    const { datadir, passwordFile, dir } = setup(t)
    const cases: [string, RegExp | null][] = [
      [`${DEV_KEY}\r\n`, null],
      [`${DEV_KEY.toUpperCase()}`, /account already exists/],
      [`0x${DEV_KEY}\n`, /Failed to load the private key: the key must be written as 64 hex characters without a 0x prefix/],
      [DEV_KEY.slice(0, 63), /Failed to load the private key: key file too short, want 64 hex characters/],
      [`${DEV_KEY.slice(0, 40)} ${DEV_KEY.slice(40)}`, /key file too short/],
      [`${DEV_KEY}\n\n\n`, /Failed to load the private key: key file too long, want 64 hex characters/],
      [`${DEV_KEY}00`, /Failed to load the private key: invalid character "0" at end of key file/],
      [`${DEV_KEY.slice(0, 63)}g`, /Failed to load the private key: invalid hex character "g" in private key/],
      ['0'.repeat(64), /Failed to load the private key: invalid private key: not in the secp256k1 scalar range/],
    ]
    for (const [content, error] of cases) {
      const r = await runCairn(['account', 'import', '--datadir', datadir, '--password', passwordFile, '--lightkdf', keyFile(dir, content)])
      if (error === null) assert.equal(r.code, 0, r.stderr)
      else {
        assert.equal(r.code, 1, JSON.stringify(content))
        assert.match(r.stderr, error)
      }
    }
    const missing = await runCairn(['account', 'import', '--datadir', datadir, '--password', passwordFile, join(dir, 'no-such-key')])
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /Failed to load the private key: ENOENT/)
  })

  it('a missing password file is an error and writes no key', async (t) => {
    const { datadir, dir } = setup(t)
    const r = await runCairn(['account', 'new', '--datadir', datadir, '--password', join(dir, 'nope.txt'), '--lightkdf'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^Fatal: Failed to read password file: ENOENT: no such file or directory, open '.*nope\.txt'/)
    assert.equal(existsSync(join(datadir, 'keystore')), false)
  })

  it('without --password and without a terminal it says to pass --password FILE', async (t) => {
    const { datadir, dir } = setup(t)
    for (const args of [['new'], ['import', keyFile(dir, DEV_KEY)]]) {
      const r = await runCairn(['account', ...args, '--datadir', datadir, '--lightkdf'])
      assert.equal(r.code, 1)
      assert.match(r.stderr, /Fatal: no password: stdin is not a terminal, so pass --password FILE/)
    }
  })

  it('bad usage exits with code 2', async () => {
    const cases: [string[], RegExp][] = [
      [[], /missing account command \(new, list or import\)/],
      [['frobnicate'], /unknown account command "frobnicate"/],
      [['import'], /keyfile must be given as the only argument/],
      [['list', 'extra'], /cairn account list takes no arguments/],
      [['new', '--light-kdf'], /Unknown option '--light-kdf'/],
    ]
    for (const [args, message] of cases) {
      const r = await runCairn(['account', ...args])
      assert.equal(r.code, 2, args.join(' '))
      assert.match(r.stderr, message)
    }
    const help = await runCairn(['account', '--help'])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /Usage: cairn account new\|list\|import KEYFILE/)
  })

  // `script` gives the CLI a pseudo-terminal, so the interactive prompt runs as a user would see it.
  const hasScript = spawnSync('script', ['--version']).status === 0
  it('prompts twice on a terminal without echoing the password', { skip: !hasScript && 'needs script(1) for a pseudo-terminal' }, async (t) => {
    const { datadir } = setup(t)
    const typed = await runOnTerminal(['account', 'new', '--datadir', datadir, '--lightkdf'], ['s3cret-typed', 's3cret-typed'])
    assert.equal(typed.code, 0, typed.output)
    assert.match(typed.output, /Your new account is locked with a password\. Please give a password\. Do not forget this password\.\r\nPassword: \r\nRepeat password: /)
    assert.equal(typed.output.includes('s3cret-typed'), false)
    const address = /Public address of the key: {3}(0x[0-9a-fA-F]{40})/.exec(typed.output)![1]
    await new Keystore(join(datadir, 'keystore')).unlock(address, 's3cret-typed')

    const mismatch = await runOnTerminal(['account', 'new', '--datadir', datadir, '--lightkdf'], ['one', 'two'])
    assert.equal(mismatch.code, 1)
    assert.match(mismatch.output, /Fatal: Passwords do not match/)
  })
})

/** Runs cairn on a pseudo-terminal, typing each answer once its prompt ("...password: ") appears. */
function runOnTerminal(args: string[], answers: string[]): Promise<{ code: number | null; output: string }> {
  const command = [process.execPath, CAIRN, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] })
  let output = ''
  let answered = 0
  child.stdout.on('data', (chunk) => {
    output += chunk
    const prompts = output.match(/[Pp]assword: /g)?.length ?? 0
    while (answered < Math.min(prompts, answers.length)) child.stdin.write(`${answers[answered++]}\r`)
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, output })
    })
  })
}
