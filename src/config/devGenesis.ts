import { devAccounts } from '../accounts/devAccounts.ts'
import { DEFAULT_CLIQUE_EPOCH, buildCliqueGenesis } from './genesisBuilder.ts'

export interface DevGenesisOptions {
  period: number
  gasLimit: bigint
  /** the single Clique signer; the first development account unless given */
  signer?: string
  /** prefunded development accounts (the standard mnemonic, as Hardhat and Anvil) */
  accounts?: number
  /** a free-gas chain (`--dev.free-gas`): zero base fee by rule */
  freeGas?: boolean
}

/** 10,000 ETH each, as Anvil and Hardhat fund their default accounts */
const DEV_BALANCE = 10_000n * 10n ** 18n

/**
 * The embedded genesis of `cairn --dev`: chain id 1337 (as geth --dev), a single Clique signer, every fork through
 * Prague active from block 0 on Clique, the Cancun/Prague system contracts deployed, and the development accounts
 * prefunded. Written in geth's format so it can be inspected and reused with `cairn init`.
 */
export function devGenesis(opts: DevGenesisOptions): Record<string, unknown> {
  const accounts = devAccounts(opts.accounts ?? 10)
  return buildCliqueGenesis({
    chainId: 1337,
    period: opts.period,
    epoch: DEFAULT_CLIQUE_EPOCH,
    signers: [opts.signer ?? accounts[0].address],
    alloc: accounts.map((a) => ({ address: a.address, balance: DEV_BALANCE })),
    fork: 'prague',
    gasLimit: opts.gasLimit,
    emptyBlocks: true,
    freeGas: opts.freeGas === true,
  })
}
