import { YamuxStream } from '@chainsafe/libp2p-yamux/stream'

/**
 * @chainsafe/libp2p-yamux (8.0.x) answers every data frame it receives with a window update frame, each encrypted and
 * written on its own, and each waking the peer: 4.9 % of a devnet sealer's CPU under load went to sending them. Go's
 * yamux sends an update only once half the receive window is used, or when a flag must go out; this gives the JS
 * streams that rule. The library's own update (its window growth, its flags) runs whenever one is due. Should a
 * later version rename these fields, the comparison is false and every update goes out as before.
 */
interface WindowState {
  state: number
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate(): void
}

const ESTABLISHED = 3 // StreamState.Established: no SYN or ACK flag to send with the update

let installed = false

export function installYamuxHalfWindowUpdates(): void {
  if (installed) return
  installed = true
  const proto = YamuxStream.prototype as unknown as WindowState
  const everyFrame = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowState) {
    if (this.state === ESTABLISHED && this.recvWindow - this.recvWindowCapacity < this.recvWindow / 2) return
    everyFrame.call(this)
  }
}
