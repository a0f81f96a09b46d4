import type { Common } from '@ethereumjs/common'

/**
 * A chain's Common set to each of its forks, made once. `setHardforkBy` rebuilds Common's parameter tables, which
 * costs more than decoding a header or running a small call; readers that need the fork of some block take it from
 * here. The Commons handed out are shared: never change their fork (copy one first).
 */
export class ForkCommons {
  readonly common: Common
  private readonly byFork = new Map<string, Common>()

  constructor(common: Common) {
    this.common = common
  }

  at(number: bigint, timestamp: bigint): Common {
    const fork = this.common.getHardforkBy({ blockNumber: number, timestamp })
    let c = this.byFork.get(fork)
    if (c === undefined) {
      c = this.common.copy()
      c.setHardfork(fork)
      this.byFork.set(fork, c)
    }
    return c
  }
}
