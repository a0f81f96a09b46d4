#!/bin/sh
# The compose network's one-off setup, run by the `init` service into the shared volume: a fresh key per sealer
# (light scrypt, a random password file beside it), a genesis naming those sealers, every node's initialised
# datadir, and the bootnode's key with the multiaddr nodes dial (NETWORK_DIR/bootnodes). A volume set up already
# is left alone, so `docker compose up` again continues the same chain. Nothing here is ever committed.
set -eu

NETWORK_DIR=${NETWORK_DIR:-/network}
SEALERS=${SEALERS:-sealer1 sealer2 sealer3}
WORKERS=${WORKERS:-worker}
CHAIN_ID=${CHAIN_ID:-1337}
PERIOD=${PERIOD:-2}
# where the nodes reach the bootnode (its peer id is appended)
BOOTNODE_ADDR=${BOOTNODE_ADDR:-/dns4/bootnode/tcp/30301}
# the 10 development accounts of the test mnemonic, 10,000 ETH each: public keys, for a test network only
ALLOC=${ALLOC:-0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266=10000000000000000000000,0x70997970C51812dc3A010C7d01b50e0d17dc79C8=10000000000000000000000,0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC=10000000000000000000000,0x90F79bf6EB2c4f870365E785982E1f101E93b906=10000000000000000000000,0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65=10000000000000000000000,0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc=10000000000000000000000,0x976EA74026E726554dB657fA54763abd0C3a0aa9=10000000000000000000000,0x14dC79964da2C08b23698B3D3cc7Ca32193d9955=10000000000000000000000,0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f=10000000000000000000000,0xa0Ee7A142d267C1f36714E4a8F75612F20a79720=10000000000000000000000}

cairn() { node bin/cairn.ts "$@"; }

if [ -f "$NETWORK_DIR/genesis.json" ]; then
  echo "init: $NETWORK_DIR is set up already, nothing to do"
  exit 0
fi

new_sealer() {
  dir="$NETWORK_DIR/$1"
  # left by an init that did not finish: no network runs on it yet
  rm -rf "$dir"
  mkdir -p "$dir"
  (umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$dir/password.txt")
  cairn account new --datadir "$dir" --lightkdf --password "$dir/password.txt" | sed -n 's/^Public address of the key: *//p' > "$dir/address"
  echo "init: sealer $1 is $(cat "$dir/address")"
}

# each step runs for all nodes at once: most of a cairn command's time is starting up
for name in $SEALERS; do new_sealer "$name" & done
wait
signers=""
for name in $SEALERS; do
  address=$(cat "$NETWORK_DIR/$name/address")
  [ -n "$address" ] || { echo "init: no key for $name" >&2; exit 1; }
  signers="$signers${signers:+,}$address"
done

# written under a temporary name and moved last: an init that did not finish starts over next time
cairn genesis new --chain-id "$CHAIN_ID" --period "$PERIOD" --signer "$signers" --alloc "$ALLOC" --out "$NETWORK_DIR/genesis.json.tmp"
pids=""
for name in $SEALERS $WORKERS; do
  rm -rf "$NETWORK_DIR/$name/chaindata"
  cairn init --datadir "$NETWORK_DIR/$name" "$NETWORK_DIR/genesis.json.tmp" &
  pids="$pids $!"
done
mkdir -p "$NETWORK_DIR/bootnode"
rm -f "$NETWORK_DIR/bootnode/nodekey"
cairn key generate --out "$NETWORK_DIR/bootnode/nodekey" > "$NETWORK_DIR/bootnode/peer.txt" &
pids="$pids $!"
# waiting for each job by its id fails the script (set -e) when that job failed
for pid in $pids; do wait "$pid"; done
peer=$(sed -n 's/^Peer ID: //p' "$NETWORK_DIR/bootnode/peer.txt")
echo "$BOOTNODE_ADDR/p2p/$peer" > "$NETWORK_DIR/bootnodes"
mv "$NETWORK_DIR/genesis.json.tmp" "$NETWORK_DIR/genesis.json"
echo "init: network ready in $NETWORK_DIR (bootnode $BOOTNODE_ADDR/p2p/$peer)"
