import { join } from 'node:path'

import { bytesToHex, hexToBytes } from '@ethereumjs/util'

import { devAccounts } from '../accounts/devAccounts.ts'
import { Keystore, passwordForAccount, readPasswordFile } from '../accounts/keystore.ts'
import { UsageError } from '../cli/flags.ts'
import type { Flags } from '../cli/flags.ts'
import { privateKeyToAddress } from '../consensus/clique/seal.ts'
import type { UnlockedAccounts } from '../rpc/accounts.ts'

export interface NodeKeys {
  /** what eth_accounts lists and eth_sendTransaction signs with */
  accounts: UnlockedAccounts
  /** the sealer's key (--mine, or --dev) */
  signerKey?: Uint8Array
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1'])

/**
 * The keys this node holds, as geth 1.13 finds them: `--unlock` accounts from DATADIR/keystore decrypted with the
 * `--password` file (line i for the i-th account); the sealer signs with `--miner.etherbase` or the first of them.
 * `--dev` holds the development accounts (the first one is its only signer), as Anvil and Hardhat do. As geth,
 * unlocked keys and an RPC endpoint off loopback do not go together without `--allow-insecure-unlock`.
 */
export async function loadNodeKeys(flags: Flags, datadir: string): Promise<NodeKeys> {
  const unlock = (flags.unlock ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s.length > 0)
  const keys = new Map<string, Uint8Array>()
  if (flags.dev && unlock.length === 0) {
    for (const a of devAccounts(10)) keys.set(a.address.toLowerCase(), hexToBytes(a.privateKey as `0x${string}`))
  } else if (unlock.length > 0) {
    if (flags.password === undefined) throw new UsageError('--unlock needs --password FILE (a file with the keystore password on its first line)')
    const passwords = await readPasswordFile(flags.password)
    const keystore = new Keystore(join(datadir, 'keystore'))
    for (const [i, address] of unlock.entries()) {
      const password = passwordForAccount(passwords, i)
      if (password === undefined) throw new UsageError(`password file ${flags.password} is empty`)
      try {
        keys.set(address, await keystore.unlock(address, password))
      } catch (err) {
        throw new Error(`Failed to unlock account ${address}: ${(err as Error).message}`)
      }
    }
  }
  if (keys.size > 0 && !flags['allow-insecure-unlock']) {
    const exposed = ((flags.http || flags.dev) && !LOOPBACK.has(flags['http.addr'] ?? '127.0.0.1')) || (flags.ws && !LOOPBACK.has(flags['ws.addr'] ?? '127.0.0.1'))
    if (exposed) throw new UsageError('Account unlock with HTTP access is forbidden! (pass --allow-insecure-unlock to allow unlocked keys behind an RPC endpoint off loopback)')
  }
  const accounts: UnlockedAccounts = { addresses: () => [...keys.keys()], key: (address) => keys.get(address.toLowerCase()) }
  if (flags.dev && unlock.length === 0) return { accounts, signerKey: keys.get(devAccounts(1)[0].address.toLowerCase()) }
  if (!flags.mine) return { accounts }
  if (unlock.length === 0) throw new UsageError('--mine needs the signer key: pass --unlock ADDRESS --password FILE (keystore in DATADIR/keystore; create one with `cairn account new`)')
  const signer = flags['miner.etherbase']?.toLowerCase() ?? unlock[0]
  const signerKey = keys.get(signer)
  if (signerKey === undefined) throw new UsageError(`--miner.etherbase ${signer} is not among the --unlock accounts; the signer's key must be unlocked`)
  if (privateKeyToAddress(signerKey) !== signer) throw new Error(`key for ${signer} decrypts to ${bytesToHex(hexToBytes(privateKeyToAddress(signerKey)))}`)
  return { accounts, signerKey }
}
