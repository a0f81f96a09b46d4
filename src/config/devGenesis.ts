import { readFileSync } from 'node:fs'

import { devAccounts } from '../accounts/devAccounts.ts'

export interface DevGenesisOptions {
  period: number
  gasLimit: bigint
  /** the single Clique signer; the first development account unless given */
  signer?: string
  /** prefunded development accounts (the standard mnemonic, as Hardhat and Anvil) */
  accounts?: number
}

const SYSTEM_CONTRACTS = JSON.parse(readFileSync(new URL('../../genesis/system-contracts.json', import.meta.url), 'utf8')) as Record<string, { code?: string; nonce: string; balance: string }>

/** 10,000 ETH each, as Anvil and Hardhat fund their default accounts */
const DEV_BALANCE = 10_000n * 10n ** 18n

/**
 * The embedded genesis of `cairn --dev`: chain id 1337 (as geth --dev), a single Clique signer, every fork through
 * Prague active from block 0 on Clique, the Cancun/Prague system contracts deployed, and the development accounts
 * prefunded. Written in geth's format so it can be inspected and reused with `cairn init`.
 */
export function devGenesis(opts: DevGenesisOptions): Record<string, unknown> {
  const accounts = devAccounts(opts.accounts ?? 10)
  const signer = (opts.signer ?? accounts[0].address).toLowerCase().replace(/^0x/, '')
  const alloc: Record<string, unknown> = {}
  for (const [address, c] of Object.entries(SYSTEM_CONTRACTS)) if (c.code !== undefined) alloc[address] = { code: c.code, nonce: c.nonce, balance: c.balance }
  for (const a of accounts) alloc[a.address] = { balance: `0x${DEV_BALANCE.toString(16)}` }
  return {
    config: {
      chainId: 1337,
      homesteadBlock: 0,
      eip150Block: 0,
      eip155Block: 0,
      eip158Block: 0,
      byzantiumBlock: 0,
      constantinopleBlock: 0,
      petersburgBlock: 0,
      istanbulBlock: 0,
      berlinBlock: 0,
      londonBlock: 0,
      shanghaiTime: 0,
      cancunTime: 0,
      pragueTime: 0,
      blobSchedule: {
        cancun: { target: 3, max: 6, baseFeeUpdateFraction: 3338477 },
        prague: { target: 6, max: 9, baseFeeUpdateFraction: 5007716 },
      },
      clique: { period: opts.period, epoch: 30000 },
    },
    nonce: '0x0',
    timestamp: '0x0',
    extraData: `0x${'00'.repeat(32)}${signer}${'00'.repeat(65)}`,
    gasLimit: `0x${opts.gasLimit.toString(16)}`,
    difficulty: '0x1',
    mixHash: `0x${'00'.repeat(32)}`,
    coinbase: `0x${'00'.repeat(20)}`,
    baseFeePerGas: '0x3b9aca00',
    alloc,
  }
}
