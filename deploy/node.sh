#!/bin/sh
# Starts the cairn node NODE_NAME of the compose network from the datadir init.sh prepared for it, pointed at the
# network's bootnode; a sealer (NODE_ROLE=sealer) also unlocks the key init.sh made for it. Extra flags pass through.
set -eu

NETWORK_DIR=${NETWORK_DIR:-/network}
dir="$NETWORK_DIR/$NODE_NAME"
set -- --datadir "$dir" --bootnodes "$(cat "$NETWORK_DIR/bootnodes")" "$@"
if [ "${NODE_ROLE:-worker}" = sealer ]; then
  set -- "$@" --mine --unlock "$(cat "$dir/address")" --password "$dir/password.txt"
fi
exec node --max-old-space-size=1536 bin/cairn.ts "$@"
