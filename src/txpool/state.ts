import { Address, KECCAK256_NULL, equalsBytes, hexToBytes } from '@ethereumjs/util'
import type { PrefixedHexString } from '@ethereumjs/util'

import type { StateView } from '../chain/types.ts'

export interface AccountFacts {
  nonce: bigint
  balance: bigint
  /** has code: an EIP-7702 delegation (a contract cannot send transactions) */
  hasCode: boolean
}

const EMPTY: AccountFacts = { nonce: 0n, balance: 0n, hasCode: false }

/**
 * The head state's accounts the pool works with. State reads are asynchronous; the pool's bookkeeping is not, so
 * every operation loads the accounts it touches first and then reads them synchronously. The pool keeps every
 * account it holds transactions of loaded.
 */
export class HeadState {
  private readonly view: StateView
  private readonly accounts = new Map<string, AccountFacts>()

  constructor(view: StateView) {
    this.view = view
  }

  async load(addresses: Iterable<string>): Promise<void> {
    const missing = [...new Set(addresses)].filter((a) => !this.accounts.has(a))
    const loaded = await Promise.all(missing.map((a) => this.view.getAccount(new Address(hexToBytes(a as PrefixedHexString)))))
    missing.forEach((address, i) => {
      const account = loaded[i]
      this.accounts.set(
        address,
        account === undefined ? EMPTY : { nonce: account.nonce, balance: account.balance, hasCode: !equalsBytes(account.codeHash, KECCAK256_NULL) },
      )
    })
  }

  get(address: string): AccountFacts {
    const account = this.accounts.get(address)
    if (account === undefined) throw new Error(`txpool: account ${address} read before it was loaded`)
    return account
  }
}
