import { join } from 'node:path'

import { devAccounts } from '../accounts/devAccounts.ts'
import { Keystore, passwordForAccount, readPasswordFile } from '../accounts/keystore.ts'
import { UsageError } from '../cli/flags.ts'
import type { Flags } from '../cli/flags.ts'
import { hexToBytes } from '@ethereumjs/util'

/**
 * The key a sealer signs with, as geth 1.13 finds it: `--unlock` accounts from DATADIR/keystore decrypted with the
 * `--password` file (line i for the i-th account), the signer being `--miner.etherbase` or the first unlocked
 * account. `--dev` signs with the first development account, which its genesis makes the only signer.
 */
export async function loadSignerKey(flags: Flags, datadir: string): Promise<Uint8Array | undefined> {
  if (flags.dev && !flags.unlock) return hexToBytes(devAccounts(1)[0].privateKey as `0x${string}`)
  if (!flags.mine) return undefined
  const unlock = (flags.unlock ?? '').split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  const etherbase = flags['miner.etherbase']?.toLowerCase()
  if (unlock.length === 0) throw new UsageError('--mine needs the signer key: pass --unlock ADDRESS --password FILE (keystore in DATADIR/keystore; create one with `cairn account new`)')
  if (flags.password === undefined) throw new UsageError('--unlock needs --password FILE (a file with the keystore password on its first line)')
  const signer = etherbase ?? unlock[0].toLowerCase()
  const index = unlock.findIndex((a) => a.toLowerCase() === signer)
  if (index < 0) throw new UsageError(`--miner.etherbase ${signer} is not among the --unlock accounts; the signer's key must be unlocked`)
  const passwords = await readPasswordFile(flags.password)
  const password = passwordForAccount(passwords, index)
  if (password === undefined) throw new UsageError(`password file ${flags.password} is empty`)
  const keystore = new Keystore(join(datadir, 'keystore'))
  try {
    return await keystore.unlock(signer, password)
  } catch (err) {
    throw new Error(`Failed to unlock account ${signer}: ${(err as Error).message}`)
  }
}
